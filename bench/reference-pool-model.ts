// A small, faithful model of the reference's (aws-node ipamd's) warm pool in secondary-IP mode with
// WARM_ENI_TARGET, driven by a pod workload in virtual time, counting the EC2 calls it would make.
// Source: /work/shared/reference/vpc-cni-reference.md §3.2-3.8, §4.1, §4.3.
//
// What it models:
// - one pool tick every 5 s (ipPoolMonitorInterval; the loop sleeps 2.5 s before updateIPPoolIfRequired,
//   so ticks fall at 2.5 s + 5k s) doing, as updateIPPoolIfRequired does:
//     if poolTooLow: increase        (fill ONE existing ENI with one AssignPrivateIpAddresses, or, when
//                                     none has room, create ONE ENI carrying maxIPsPerENI addresses)
//     else if poolTooHigh: decrease  (never without WARM_IP/MINIMUM_IP targets, §3.7)
//     if shouldRemoveExtraENIs: free at most ONE ENI
// - WARM_ENI_TARGET semantics (§3.5): too low iff available < WARM_ENI_TARGET × maxIPsPerENI (or 0 and
//   nothing available), never once total ≥ maxPods; available = total − assigned, so addresses in
//   cooldown COUNT as available (§3.3) although a pod cannot get one (§3.8: /32s in cooldown are skipped);
// - a pod ADD that finds no usable address fails at once (the reference never waits for growth) and
//   kubelet retries it later (addRetryMs);
// - ENI, CIDR and address choice in Go map order, i.e. effectively random (seeded here, so runs repeat);
// - the ENI free rule (§3.7): shouldRemoveExtraENIs iff available ≥ (WARM_ENI_TARGET+1) × maxIPsPerENI;
//   the ENI freed is the first (map order) that is not primary, is ≥ minENILifeTime old, has no address
//   in cooldown and none assigned.
// EC2 calls per action (§4.1, §4.3): Assign = AssignPrivateIpAddresses; a new ENI = [DescribeSubnets when
// subnet discovery is on] + CreateNetworkInterface + DescribeInstances (free device index) +
// AttachNetworkInterface + ModifyNetworkInterfaceAttribute (DeleteOnTermination) + [DescribeSubnets again in
// setupENI's IsSubnetExcluded when discovery is on]; freeing = DescribeNetworkInterfaces (attachment id) +
// DetachNetworkInterface + DeleteNetworkInterface. EC2 answers at once and never fails (vpcsim's instant
// profile). The 60 s reconcile reads IMDS only and calls EC2 only when IMDS and the datastore differ, which
// they never do here (no IMDS lag), so it makes no call. Start-up is outside the window for both sides.

export interface PodEvent {
  /** ms from the start of the workload */
  at: number;
  pod: string;
  kind: "start" | "stop";
}

export interface ReferenceModelConfig {
  /** ENIs of the instance type (MAX_ENI unset). */
  enis: number;
  /** IPv4 addresses per ENI, the ENI's primary included. */
  ipv4PerEni: number;
  maxPods: number;
  warmEniTarget: number;
  ipCooldownMs: number;
  /** minENILifeTime, 60 s in the reference. */
  minEniAgeMs?: number;
  /** ENABLE_SUBNET_DISCOVERY (default true in the reference). */
  subnetDiscovery?: boolean;
  /** When kubelet retries a failed ADD. */
  addRetryMs?: number;
  /** Addresses on ENIs at the start (the pool after start-up), primary first. */
  initialEnis: number[];
  /** The workload's length: events after it are ignored, ticks run until it. */
  horizonMs: number;
  seed?: number;
}

export interface ReferenceModelResult {
  calls: Record<string, number>;
  totalCalls: number;
  mutatingCalls: number;
  podStarts: number;
  /** ADDs answered with an error (each retried later by kubelet). */
  failedAdds: number;
  /** Pods that never got an address before their stop or the horizon. */
  podsNeverStarted: number;
  /** Time from a pod's first ADD to the address, ms. */
  startDelayMs: { p50: number; p95: number; max: number };
  enisCreated: number;
  enisFreed: number;
  finalEnis: number;
}

interface Address {
  pod: string | undefined;
  releasedAt: number | undefined;
}

interface Eni {
  id: number;
  primary: boolean;
  createdAt: number;
  addresses: Address[];
}

const TICK_MS = 5_000;
const TICK_PHASE_MS = 2_500;

