// A vpcsim Kubernetes API server for tests: HTTPS on a free loopback port with a fresh CA in a
// temporary directory, and ready-made clients (client-node's KubeConfig, kubectl with a
// kubeconfig file) for the admin or any identity. No root needed.

import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeApiServer, type KubeApiServerOptions } from "./server.ts";
import type { UserInfo } from "./auth/user.ts";

export const REPO = join(import.meta.dirname, "..", "..", "..");
export const DEBIAN_KUBECTL = join(REPO, ".tools", "kubernetes-client", "usr", "bin", "kubectl");

export interface TestServer {
  server: KubeApiServer;
  url: string;
  dir: string;
  /** client-node configuration for the admin (system:masters). */
  admin: KubeConfig;
  adminKubeconfigPath: string;
  /** A KubeConfig and kubeconfig file for another identity. */
  configFor(user: UserInfo, name?: string): { config: KubeConfig; path: string; token: string };
  close(): Promise<void>;
}

export async function startTestServer(options: Partial<KubeApiServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "vpcsim-kube-"));
  const server = await KubeApiServer.start({ dir: join(dir, "pki"), clusterName: "test", ...options });
  await server.listen({ host: "127.0.0.1", port: 0 });
  const url = `https://${server.addresses[0]}`;
  const write = (name: string, userName: string, token: string) => {
    const path = join(dir, `${name}.kubeconfig`);
    writeFileSync(path, server.kubeconfig(url, userName, token), { mode: 0o600 });
    const config = new KubeConfig();
    config.loadFromFile(path);
    return { config, path };
  };
  const admin = write("admin", "kubernetes-admin", server.adminToken);
  let counter = 0;
  return {
    server,
    url,
    dir,
    admin: admin.config,
    adminKubeconfigPath: admin.path,
    configFor(user, name) {
      const token = server.issueToken(user);
      return { ...write(name ?? `user${++counter}`, user.username, token), token };
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The kubectls to test with: Debian's 1.20 and whatever `kubectl` is first on PATH (if it differs). */
export function kubectls(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  if (existsSync(DEBIAN_KUBECTL)) out.push({ name: "debian-1.20", path: DEBIAN_KUBECTL });
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, "kubectl");
    if (dir && existsSync(candidate)) {
      out.push({ name: "path", path: candidate });
      break;
    }
  }
  return out;
}

export function kubectl(binary: string, kubeconfig: string, args: string[], input?: string, timeoutMs = 60_000): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      args,
      // KUBECONFIG, not --kubeconfig: a kubectl dispatcher (gcloud's) takes no flags before the command.
      { timeout: timeoutMs, env: kubectlEnv(kubeconfig) },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

export function kubectlEnv(kubeconfig: string): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(tmpdir(), `vpcsim-kubectl-cache-${process.pid}`) };
}

/** Waits until `check` returns a value other than undefined (tests never assert time). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
