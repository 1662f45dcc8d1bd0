// Runs the warm-pool policy against the node: it asks the (pure) planner what to do, performs the plan
// through a small cloud interface, and feeds the results into the datastore. Passes run on triggers,
// coalesced and spaced by a minimum interval (Cilium's model), plus a slow periodic tick for cooldowns
// expiring; never on a fixed 5 s poll like the reference.
//
// Allocation is where it beats the reference for pods: when the pool is empty, an ADD does not fail until
// the next tick; it counts itself as waiting (so the next plan covers it and every concurrent waiter with
// one EC2 request per ENI) and waits, bounded, for the growth it triggered.

import type { AssignResult, Datastore, DatastoreSnapshot, IPAMKey, PodMetadata, ReleaseResult } from "./datastore/datastore.ts";
import { DatastoreError } from "./datastore/datastore.ts";
import { isPlanEmpty, planPool, type AddressRequest, type PoolLimits, type PoolPlan, type PoolSnapshot, type PoolTargets } from "./pool/index.ts";
import type { Scheduler, Timer } from "../time/scheduler.ts";
import type { Log } from "../log/log.ts";

/** What the pool manager needs from EC2 and the node. Each call does the whole job or throws. */
export interface PoolCloud {
  /** AssignPrivateIpAddresses; returns the CIDRs added ("a.b.c.d/32" or "a.b.c.d/28"). */
  assign(eniId: string, request: AddressRequest): Promise<string[]>;
  /** A new ENI with these addresses, attached and ready on the node (the agent wires in host setup). */
  createEni(request: AddressRequest): Promise<CreatedEni>;
  /** UnassignPrivateIpAddresses for CIDRs the datastore has already dropped. */
  release(eniId: string, cidrs: readonly string[], prefixes: boolean): Promise<void>;
  /** Detach and delete (the agent wires in host teardown first). */
  freeEni(eniId: string): Promise<void>;
  /** While set, no growth is attempted (EC2 said the subnet is out of addresses). */
  growthPausedUntil(): number;
}

export interface CreatedEni {
  eniId: string;
  mac: string;
  deviceNumber: number;
  routeTableId: number;
  subnetId: string;
  subnetCidr: string;
  primaryIp: string;
  /** The CIDRs EC2 assigned with it ("a.b.c.d/32" or "/28"), the primary address not included. */
  cidrs: string[];
}

export interface PoolManagerOptions {
  datastore: Datastore;
  cloud: PoolCloud;
  targets: PoolTargets;
  limits: () => PoolLimits;
  /** The clock and the timers of every pass, wait and tick (virtual time in tests and the fleet benchmark). */
  scheduler: Scheduler;
  log: Log;
  /** Spacing between passes: bursts of triggers within it become one pass. */
  minIntervalMs?: number;
  /** A pass also runs this often, for cooldowns that expire and targets that drift. */
  tickMs?: number;
  /** Spacing between passes that give addresses back, against assign/unassign churn. */
  shrinkIntervalMs?: number;
  /** How long an allocation waits for growth when the pool is empty. */
  growthWaitMs?: number;
  onPlan?: (plan: PoolPlan) => void;
  onError?: (fn: string, err: unknown) => void;
}

/**
 * A release that failed in a way EC2 may have carried out anyway (an answer lost, then retries refused)
 * and whose outcome EC2 could not be asked about: the CIDRs stay out of the datastore rather than serve
 * addresses the ENI may no longer have; if EC2 still has them, the reconciler takes them back.
 */
export class ReleaseUnconfirmedError extends Error {
  override readonly name = "ReleaseUnconfirmedError";
}

export class NoAddressError extends Error {
  override name = "NoAddressError";
}

export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
}

interface Waiter {
  resolve: () => void;
}

export class PoolManager {
  readonly #o: Required<Omit<PoolManagerOptions, "onPlan" | "onError">> & Pick<PoolManagerOptions, "onPlan" | "onError">;
  #waiting = 0;
  #passRunning: Promise<void> | undefined;
  #passRequested = false;
  #timer: Timer | undefined;
  #tick: Timer | undefined;
  #lastPassAt = 0;
  #lastShrinkAt = 0;
  #stopped = false;
  #lastPlan: PoolPlan | undefined;
  #passWaiters: Waiter[] = [];
  #exclusive: Promise<void> | undefined;

  constructor(options: PoolManagerOptions) {
    this.#o = { minIntervalMs: 200, tickMs: 5_000, shrinkIntervalMs: 30_000, growthWaitMs: 20_000, ...options };
  }

