// The Kubernetes API server as part of a vpcsim run, for the daemon: made while the fabric comes
// up, then serving HTTPS on the reserved service address (192.0.2.20:443) for the instances and
// on the run's unix socket (kube.sock, 0600) for the host, whose loopback forwarder and admin
// kubeconfig the CLI sets up.

import { chmodSync } from "node:fs";
import { join } from "node:path";
import type { KubeApiServer } from "./server.ts";

export const KUBE_API_PORT = 443;

export interface KubeService {
  server: KubeApiServer;
  /** Writes RUN/kubeconfig (kubernetes-admin) for this server URL; returns its path. */
  writeAdminKubeconfig(serverUrl: string): string;
  close(): Promise<void>;
}

/** Starts making the server (CA, certificate, store, bootstrap objects); listen once the fabric is up. */
export function prepareKubeService(options: { runDir: string; runName: string; serviceAddress: string; log: (level: "info" | "error", message: string) => void }): {
  ready: Promise<KubeApiServer>;
  listen(server: KubeApiServer): Promise<KubeService>;
} {
  // Loaded here, not imported statically: its modules load while the fabric comes up.
  const ready = import("./server.ts").then(({ KubeApiServer }) =>
    KubeApiServer.start({
      dir: join(options.runDir, "kube"),
      clusterName: `vpcsim-${options.runName}`,
      ips: [options.serviceAddress],
      serverAddress: `${options.serviceAddress}:${KUBE_API_PORT}`,
      advertise: { ip: options.serviceAddress, port: KUBE_API_PORT },
      log: options.log,
    }),
  );
  // Awaited after the fabric is up; until then a failure must not be an unhandled rejection.
  ready.catch(() => {});
  return {
    ready,
    async listen(server) {
      const socket = join(options.runDir, "kube.sock");
      await server.listen({ host: options.serviceAddress, port: KUBE_API_PORT });
      await server.listen({ path: socket });
      chmodSync(socket, 0o600);
      return {
        server,
        writeAdminKubeconfig(serverUrl) {
          const path = join(options.runDir, "kubeconfig");
          server.writeKubeconfig(path, serverUrl, "kubernetes-admin", server.adminToken);
          return path;
        },
        close: () => server.close(),
      };
    },
  };
}
