// The kubectl get columns of the built-in printers: a pod's STATUS as kubectl words it, READY and
// RESTARTS; a Deployment's READY; an event's LAST SEEN, OBJECT and count.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEPLOYMENT_PRINTER, EVENT_PRINTER, NODE_PRINTER, POD_PRINTER, podStatusText } from "./built-in-printers.ts";
import type { KObject } from "../objects.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const meta = { name: "x", namespace: "default", creationTimestamp: "2026-12-03T11:59:00Z" };

describe("built-in printers", () => {
  test("pod STATUS: ContainerCreating, Init:0/1, Running, Terminating, CrashLoopBackOff", () => {
    const pod = (status: unknown, extra: Partial<KObject> = {}): KObject => ({ apiVersion: "v1", kind: "Pod", metadata: { ...meta }, spec: { initContainers: [{ name: "i" }], containers: [{ name: "c" }] }, status, ...extra });
    assert.equal(podStatusText(pod({ phase: "Pending", containerStatuses: [{ state: { waiting: { reason: "ContainerCreating" } } }] })), "ContainerCreating");
    assert.equal(podStatusText(pod({ phase: "Pending", initContainerStatuses: [{ state: { running: {} } }] })), "Init:0/1");
    assert.equal(podStatusText(pod({ phase: "Running", initContainerStatuses: [{ state: { terminated: { exitCode: 0 } } }], containerStatuses: [{ ready: true, state: { running: {} } }] })), "Running");
    assert.equal(podStatusText(pod({ phase: "Running", containerStatuses: [{ state: { waiting: { reason: "CrashLoopBackOff" } } }] })), "CrashLoopBackOff");
    assert.equal(podStatusText({ ...pod({ phase: "Running" }), metadata: { ...meta, deletionTimestamp: "2026-12-03T12:00:00Z" } }), "Terminating");
    const row = POD_PRINTER.row(pod({ phase: "Running", podIP: "10.0.0.5", containerStatuses: [{ ready: true, restartCount: 2, state: { running: {} } }] }, { spec: { nodeName: "n1", containers: [{ name: "c" }] } }), NOW);
    assert.deepEqual(row.slice(0, 7), ["x", "1/1", "Running", "2", "60s", "10.0.0.5", "n1"]);
  });

  test("Deployment READY is ready/desired; node STATUS and ROLES; event OBJECT and count", () => {
    assert.deepEqual(DEPLOYMENT_PRINTER.row({ apiVersion: "apps/v1", kind: "Deployment", metadata: meta, spec: { replicas: 3 }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, NOW).slice(0, 5), ["x", "2/3", 3, 2, "60s"]);
    const node = NODE_PRINTER.row({ apiVersion: "v1", kind: "Node", metadata: { ...meta, labels: { "node-role.kubernetes.io/worker": "" } }, spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "False" }], nodeInfo: { kubeletVersion: "v1.34.1" } } }, NOW);
    assert.deepEqual(node.slice(0, 5), ["x", "NotReady,SchedulingDisabled", "worker", "60s", "v1.34.1"]);
    const event = EVENT_PRINTER.row({ apiVersion: "v1", kind: "Event", metadata: meta, type: "Warning", reason: "FailedCreatePodSandBox", count: 3, firstTimestamp: "2026-12-03T11:58:00Z", lastTimestamp: "2026-12-03T11:59:30Z", involvedObject: { kind: "Pod", name: "web-1" }, message: "failed to set up sandbox" }, NOW);
    assert.deepEqual(event.slice(0, 5), ["30s (x3 over 2m)", "Warning", "FailedCreatePodSandBox", "pod/web-1", "failed to set up sandbox"]);
  });
});