  #now(): number {
    return this.#o.scheduler.now();
  }

  /** The targets every pass plans for. */
  get targets(): PoolTargets {
    return this.#o.targets;
  }

  get lastPlan(): PoolPlan | undefined {
    return this.#lastPlan;
  }

  get waiting(): number {
    return this.#waiting;
  }

  start(): void {
    this.#tick = this.#o.scheduler.every(this.#o.tickMs, () => this.trigger(), { unref: true });
    this.trigger();
  }

  /** Stops all EC2 mutations; allocations still served from what the pool holds. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.scheduler.cancel(this.#tick);
    this.#o.scheduler.cancel(this.#timer);
    await this.#passRunning;
    for (const w of this.#passWaiters.splice(0)) w.resolve();
  }

  /** Asks for a pass soon; many calls close together make one pass. */
  trigger(): void {
    if (this.#stopped) return;
    this.#passRequested = true;
    if (this.#passRunning || this.#timer || this.#exclusive) return;
    const wait = Math.max(0, this.#lastPassAt + this.#o.minIntervalMs - this.#now());
    this.#timer = this.#o.scheduler.after(wait, () => {
      this.#timer = undefined;
      // An exclusive section that began meanwhile triggers again when it ends; a pass started meanwhile
      // (runPassNow) triggers again when it ends. Two passes at once would plan from the same snapshot
      // and both grow (or shrink) the pool.
      if (!this.#exclusive && !this.#passRunning) this.#startPass();
    });
  }

  /**
   * Runs fn with no pool pass in flight and none starting until it is done, so work that compares the
   * datastore with EC2 (the reconciler) never sees a pass half-applied.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#passRunning || this.#exclusive) await (this.#passRunning ?? this.#exclusive);
    let done!: () => void;
    this.#exclusive = new Promise<void>((r) => (done = r));
    try {
      return await fn();
    } finally {
      this.#exclusive = undefined;
      done();
      if (this.#passRequested) this.trigger();
    }
  }

  /** A pass now (tests, start-up); resolves when it is done. */
  async runPassNow(): Promise<void> {
    while (this.#exclusive) await this.#exclusive;
    this.#passRequested = true;
    if (!this.#passRunning) this.#startPass();
    await this.#passRunning;
  }

  async allocate(key: IPAMKey, metadata: Partial<PodMetadata>, maxPods: number): Promise<AssignResult> {
    const ds = this.#o.datastore;
    if (!ds.lookup(key)) {
      const assigned = ds.stats().assignedIPs;
      if (assigned >= maxPods) throw new NoAddressError(`no address: the node already has ${assigned} pod addresses, its max pods (${maxPods})`);
    }
    const first = this.#tryAssign(key, metadata);
    if (first) {
      this.trigger(); // keep the warm pool topped up
      return first;
    }
    if (this.#stopped) throw new ShuttingDownError("no address available and the agent is shutting down");
    const deadline = this.#now() + this.#o.growthWaitMs;
    this.#waiting++;
    try {
      for (;;) {
        this.trigger();
        const got = await this.#nextPass(deadline);
        const assigned = this.#tryAssign(key, metadata);
        if (assigned) return assigned;
        const plan = this.#lastPlan;
        if (this.#stopped) throw new ShuttingDownError("no address available and the agent is shutting down");
        if (!got) throw new NoAddressError(`no address: the pool did not grow within ${this.#o.growthWaitMs / 1000} s (${plan?.reason ?? "no pool pass ran"})`);
        if (plan && plan.unmet > 0 && plan.assign.length === 0 && plan.createEnis.length === 0) {
          // The node cannot get more from EC2, but an address leaving its cooldown before the deadline
          // serves this pod: wait for it rather than fail an ADD that would succeed seconds later.
          const freeAt = this.#nextCooldownEnd();
          if (freeAt === undefined || freeAt > deadline) throw new NoAddressError(`no address: the node cannot get more (${plan.reason})`);
          await this.#o.scheduler.sleep(Math.max(0, freeAt - this.#now()));
          const freed = this.#tryAssign(key, metadata);
          if (freed) return freed;
          if (this.#stopped) throw new ShuttingDownError("no address available and the agent is shutting down");
          continue;
        }
        if (this.#o.cloud.growthPausedUntil() > this.#now()) {
          throw new NoAddressError(`no address: the subnet is out of addresses; growth resumes in ${Math.ceil((this.#o.cloud.growthPausedUntil() - this.#now()) / 1000)} s`);
        }
      }
    } finally {
      this.#waiting--;
    }
  }

  release(key: IPAMKey): ReleaseResult | undefined {
    const released = this.#o.datastore.release(key);
    if (released) this.trigger();
    return released;
  }

  /** When the first address now in cooldown (on an ENI that serves pods) becomes assignable; undefined if none is. */
  #nextCooldownEnd(): number | undefined {
    const ds = this.#o.datastore;
    const now = this.#now();
    let first: number | undefined;
    for (const e of ds.snapshot().enis) {
      if (e.isExcluded) continue;
      for (const c of e.cidrs) {
        if (!c.active) continue; // cooling addresses of a CIDR that cannot serve free nothing
        for (const a of c.addresses) {
          if (a.key !== undefined || a.releasedAtMs === undefined) continue;
          const end = a.releasedAtMs + ds.cooldownMs;
          if (end <= now) continue; // out of cooldown already: if it could serve, it would have
          if (first === undefined || end < first) first = end;
        }
      }
    }
    return first;
  }

  #tryAssign(key: IPAMKey, metadata: Partial<PodMetadata>): AssignResult | undefined {
    try {
      return this.#o.datastore.assign(key, metadata);
    } catch (err) {
      if (err instanceof DatastoreError && err.code === "no-available-address") return undefined;
      throw err;
    }
  }

  /** Resolves true after the next pass completes, false at the deadline. */
  #nextPass(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const left = deadline - this.#now();
      if (left <= 0) return resolve(false);
      const timer = this.#o.scheduler.after(left, () => {
        this.#passWaiters = this.#passWaiters.filter((w) => w !== waiter);
        resolve(false);
      });
      const waiter: Waiter = {
        resolve: () => {
          this.#o.scheduler.cancel(timer);
          resolve(true);
        },
      };
      this.#passWaiters.push(waiter);
    });
  }

  #startPass(): void {
    this.#passRequested = false;
    this.#passRunning = this.#pass()
      .catch((err) => {
        this.#o.onError?.("pool-pass", err);
        this.#o.log("error", `pool pass failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.#lastPassAt = this.#now();
        this.#passRunning = undefined;
        for (const w of this.#passWaiters.splice(0)) w.resolve();
        if (this.#passRequested && !this.#stopped) this.trigger();
      });
  }

  async #pass(): Promise<void> {
    if (this.#stopped) return;
    const ds = this.#o.datastore;
    const now = this.#now();
    const plan = planPool(toPoolSnapshot(ds.snapshot(), this.#waiting), this.#o.targets, this.#o.limits(), now);
    this.#lastPlan = plan;
    this.#o.onPlan?.(plan);
    if (isPlanEmpty(plan)) {
      if (plan.unmet > 0) this.#o.log("warn", `pool: ${plan.reason}`);
      return;
    }
    const shrinking = plan.release.length > 0 || plan.freeEnis.length > 0;
    const growing = plan.assign.length > 0 || plan.createEnis.length > 0;
    const shrinkAllowed = growing || now - this.#lastShrinkAt >= this.#o.shrinkIntervalMs;
    if (!growing && !shrinkAllowed) return;
    this.#o.log("info", `pool: ${plan.reason}`);

    if (shrinking && shrinkAllowed) {
      this.#lastShrinkAt = now;
      for (const r of plan.release) await this.#release(r.eniId, r.cidrs, r.prefixes);
    }
    if (growing && this.#o.cloud.growthPausedUntil() <= now) {
      // Existing ENIs first (one call each, in parallel), then new ENIs one at a time (device indexes).
      await Promise.all(plan.assign.map((a) => this.#assign(a.eniId, a)));
      for (const c of plan.createEnis) {
        if (this.#stopped) return;
        await this.#createEni(c);
      }
    }
    if (shrinking && shrinkAllowed) {
      for (const id of plan.freeEnis) await this.#freeEni(id);
    }
  }

  async #assign(eniId: string, request: AddressRequest): Promise<void> {
    try {
      const cidrs = await this.#o.cloud.assign(eniId, request);
      for (const c of cidrs) this.#addCidr(eniId, c);
    } catch (err) {
      this.#o.onError?.("assign", err);
      this.#o.log("warn", `pool: assigning ${describe(request)} to ${eniId} failed: ${(err as Error).message}`);
    }
  }

  async #createEni(request: AddressRequest): Promise<void> {
    try {
      const eni = await this.#o.cloud.createEni(request);
      this.#o.datastore.addEni({ id: eni.eniId, deviceNumber: eni.deviceNumber, routeTableId: eni.routeTableId, subnetId: eni.subnetId });
      for (const c of eni.cidrs) this.#addCidr(eni.eniId, c);
      this.#o.log("info", `pool: ENI ${eni.eniId} attached as device ${eni.deviceNumber} with ${eni.cidrs.length} ${request.prefixCount ? "prefixes" : "addresses"}`);
    } catch (err) {
      this.#o.onError?.("createEni", err);
      this.#o.log("warn", `pool: creating an ENI with ${describe(request)} failed: ${(err as Error).message}`);
    }
  }

  #addCidr(eniId: string, cidr: string): void {
    addCidrOnce(this.#o.datastore, eniId, cidr, this.#o.log);
  }

  async #release(eniId: string, cidrs: readonly string[], prefixes: boolean): Promise<void> {
    const ds = this.#o.datastore;
    const dropped: string[] = [];
    for (const c of cidrs) {
      try {
        ds.removeCidr(eniId, c);
        dropped.push(c);
      } catch (err) {
        // Taken by a pod since the plan was made: keep it.
        if (!(err instanceof DatastoreError && err.code === "cidr-in-use")) throw err;
      }
    }
    if (dropped.length === 0) return;
    try {
      await this.#o.cloud.release(eniId, dropped, prefixes);
    } catch (err) {
      if (err instanceof ReleaseUnconfirmedError) {
        this.#o.onError?.("release", err);
        this.#o.log("warn", `pool: releasing ${dropped.length} CIDRs of ${eniId} may or may not have happened (${err.message}); they serve no pod until the reconciler sees what EC2 holds`);
        return;
      }
      // EC2 still has them on the ENI: serve them again rather than lose them.
      for (const c of dropped) this.#addCidr(eniId, c);
      this.#o.onError?.("release", err);
      this.#o.log("warn", `pool: releasing ${dropped.length} CIDRs of ${eniId} failed: ${(err as Error).message}`);
    }
  }

  async #freeEni(eniId: string): Promise<void> {
    const ds = this.#o.datastore;
    const before = ds.snapshot().enis.find((e) => e.id === eniId);
    try {
      ds.removeEni(eniId);
    } catch (err) {
      if (err instanceof DatastoreError && (err.code === "eni-in-use" || err.code === "unknown-eni")) return;
      throw err;
    }
    try {
      await this.#o.cloud.freeEni(eniId);
    } catch (err) {
      // Still attached: put it back so its addresses keep serving; the next pass tries again.
      if (before) {
        // With all its flags: an ENI the reconciler excluded (EC2 took it away) must not start serving again.
        ds.addEni({
          id: before.id,
          deviceNumber: before.deviceNumber,
          routeTableId: before.routeTableId,
          subnetId: before.subnetId,
          isPrimary: before.isPrimary,
          isTrunk: before.isTrunk,
          isEFA: before.isEFA,
          isExcluded: before.isExcluded,
        });
        for (const c of before.cidrs) {
          this.#addCidr(before.id, c.cidr);
          if (c.excluded) ds.setCidrExcluded(before.id, c.cidr, true);
        }
      }
      this.#o.onError?.("freeEni", err);
      this.#o.log("warn", `pool: freeing ${eniId} failed: ${(err as Error).message}`);
    }
  }
}

/**
 * Adds a CIDR EC2 says an ENI has; false when the datastore had it already, or when it overlaps one
 * the datastore still holds elsewhere. That happens when an address was unassigned behind the agent's
 * back while a pod kept it, and EC2 then handed it to another ENI: the pod keeps it until its DEL (it
 * is never given out twice), and the conflict is reported instead of failing every later pass.
 */
export function addCidrOnce(datastore: Datastore, eniId: string, cidr: string, log: Log): boolean {
  try {
    datastore.addCidr(eniId, cidr);
    return true;
  } catch (err) {
    if (err instanceof DatastoreError && err.code === "duplicate-cidr") return false;
    if (err instanceof DatastoreError && err.code === "cidr-overlap") {
      log("error", `EC2 shows ${cidr} on ${eniId}, but the agent still holds it elsewhere for a pod; it is not served from ${eniId} until that pod's DEL`);
      return false;
    }
    throw err;
  }
}

function describe(r: AddressRequest): string {
  return r.prefixCount ? `${r.prefixCount} prefixes` : `${r.ipCount} addresses`;
}

/** The planner's view of the datastore: managed ENIs with the counts and cooldown times it needs. */
export function toPoolSnapshot(ds: DatastoreSnapshot, waiting: number): PoolSnapshot {
  return {
    waiting,
    enis: ds.enis.map((e) => ({
      id: e.id,
      deviceNumber: e.deviceNumber,
      primary: e.isPrimary,
      trunk: e.isTrunk,
      efa: e.isEFA,
      excluded: e.isExcluded,
      createdAt: e.addedAtMs,
      // Excluded CIDRs (EC2 took them away; kept only for their pods) are not the pool's to count or release.
      cidrs: e.cidrs
        .filter((c) => c.family === ds.family && !c.excluded)
        .map((c) => ({
          cidr: c.cidr,
          isPrefix: c.isPrefix,
          size: c.size,
          assigned: c.assigned,
          unassignedAt: c.addresses.filter((a) => a.key === undefined && a.releasedAtMs !== undefined).map((a) => a.releasedAtMs!),
        })),
    })),
  };
}
