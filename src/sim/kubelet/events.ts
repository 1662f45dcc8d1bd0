// The kubelet's event recorder: core/v1 Events with source kubelet and the node as host; a repeat of
// the same event (object, reason, message) within ten minutes bumps its count and lastTimestamp with
// a patch, as client-go's event correlator does. Failures to record are logged, never thrown.

import { randomBytes } from "node:crypto";
import type { KObject } from "../kube/objects.ts";
import type { NodeApi } from "./api/node-api.ts";

const REPEAT_WINDOW_MS = 10 * 60_000;

export type EventType = "Normal" | "Warning";

export class EventRecorder {
  readonly #api: NodeApi;
  readonly #node: string;
  readonly #log: (message: string) => void;
  readonly #seen = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(api: NodeApi, node: string, log: (message: string) => void) {
    this.#api = api;
    this.#node = node;
    this.#log = log;
  }

  /** Records an event about a pod (or, with kind Node, the node). Resolves once written. */
  async record(object: { kind: string; name: string; namespace: string; uid: string; apiVersion?: string; fieldPath?: string }, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${object.kind}/${object.namespace}/${object.name}/${object.uid}/${object.fieldPath ?? ""}/${type}/${reason}/${message}`;
    const now = new Date();
    const stamp = now.toISOString().replace(/\.\d+Z$/, "Z");
    const seen = this.#seen.get(key);
    try {
      if (seen && now.getTime() - seen.at < REPEAT_WINDOW_MS) {
        seen.count++;
        seen.at = now.getTime();
        await this.#api.patch("v1/events", seen.name, seen.namespace, { count: seen.count, lastTimestamp: stamp }, "strategic");
        return;
      }
      const namespace = object.namespace === "" ? "default" : object.namespace;
      const name = `${object.name}.${randomBytes(8).toString("hex")}`;
      const event: KObject = {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: { kind: object.kind, namespace: object.namespace, name: object.name, uid: object.uid, apiVersion: object.apiVersion ?? "v1", ...(object.fieldPath ? { fieldPath: object.fieldPath } : {}) },
        reason,
        message,
        source: { component: "kubelet", host: this.#node },
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: "kubelet",
        reportingInstance: this.#node,
      };
      await this.#api.create(event);
      this.#seen.set(key, { name, namespace, count: 1, at: now.getTime() });
      if (this.#seen.size > 4096) this.#seen.delete(this.#seen.keys().next().value!);
    } catch (err) {
      this.#log(`event ${reason} for ${object.kind} ${object.namespace}/${object.name} not recorded: ${(err as Error).message}`);
    }
  }

  /** An event about a pod. */
  pod(pod: KObject, type: EventType, reason: string, message: string, container?: string): Promise<void> {
    const m = pod.metadata;
    return this.record({ kind: "Pod", name: m.name ?? "", namespace: m.namespace ?? "", uid: m.uid ?? "", ...(container ? { fieldPath: `spec.containers{${container}}` } : {}) }, type, reason, message);
  }
}
