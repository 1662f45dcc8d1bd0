// What client-go's event recorder does between "record this" and the API (tools/record's
// EventCorrelator), so a flapping error does not flood the API server or the pod's event list:
//  - aggregation: more than 10 distinct messages for one object, type and reason within 10 minutes
//    become one event "(combined from similar events): <latest message>";
//  - deduplication: a repeat of an event already written patches its count and lastTimestamp instead
//    of creating another;
//  - spam filter: per source and object a token bucket of 25 events, refilled by one every 5 minutes.
// Pure: the caller passes the time; the recorder does the writing.

export interface EventInput {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  /** What was being done (core v1 Event.action), e.g. "ec2:AssignPrivateIpAddresses". */
  readonly action?: string;
}

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface EventSource {
  readonly component: string;
  readonly host: string;
}

export type CorrelatedEvent =
  /** Write a new event (count 1, or the count of an aggregate's first write). */
  | { readonly write: "create"; readonly key: string; readonly name: string; readonly message: string; readonly count: number; readonly firstTimestamp: number; readonly lastTimestamp: number }
  /** Patch an event already written under `name`. */
  | { readonly write: "patch"; readonly key: string; readonly name: string; readonly message: string; readonly count: number; readonly firstTimestamp: number; readonly lastTimestamp: number }
  /** Dropped by the spam filter. */
  | { readonly write: "skip"; readonly key: string };

export const AGGREGATE_MAX_EVENTS = 10;
export const AGGREGATE_INTERVAL_MS = 600_000;
export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 300_000;
const CACHE_SIZE = 4096;
export const COMBINED_PREFIX = "(combined from similar events): ";

interface Seen {
  name: string;
  count: number;
  firstTimestamp: number;
}

export class EventCorrelator {
  readonly #source: EventSource;
  readonly #aggregates = new Lru<{ messages: Set<string>; last: number }>(CACHE_SIZE);
  readonly #seen = new Lru<Seen>(CACHE_SIZE);
  readonly #buckets = new Lru<{ tokens: number; at: number }>(CACHE_SIZE);
  #sequence = 0;

  constructor(source: EventSource) {
    this.#source = source;
  }

  /** Decides what recording `input` on `object` at `now` (ms) writes. */
  correlate(object: InvolvedObject, input: EventInput, now: number): CorrelatedEvent {
    const objectKey = [this.#source.component, this.#source.host, object.kind, object.namespace, object.name, object.uid, object.apiVersion].join("\u0000");
    const aggregateKey = [objectKey, input.type, input.reason].join("\u0000");

    let aggregate = this.#aggregates.get(aggregateKey);
    if (aggregate === undefined || now - aggregate.last > AGGREGATE_INTERVAL_MS) aggregate = { messages: new Set(), last: now };
    aggregate.last = now;
    aggregate.messages.add(input.message);
    this.#aggregates.set(aggregateKey, aggregate);
    const combined = aggregate.messages.size > AGGREGATE_MAX_EVENTS;
    const key = combined ? aggregateKey : [aggregateKey, input.action ?? "", input.message].join("\u0000");
    const message = combined ? COMBINED_PREFIX + input.message : input.message;

    if (!this.#allow(objectKey, now)) return { write: "skip", key };

    const seen = this.#seen.get(key);
    if (seen !== undefined) {
      seen.count++;
      this.#seen.set(key, seen);
      return { write: "patch", key, name: seen.name, message, count: seen.count, firstTimestamp: seen.firstTimestamp, lastTimestamp: now };
    }
    // client-go's name: <object>.<unix nanoseconds in hex>. The clock has milliseconds: a sequence
    // fills the nanoseconds, so two events in one millisecond get different names.
    this.#sequence = (this.#sequence + 1) % 1_000_000;
    const name = `${object.name}.${(BigInt(now) * 1_000_000n + BigInt(this.#sequence)).toString(16)}`;
    this.#seen.set(key, { name, count: 1, firstTimestamp: now });
    return { write: "create", key, name, message, count: 1, firstTimestamp: now, lastTimestamp: now };
  }

  /**
   * After a write: the name the server holds the event under (a create that replaced an expired
   * event keeps the new one). A failed write is forgotten so the next repeat creates it anew.
   */
  written(key: string, outcome: { readonly name: string } | "failed"): void {
    if (outcome === "failed") this.#seen.delete(key);
    else {
      const seen = this.#seen.get(key);
      if (seen !== undefined) seen.name = outcome.name;
    }
  }

  #allow(objectKey: string, now: number): boolean {
    const bucket = this.#buckets.get(objectKey) ?? { tokens: SPAM_BURST, at: now };
    const refilled = Math.min(SPAM_BURST, bucket.tokens + (now - bucket.at) / SPAM_REFILL_MS);
    const allowed = refilled >= 1;
    this.#buckets.set(objectKey, { tokens: allowed ? refilled - 1 : refilled, at: now });
    return allowed;
  }
}

/** A small least-recently-used map: the correlator's caches are bounded as client-go's are. */
class Lru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
}
