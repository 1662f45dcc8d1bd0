// Waiting for a newly attached ENI (and its new addresses) to show in IMDS, which trails EC2. The
// reference polls with 100 ms doubling to 60 s, 12 tries; an ENI usually shows within a few seconds,
// so we poll every 100 ms for the first 2 s and then back off gently (×1.5 to 2 s), for at most 60 s
// in all: a typical attach is seen ~10x sooner than at the reference's later steps, and IMDS sees at
// most ~10 small requests a second.

import { realScheduler, type Clock } from "../time/scheduler.ts";
import { AwsApiError, CODES } from "./errors.ts";
import type { Imds, ImdsEni } from "./imds.ts";

export interface WaitForEniOptions {
  clock?: Clock;
  timeoutMs?: number; // default 60 s
  fastPhaseMs?: number; // default 2 s of polling at firstDelayMs
  firstDelayMs?: number; // default 100 ms
  maxDelayMs?: number; // default 2 s
  random?: () => number;
  primaryMac?: string; // for the device-number override; default: not the primary
}

/**
 * Polls IMDS until the ENI with `mac` shows with what was asked for: `wantedIps` is a number of
 * secondary addresses (beyond the primary) or the exact addresses that must be there; likewise
 * `wantedPrefixes` for /28 prefixes. Returns what IMDS shows. When time runs out with the ENI shown
 * but short of addresses, returns what it has (as the reference does); with no ENI at all, throws
 * EniNotInImds.
 */
export async function waitForEniInImds(
  imds: Pick<Imds, "macs" | "eni">,
  mac: string,
  wantedIps: number | readonly string[] = 0,
  wantedPrefixes: number | readonly string[] = 0,
  opts: WaitForEniOptions = {},
): Promise<ImdsEni> {
  const clock = opts.clock ?? realScheduler;
  const random = opts.random ?? Math.random;
  const start = clock.now();
  const deadline = start + (opts.timeoutMs ?? 60_000);
  const fastUntil = start + (opts.fastPhaseMs ?? 2_000);
  const first = opts.firstDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 2_000;
  const want = mac.toLowerCase();
  let delay = first;
  let last: ImdsEni | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      const macs = await imds.macs();
      const found = macs.find((m) => m.toLowerCase() === want);
      if (found !== undefined) {
        last = await imds.eni(found, opts.primaryMac ?? "");
        if (satisfied(last.ipv4s.slice(1), wantedIps) && satisfied(last.ipv4Prefixes, wantedPrefixes)) return last;
      }
    } catch (err) {
      // IMDS hiccups (or the ENI vanishing between list and read) are retried like absence.
      lastError = err;
    }
    const now = clock.now();
    if (now >= deadline) break;
    if (now >= fastUntil) delay = Math.min(max, delay * 1.5);
    await clock.sleep(Math.min(deadline - now, delay * (1 + 0.15 * random())));
  }
  if (last !== undefined) return last;
  const why = lastError === undefined ? "" : ` (last IMDS error: ${(lastError as Error).message})`;
  throw new AwsApiError({ code: CODES.eniNotInImds, api: "", fn: "waitForEniInImds", message: `ENI ${mac} did not show in IMDS within ${deadline - start} ms${why}` });
}

function satisfied(have: readonly string[], wanted: number | readonly string[]): boolean {
  if (typeof wanted === "number") return have.length >= wanted;
  const set = new Set(have);
  return wanted.every((w) => set.has(w));
}
