// Talks to a run's daemon over its admin socket (HTTP + JSON on a unix socket: reachable from any
// namespace, and guarded by the file's permissions).

import { request } from "node:http";

export class AdminError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "AdminError";
    this.status = status;
  }
}

export function adminRequest<T = unknown>(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown;
          try {
            parsed = text === "" ? undefined : JSON.parse(text);
          } catch {
            return reject(new AdminError(res.statusCode ?? 500, `the daemon answered with something that is not JSON: ${text.slice(0, 200)}`));
          }
          if ((res.statusCode ?? 500) >= 400) {
            const message = (parsed as { error?: string } | undefined)?.error ?? `HTTP ${res.statusCode}`;
            return reject(new AdminError(res.statusCode ?? 500, message));
          }
          resolve(parsed as T);
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`the daemon did not answer ${method} ${path} within ${timeoutMs / 1000}s`)));
    req.on("error", reject);
    req.end(payload);
  });
}
