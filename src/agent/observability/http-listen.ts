// Binding the introspection and metrics servers to the config's listen addresses: HOST:PORT (an empty
// host is every interface, as Go's ":61678"), or a unix socket path as aws-node allows for introspection.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { listenOnUnixSocket } from "../unix-socket.ts";

/** Same shape as the config's BindAddress. */
export type BindAddress = { readonly kind: "tcp"; readonly host: string; readonly port: number } | { readonly kind: "unix"; readonly path: string };

export interface HttpEndpoint {
  /** Where it listens: "127.0.0.1:61679", "[::1]:8080", ":61678" or "unix:/path". */
  readonly address: string;
  /** The bound TCP port (useful with port 0), or null on a unix socket. */
  readonly port: number | null;
  close(): Promise<void>;
}

export async function listenHttp(server: Server, bind: BindAddress, unixMode = 0o600): Promise<HttpEndpoint> {
  if (bind.kind === "unix") {
    const listener = await listenOnUnixSocket(server, bind.path, unixMode);
    return {
      address: `unix:${bind.path}`,
      port: null,
      close: async () => {
        await closeServer(server);
        await listener.unlinkIfOurs();
      },
    };
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    const ready = () => {
      server.off("error", onError);
      resolve();
    };
    if (bind.host === "") server.listen(bind.port, ready);
    else server.listen(bind.port, bind.host, ready);
  });
  const port = (server.address() as AddressInfo).port;
  const host = bind.host.includes(":") ? `[${bind.host}]` : bind.host;
  return { address: `${host}:${port}`, port, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
