// aws-node's start-up rule for the API server: with security groups for pods, custom networking or pod
// IP annotation the agent cannot do its job without it, so it waits (polling /version every 2 s, 5 s per
// request) for as long as it takes; otherwise it gives it 30 s (polling every 5 s), then starts without
// it and keeps checking every 5 s in the background, so a node can come up while the control plane is
// away and its informers start once it answers.

import type { KubeClient } from "./client.ts";
import type { InformerLog } from "./informer.ts";

export interface ApiServerWaitPolicy {
  /** true: wait forever (ENABLE_POD_ENI, custom networking, ANNOTATE_POD_IP). */
  readonly required: boolean;
  readonly pollMs: number;
  /** Without `required`: how long start-up waits before going on without the API server. */
  readonly deadlineMs: number;
}

export const REQUIRED_POLICY: ApiServerWaitPolicy = Object.freeze({ required: true, pollMs: 2_000, deadlineMs: Infinity });
export const OPTIONAL_POLICY: ApiServerWaitPolicy = Object.freeze({ required: false, pollMs: 5_000, deadlineMs: 30_000 });
/** The background re-check's interval once start-up went on without the API server. */
export const RECHECK_MS = 5_000;

export type ApiServerWaitResult = { readonly reachable: true; readonly version: string } | { readonly reachable: false; readonly lastError: string };

export interface WaitDeps {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: InformerLog;
  /** Stops waiting (SIGTERM): the result is then unreachable. */
  readonly signal?: AbortSignal;
}

/** Polls /version until it answers, or (not required) until the deadline. */
export async function waitForApiServer(client: Pick<KubeClient, "version">, policy: ApiServerWaitPolicy, deps: WaitDeps): Promise<ApiServerWaitResult> {
  const started = deps.now();
  let lastError = "";
  for (let attempt = 1; ; attempt++) {
    if (deps.signal?.aborted) return { reachable: false, lastError: lastError || "stopped" };
    try {
      const v = await client.version();
      if (attempt > 1) deps.log("info", `the API server answers (${v.gitVersion}) after ${Math.round((deps.now() - started) / 1000)} s`);
      return { reachable: true, version: v.gitVersion };
    } catch (err) {
      lastError = (err as Error).message;
      if (attempt === 1) {
        deps.log("warn", policy.required
          ? `waiting for the API server (needed with security groups for pods, custom networking or ANNOTATE_POD_IP): ${lastError}`
          : `the API server does not answer; start-up waits ${policy.deadlineMs / 1000} s for it, then goes on without it: ${lastError}`);
      }
    }
    if (!policy.required && deps.now() - started + policy.pollMs > policy.deadlineMs) return { reachable: false, lastError };
    await deps.sleep(policy.pollMs);
  }
}

/**
 * After start-up went on without the API server: checks every RECHECK_MS until it answers, then calls
 * `onReachable` once. Returns a stop function.
 */
export function recheckApiServer(client: Pick<KubeClient, "version">, onReachable: (version: string) => void, deps: Omit<WaitDeps, "signal">, intervalMs = RECHECK_MS): () => void {
  const controller = new AbortController();
  void (async () => {
    while (!controller.signal.aborted) {
      await deps.sleep(intervalMs);
      if (controller.signal.aborted) return;
      try {
        const v = await client.version();
        if (controller.signal.aborted) return;
        deps.log("info", `the API server answers (${v.gitVersion}): starting what needs it`);
        onReachable(v.gitVersion);
        return;
      } catch {
        // Still away: the start-up already said so once.
      }
    }
  })();
  return () => controller.abort();
}
