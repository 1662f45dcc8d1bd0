// Events on the agent's own pod (as aws-node raises MissingIAMPermissions on its pod), written as core
// v1 Events through the correlator's aggregation, deduplication and spam filter. Recording never
// blocks or throws: writes go through one queue in order, are retried while the API server is away
// (12 tries, 10 s apart, as client-go), and dropped with a log line when they cannot be written.

import type { CoreV1Event } from "@kubernetes/client-node";
import { isNotFound, KubeApiError, toKubeApiError, type KubeClient } from "./client.ts";
import { EventCorrelator, type EventInput, type EventSource, type InvolvedObject } from "./event-correlator.ts";
import type { InformerLog } from "./informer.ts";

export const EVENT_TRIES = 12;
export const EVENT_RETRY_MS = 10_000;
const QUEUE_MAX = 1000;

/** The Events API subset the recorder writes through (KubeClient in production). */
export type EventSink = Pick<KubeClient, "createEvent" | "patchEvent">;

export interface EventRecorderOptions {
  /** null: no API server; events are only logged. */
  readonly sink: EventSink | null;
  readonly source: EventSource;
  /** The object events are about (the agent's pod); read at each write so its uid can arrive later. */
  readonly involved: () => InvolvedObject;
  readonly log: InformerLog;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly tries?: number;
  readonly retryMs?: number;
}

export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #correlator: EventCorrelator;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;
  /** Ends a retry's wait at once when the recorder closes (SIGTERM must not wait out 10 s sleeps). */
  readonly #closing = new AbortController();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#correlator = new EventCorrelator(options.source);
  }

  record(input: EventInput): void {
    const { log } = this.#options;
    log(input.type === "Warning" ? "warn" : "info", `event ${input.reason}: ${input.message}`, input.action === undefined ? {} : { action: input.action });
    const sink = this.#options.sink;
    if (sink === null || this.#closed) return;
    const object = this.#options.involved();
    const now = (this.#options.now ?? Date.now)();
    const decision = this.#correlator.correlate(object, input, now);
    if (decision.write === "skip") {
      log("debug", `event ${input.reason} not written: more than the spam filter allows for ${object.namespace}/${object.name}`);
      return;
    }
    if (this.#pending >= QUEUE_MAX) {
      log("warn", `event ${input.reason} dropped: ${QUEUE_MAX} events are waiting for the API server`);
      this.#correlator.written(decision.key, "failed");
      return;
    }
    this.#pending++;
    const event: CoreV1Event = {
      metadata: { name: decision.name, namespace: object.namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace: object.namespace, name: object.name, ...(object.uid === "" ? {} : { uid: object.uid }) },
      type: input.type,
      reason: input.reason,
      message: decision.message,
      ...(input.action === undefined ? {} : { action: input.action }),
      source: { component: this.#options.source.component, host: this.#options.source.host },
      reportingComponent: this.#options.source.component,
      reportingInstance: this.#options.source.host,
      count: decision.count,
      firstTimestamp: new Date(decision.firstTimestamp),
      lastTimestamp: new Date(decision.lastTimestamp),
    };
    const write = decision.write;
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#write(sink, event, write, decision.key);
      } finally {
        this.#pending--;
      }
    });
  }

  /** Resolves when every recorded event has been written or given up on. */
  flush(): Promise<void> {
    return this.#queue;
  }

  /** No more writes start; one in flight finishes, queued ones and retries give up. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    return this.#queue;
  }

  async #write(sink: EventSink, event: CoreV1Event, write: "create" | "patch", key: string): Promise<void> {
    const { log } = this.#options;
    if (this.#closed) {
      this.#correlator.written(key, "failed");
      return;
    }
    const tries = this.#options.tries ?? EVENT_TRIES;
    const pause = this.#options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
    const closing = new Promise<void>((r) => this.#closing.signal.addEventListener("abort", () => r(), { once: true }));
    const sleep = (ms: number) => Promise.race([pause(ms), closing]);
    const namespace = event.metadata?.namespace ?? "";
    let mode = write;
    for (let attempt = 1; ; attempt++) {
      try {
        let written: CoreV1Event;
        if (mode === "patch") {
          try {
            written = await sink.patchEvent(namespace, event.metadata?.name ?? "", {
              count: event.count,
              lastTimestamp: event.lastTimestamp?.toISOString(),
              message: event.message,
            });
          } catch (err) {
            // Events expire (an hour by default): the repeat becomes a new event.
            if (!isNotFound(err)) throw err;
            mode = "create";
            continue;
          }
        } else {
          written = await sink.createEvent(namespace, event);
        }
        this.#correlator.written(key, { name: written.metadata?.name ?? event.metadata?.name ?? "" });
        return;
      } catch (err) {
        const error = err instanceof KubeApiError ? err : toKubeApiError("write event", err);
        const retriable = error.status === 0 || error.status === 429 || error.status >= 500;
        if (!retriable || attempt >= tries || this.#closed) {
          log(error.status === 403 ? "error" : "warn", `event ${event.reason} not written${this.#closed ? " (shutting down)" : ""}: ${error.message}`);
          this.#correlator.written(key, "failed");
          return;
        }
        await sleep(this.#options.retryMs ?? EVENT_RETRY_MS);
        if (this.#closed) {
          log("warn", `event ${event.reason} not written (shutting down): ${error.message}`);
          this.#correlator.written(key, "failed");
          return;
        }
      }
    }
  }
}
