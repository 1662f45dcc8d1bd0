// Listening on a unix socket path without ever taking one from a live process, and without a moment in
// which the socket exists with the umask's looser mode.
//
// aws-node removes whatever is at its socket path before binding, so a second agent started by mistake
// silently steals the first one's plugin traffic. Here a socket is removed only when nothing answers on
// it (the agent that made it is gone); anything else at the path is refused with a message.

import { connect, type Server } from "node:net";
import { chmod, link, lstat, mkdir, mkdtemp, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

// sun_path is 108 bytes on Linux, including the terminating NUL.
const SUN_PATH_MAX = 107;
const PROBE_TIMEOUT_MS = 1000;

export interface UnixListener {
  readonly path: string;
  /** Removes the socket file if it is still the one this listener made (never a successor's). */
  unlinkIfOurs(): Promise<void>;
}

export class SocketInUseError extends Error {
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`refusing to listen on ${path}: ${detail}`);
    this.name = "SocketInUseError";
    this.path = path;
  }
}

/** What is at `path`: nothing, a socket someone answers on, a dead socket, or something else. */
export async function probeSocketPath(path: string): Promise<"absent" | "live" | "stale" | "not-a-socket"> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "absent";
    throw error;
  }
  if (!isSocket) return "not-a-socket";
  return new Promise((resolve) => {
    const socket = connect({ path });
    const timer = setTimeout(() => finish("live"), PROBE_TIMEOUT_MS); // slow to accept is still alive
    function finish(result: "live" | "stale" | "absent"): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.once("connect", () => finish("live"));
    socket.once("error", (error) => {
      const code = errorCode(error);
      // Only "refused" proves nobody is listening; on anything else (EACCES, EAGAIN) assume somebody is.
      finish(code === "ECONNREFUSED" ? "stale" : code === "ENOENT" ? "absent" : "live");
    });
  });
}

/**
 * Binds `server` to `path` with file mode `mode`. Creates the parent directory (0755), replaces a stale
 * socket, refuses a live one or a non-socket (SocketInUseError). The socket is bound inside a private 0700
 * directory, given its mode there and then hard-linked into place, so it is never reachable with a wider
 * mode and a socket that appeared meanwhile is not overwritten.
 */
export async function listenOnUnixSocket(server: Server, path: string, mode: number): Promise<UnixListener> {
  if (Buffer.byteLength(path) > SUN_PATH_MAX) {
    throw new Error(`socket path ${path} is ${Buffer.byteLength(path)} bytes long; unix sockets allow at most ${SUN_PATH_MAX}`);
  }
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });

  const state = await probeSocketPath(path);
  if (state === "live") throw new SocketInUseError(path, "another process is serving on this socket (is another agent running?)");
  if (state === "not-a-socket") throw new SocketInUseError(path, "it exists and is not a socket; remove it or choose another path");
  if (state === "stale") await unlink(path).catch((error: unknown) => (errorCode(error) === "ENOENT" ? undefined : Promise.reject(error)));

  const privateDir = await mkdtemp(join(dir, ".sock-"));
  const privatePath = join(privateDir, "s");
  try {
    if (Buffer.byteLength(privatePath) <= SUN_PATH_MAX) {
      await listen(server, privatePath);
      await chmod(privatePath, mode);
      try {
        await link(privatePath, path);
      } catch (error) {
        await closeServer(server);
        if (errorCode(error) === "EEXIST") throw new SocketInUseError(path, "another process created a socket there while this one started");
        throw error;
      }
      await unlink(privatePath);
    } else {
      // No room for the private directory's name: bind in place; the mode is set right after.
      await listen(server, path);
      await chmod(path, mode);
    }
  } finally {
    await rmdir(privateDir).catch(() => undefined);
  }
  const ino = (await stat(path)).ino;
  return {
    path,
    async unlinkIfOurs() {
      try {
        if ((await stat(path)).ino === ino) await unlink(path);
      } catch (error) {
        if (errorCode(error) !== "ENOENT") throw error;
      }
    },
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(path, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
