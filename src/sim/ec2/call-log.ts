// Every request the EC2 endpoint answered (or dropped), for tests, benchmarks and `vpcsim status`:
// who called what with which parameters, and how it ended. A bounded ring: the oldest records go
// first once it is full, so a long run keeps its recent history at a fixed memory cost.

export interface CallRecord {
  seq: number; // 1, 2, ... over the log's lifetime (gaps show what the ring dropped)
  time: number; // ms since epoch, when the request arrived
  requestId: string;
  action: string; // "" when the request named none
  params: Record<string, string>; // the Query parameters, without any credential material
  accessKeyId?: string;
  principal?: string; // the key's owner: an instance id, or "admin"
  outcome: string; // "ok", or the EC2 error code; "Timeout" when a fault dropped the connection
  status: number; // HTTP status; 0 when no answer was sent
  latencyMs: number;
}

export interface CallQuery {
  action?: string;
  outcome?: string; // "ok", "error" (any error), or one code
  principal?: string;
  since?: number; // time >= since
  last?: number; // only the most recent `last` matches
}

export interface ActionCounts {
  total: number;
  ok: number;
  errors: Record<string, number>; // by code
}

/** Names that carry credentials when a client signs in the query string; never logged. */
const SECRET_PARAMS = /^(X-Amz-(Credential|Signature|Security-Token|SignedHeaders|Algorithm|Date)|AWSAccessKeyId|Signature|SecurityToken)$/i;

export function loggableParams(params: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!SECRET_PARAMS.test(k)) out[k] = v;
  return out;
}

function matches(r: CallRecord, q: CallQuery): boolean {
  if (q.action !== undefined && r.action !== q.action) return false;
  if (q.principal !== undefined && r.principal !== q.principal) return false;
  if (q.since !== undefined && r.time < q.since) return false;
  if (q.outcome !== undefined && (q.outcome === "error" ? r.outcome === "ok" : r.outcome !== q.outcome)) return false;
  return true;
}

export class CallLog {
  readonly #capacity: number;
  readonly #ring: (CallRecord | undefined)[];
  #next = 0; // where the next record goes
  #size = 0;
  #seq = 0;

  constructor(opts: { capacity?: number } = {}) {
    const capacity = opts.capacity ?? 100_000;
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError("call log capacity must be a positive integer");
    this.#capacity = capacity;
    this.#ring = new Array<CallRecord | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get capacity(): number {
    return this.#capacity;
  }

  record(entry: Omit<CallRecord, "seq">): CallRecord {
    const record: CallRecord = { seq: ++this.#seq, ...entry };
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.#capacity;
    this.#size = Math.min(this.#size + 1, this.#capacity);
    return record;
  }

  /** Records oldest first. */
  *#all(): Generator<CallRecord> {
    const start = (this.#next - this.#size + this.#capacity) % this.#capacity;
    for (let i = 0; i < this.#size; i++) {
      const r = this.#ring[(start + i) % this.#capacity];
      if (r !== undefined) yield r;
    }
  }

  /** Matching records, oldest first. */
  query(q: CallQuery = {}): CallRecord[] {
    const out: CallRecord[] = [];
    for (const r of this.#all()) if (matches(r, q)) out.push(r);
    const last = q.last;
    return last === undefined || !Number.isFinite(last) ? out : out.slice(Math.max(0, out.length - Math.max(0, Math.floor(last))));
  }

  /** Per-action totals over the records still held that match `q` (its `last` is ignored). */
  counts(q: Omit<CallQuery, "last"> = {}): Record<string, ActionCounts> {
    const out: Record<string, ActionCounts> = {};
    for (const r of this.#all()) {
      if (!matches(r, q)) continue;
      const c = (out[r.action] ??= { total: 0, ok: 0, errors: {} });
      c.total++;
      if (r.outcome === "ok") c.ok++;
      else c.errors[r.outcome] = (c.errors[r.outcome] ?? 0) + 1;
    }
    return out;
  }

  clear(): void {
    this.#ring.fill(undefined);
    this.#next = 0;
    this.#size = 0;
  }
}
