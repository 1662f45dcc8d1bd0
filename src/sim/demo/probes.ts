// How the demo looks from inside the cluster: HTTP requests made from a pod's network namespace
// (as `kubectl exec` into it would, with busybox's wget) or from a node's, and where those
// namespaces are: a pod's is its sandbox's, which the node's runtime records under
// nodes/<instance>/var/lib/vpcsim-runtime/sandboxes/ (what crictl inspectp would show).

import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const BUSYBOX = "/bin/busybox";
export const PROBE_TIMEOUT_MS = 5000;

export interface ProbeResult {
  ok: boolean;
  body: string;
  error?: string;
}

/** An HTTP GET from inside a network namespace: the body, or why it failed. */
export type Prober = (netns: string, url: string) => Promise<ProbeResult>;

export const wgetInNetns: Prober = (netns, url) =>
  new Promise((resolve) => {
    // busybox's own -T (timeout) is not used: some builds crash on it; the process is killed instead.
    execFile("ip", ["netns", "exec", netns, BUSYBOX, "wget", "-qO-", url], { timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        resolve({ ok: false, body: stdout, error: e.killed ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : (stderr.trim() || e.message).split("\n")[0]! });
      } else resolve({ ok: true, body: stdout });
    });
  });

/** The network namespace of a pod's ready sandbox on its node, by the pod's uid. */
export function podNetns(runDir: string, instanceName: string, podUid: string): string | undefined {
  const dir = join(runDir, "nodes", instanceName, "var", "lib", "vpcsim-runtime", "sandboxes");
  if (!existsSync(dir)) return undefined;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".json")) continue;
    try {
      const s = JSON.parse(readFileSync(join(dir, file), "utf8")) as { config?: { uid?: string }; netns?: string; state?: string };
      if (s.config?.uid === podUid && s.state === "ready" && s.netns) return s.netns;
    } catch {
      // a sandbox being written: not this one
    }
  }
  return undefined;
}
