// Run-time fault injection on the EC2 endpoint, per action or for every action ("*"): answer with
// RequestLimitExceeded (throttle) or a 5xx (error), hold the request and drop the connection
// without an answer (timeout), or answer late (latency). Each fault fires with a probability and/or
// for a remaining number of requests, after which it removes itself. Model-level faults (slow
// attaches, exhausted subnets) live in the model, not here.

export type FaultKind = "throttle" | "error" | "timeout" | "latency";

export interface FaultSpec {
  action: string; // an EC2 action name, or "*"
  kind: FaultKind;
  probability?: number; // 0..1, default 1
  count?: number; // fires this many more times, then goes away; default unlimited
  ms?: number; // timeout: how long to hold before dropping; latency: delay added. Default 1000 / 0.
  code?: "InternalError" | "Unavailable"; // error only; default InternalError
}

export interface Fault extends Required<Omit<FaultSpec, "count" | "code">> {
  id: number;
  count?: number;
  code?: "InternalError" | "Unavailable";
  fired: number;
}

/** What the faults decided for one request: extra delay, and at most one way of failing. */
export interface FaultDecision {
  latencyMs: number;
  fail?: { kind: "throttle" } | { kind: "error"; code: "InternalError" | "Unavailable"; status: number } | { kind: "timeout"; ms: number };
}

const KINDS: ReadonlySet<string> = new Set<FaultKind>(["throttle", "error", "timeout", "latency"]);

export class Faults {
  readonly #random: () => number;
  #faults: Fault[] = [];
  #nextId = 1;

  constructor(opts: { random?: () => number } = {}) {
    this.#random = opts.random ?? Math.random;
  }

  add(spec: FaultSpec): Fault {
    if (!KINDS.has(spec.kind)) throw new RangeError(`unknown fault kind '${spec.kind}'`);
    if (typeof spec.action !== "string" || spec.action === "") throw new RangeError("a fault needs an action or '*'");
    const probability = spec.probability ?? 1;
    if (!(probability >= 0 && probability <= 1)) throw new RangeError("fault probability must be within 0..1");
    if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) throw new RangeError("fault count must be a positive integer");
    const ms = spec.ms ?? (spec.kind === "timeout" ? 1000 : 0);
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError("fault ms must be >= 0");
    if (spec.code !== undefined && spec.code !== "InternalError" && spec.code !== "Unavailable") throw new RangeError(`unknown error code '${spec.code}'`);
    const fault: Fault = { id: this.#nextId++, action: spec.action, kind: spec.kind, probability, ms, fired: 0 };
    if (spec.count !== undefined) fault.count = spec.count;
    if (spec.kind === "error") fault.code = spec.code ?? "InternalError";
    this.#faults.push(fault);
    return { ...fault };
  }

  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  remove(id: number): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length < before;
  }

  /** Removes every fault, or those registered for `action` (exactly; "*" names the wildcard ones). */
  clear(action?: string): number {
    const before = this.#faults.length;
    this.#faults = action === undefined ? [] : this.#faults.filter((f) => f.action !== action);
    return before - this.#faults.length;
  }

  /**
   * Rolls every fault that applies to `action`, in the order they were added. Latencies that fire
   * add up; the first failure that fires wins, and later failures are not rolled (nor spent).
   */
  decide(action: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const f of this.#faults) {
      if (f.action !== "*" && f.action !== action) continue;
      if (f.kind !== "latency" && decision.fail !== undefined) continue;
      if (f.probability < 1 && this.#random() >= f.probability) continue;
      f.fired++;
      if (f.count !== undefined) f.count--;
      switch (f.kind) {
        case "latency":
          decision.latencyMs += f.ms;
          break;
        case "throttle":
          decision.fail = { kind: "throttle" };
          break;
        case "error": {
          const code = f.code ?? "InternalError";
          decision.fail = { kind: "error", code, status: code === "Unavailable" ? 503 : 500 };
          break;
        }
        case "timeout":
          decision.fail = { kind: "timeout", ms: f.ms };
          break;
      }
    }
    this.#faults = this.#faults.filter((f) => f.count === undefined || f.count > 0);
    return decision;
  }
}
