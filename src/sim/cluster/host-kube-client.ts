// The host's client of a run's Kubernetes API, for vpcsim's own commands (apply, delete, the
// demo): HTTPS over the run's kube.sock with the admin kubeconfig's token and the run's CA, JSON
// in and out, Kubernetes' Status errors as exceptions. Small on purpose: a CLI command should not
// pay client-node's start-up for a few requests.

import { request } from "node:https";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { RunPaths } from "../run-dir.ts";

export class HostKubeError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export interface HostKubeClientOptions {
  socketPath: string;
  token: string;
  caPem: string;
}

export class HostKubeClient {
  private readonly options: HostKubeClientOptions;

  constructor(options: HostKubeClientOptions) {
    this.options = options;
  }

  /** The run's admin client: kube.sock, the admin kubeconfig's token and CA. */
  static forRun(paths: RunPaths): HostKubeClient {
    let text: string;
    try {
      text = readFileSync(paths.kubeconfig, "utf8");
    } catch {
      throw new Error(`run '${paths.name}' has no kubeconfig (${paths.kubeconfig}); bring it up again with vpcsim up`);
    }
    const config = parseYaml(text) as { users?: { user?: { token?: string } }[]; clusters?: { cluster?: { "certificate-authority-data"?: string } }[] };
    const token = config.users?.[0]?.user?.token;
    const ca = config.clusters?.[0]?.cluster?.["certificate-authority-data"];
    if (!token || !ca) throw new Error(`${paths.kubeconfig} has no token or CA`);
    return new HostKubeClient({ socketPath: paths.kubeSocket, token, caPem: Buffer.from(ca, "base64").toString("utf8") });
  }

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.options.socketPath,
          path,
          method,
          ca: this.options.caPem,
          servername: "kubernetes",
          headers: {
            authorization: `Bearer ${this.options.token}`,
            accept: "application/json",
            ...(payload !== undefined ? { "content-type": contentType, "content-length": Buffer.byteLength(payload) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let value: unknown;
            try {
              value = text ? JSON.parse(text) : {};
            } catch {
              value = { message: text };
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) {
              const s = value as { message?: string; reason?: string };
              reject(new HostKubeError(status, s.reason ?? "", s.message ?? `HTTP ${status}`));
            } else resolve(value as T);
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer from the Kubernetes API within 30 s`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
}