export function simulateReferencePool(cfg: ReferenceModelConfig, events: readonly PodEvent[]): ReferenceModelResult {
  const maxIps = cfg.ipv4PerEni - 1;
  const minAge = cfg.minEniAgeMs ?? 60_000;
  const discovery = cfg.subnetDiscovery ?? true;
  const retryMs = cfg.addRetryMs ?? 2_000;
  const random = mulberry32(cfg.seed ?? 1);
  const calls: Record<string, number> = {};
  const call = (action: string) => (calls[action] = (calls[action] ?? 0) + 1);

  let nextEniId = 0;
  const enis: Eni[] = cfg.initialEnis.map((n, i) => ({ id: nextEniId++, primary: i === 0, createdAt: -Infinity, addresses: fresh(n) }));
  let enisCreated = 0;
  let enisFreed = 0;
  let failedAdds = 0;

  const podAt = new Map<string, { eni: Eni; a: Address }>();
  const firstAdd = new Map<string, number>();
  const stopped = new Set<string>();
  const delays: number[] = [];

  // Discrete events in time order: workload events, kubelet retries, and ticks.
  type Ev = { at: number; order: number; run: () => void };
  const queue: Ev[] = [];
  let seq = 0;
  const push = (at: number, run: () => void) => {
    if (at > cfg.horizonMs) return;
    queue.push({ at, order: seq++, run });
  };

  const stats = (now: number) => {
    let total = 0;
    let assigned = 0;
    let cooldown = 0;
    for (const e of enis) {
      for (const a of e.addresses) {
        total++;
        if (a.pod !== undefined) assigned++;
        else if (inCooldown(a, now)) cooldown++;
      }
    }
    return { total, assigned, cooldown, available: total - assigned };
  };
  const inCooldown = (a: Address, now: number) => a.releasedAt !== undefined && now - a.releasedAt < cfg.ipCooldownMs;

  const add = (pod: string, now: number) => {
    if (stopped.has(pod) || podAt.has(pod)) return;
    if (!firstAdd.has(pod)) firstAdd.set(pod, now);
    // Map order: ENIs and their addresses in a random order.
    for (const e of shuffled(enis, random)) {
      for (const a of shuffled(e.addresses, random)) {
        if (a.pod === undefined && !inCooldown(a, now)) {
          a.pod = pod;
          a.releasedAt = undefined;
          podAt.set(pod, { eni: e, a });
          delays.push(now - firstAdd.get(pod)!);
          return;
        }
      }
    }
    failedAdds++;
    push(now + retryMs, () => add(pod, now + retryMs));
  };

  const del = (pod: string, now: number) => {
    stopped.add(pod);
    const held = podAt.get(pod);
    if (!held) return;
    held.a.pod = undefined;
    held.a.releasedAt = now;
    podAt.delete(pod);
  };

  const tick = (now: number) => {
    const s = stats(now);
    const tooLow = s.total >= cfg.maxPods ? false : s.available < cfg.warmEniTarget * maxIps || (cfg.warmEniTarget === 0 && s.available === 0);
    if (tooLow) {
      // tryAssignIPs: the first ENI (map order) with room gets min(room, maxIPsPerENI) addresses.
      const withRoom = shuffled(enis, random).find((e) => e.addresses.length < maxIps);
      if (withRoom) {
        call("AssignPrivateIpAddresses");
        withRoom.addresses.push(...fresh(maxIps - withRoom.addresses.length));
      } else if (enis.length < cfg.enis) {
        if (discovery) call("DescribeSubnets");
        call("CreateNetworkInterface");
        call("DescribeInstances");
        call("AttachNetworkInterface");
        call("ModifyNetworkInterfaceAttribute");
        if (discovery) call("DescribeSubnets");
        enis.push({ id: nextEniId++, primary: false, createdAt: now, addresses: fresh(maxIps) });
        enisCreated++;
      }
    }
    // isDatastorePoolTooHigh is never true without WARM_IP/MINIMUM_IP targets: no decrease.
    const after = stats(now);
    if (after.available >= (cfg.warmEniTarget + 1) * maxIps) {
      const victim = shuffled(enis, random).find(
        (e) => !e.primary && now - e.createdAt >= minAge && e.addresses.every((a) => a.pod === undefined && !inCooldown(a, now)),
      );
      if (victim) {
        call("DescribeNetworkInterfaces");
        call("DetachNetworkInterface");
        call("DeleteNetworkInterface");
        enis.splice(enis.indexOf(victim), 1);
        enisFreed++;
      }
    }
    push(now + TICK_MS, () => tick(now + TICK_MS));
  };

  for (const e of events) push(e.at, () => (e.kind === "start" ? add(e.pod, e.at) : del(e.pod, e.at)));
  push(TICK_PHASE_MS, () => tick(TICK_PHASE_MS));

  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.order - b.order);
    queue.shift()!.run();
  }

  const starts = new Set(events.filter((e) => e.kind === "start").map((e) => e.pod));
  const mutating = ["AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "CreateNetworkInterface", "AttachNetworkInterface", "ModifyNetworkInterfaceAttribute", "DetachNetworkInterface", "DeleteNetworkInterface", "CreateTags"];
  const sorted = [...delays].sort((a, b) => a - b);
  const pct = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  return {
    calls,
    totalCalls: Object.values(calls).reduce((a, b) => a + b, 0),
    mutatingCalls: mutating.reduce((n, a) => n + (calls[a] ?? 0), 0),
    podStarts: starts.size,
    failedAdds,
    podsNeverStarted: starts.size - delays.length,
    startDelayMs: { p50: pct(0.5), p95: pct(0.95), max: sorted.at(-1) ?? 0 },
    enisCreated,
    enisFreed,
    finalEnis: enis.length,
  };
}

function fresh(n: number): Address[] {
  return Array.from({ length: n }, () => ({ pod: undefined, releasedAt: undefined }));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A small seeded PRNG, so the model's "map order" repeats from run to run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
