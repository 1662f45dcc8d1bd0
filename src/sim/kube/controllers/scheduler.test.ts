// The scheduler against the in-process API server: spreading within allocatable pods, pods beyond
// every node's capacity left Pending with PodScheduled=False and kube-scheduler's FailedScheduling
// message, a freed slot taken, and the filters (nodeSelector, matchFields as DaemonSet pods use,
// taints and tolerations, nodes that are not Ready).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeApiServer } from "../server.ts";
import { eventually } from "../kube.test-support.ts";
import type { KObject } from "../objects.ts";
import { Scheduler } from "./scheduler.ts";
import { failedSchedulingMessage, matchesNodeAffinity, unfit } from "./scheduler-predicates.ts";

function node(name: string, pods: number, options: { ready?: boolean; labels?: Record<string, string>; taints?: unknown[] } = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...(options.labels ?? {}) } },
    spec: options.taints ? { taints: options.taints } : {},
    status: { allocatable: { pods: String(pods) }, capacity: { pods: String(pods) }, conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }] },
  };
}

function pod(name: string, spec: Record<string, unknown> = {}, namespace = "default"): KObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } };
}

describe("scheduler", () => {
  let server: KubeApiServer;
  let dir: string;
  let scheduler: Scheduler;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vpcsim-scheduler-"));
    server = await KubeApiServer.start({ dir, clusterName: "sched" });
    scheduler = new Scheduler(server.client);
    await scheduler.start();
  });
  after(async () => {
    scheduler.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const c = () => server.client;
  const nodeOf = async (name: string, ns = "default") => ((await c().get("v1/pods", name, ns)).spec as { nodeName?: string }).nodeName;

  test("spreads pods over Ready nodes within their allocatable pods; the rest stay Pending with FailedScheduling", async () => {
    for (const n of ["n1", "n2", "n3"]) await c().create(node(n, 2));
    for (let i = 0; i < 8; i++) await c().create(pod(`p${i}`));
    await eventually(async () => ((await c().list("v1/pods", { namespace: "default" })).items.filter((p) => (p.spec as any).nodeName).length === 6 ? true : undefined), "six pods bound");
    await scheduler.settled();
    const pods = (await c().list("v1/pods", { namespace: "default" })).items;
    const perNode = new Map<string, number>();
    for (const p of pods) if ((p.spec as any).nodeName) perNode.set((p.spec as any).nodeName, (perNode.get((p.spec as any).nodeName) ?? 0) + 1);
    assert.deepEqual([...perNode.entries()].sort(), [["n1", 2], ["n2", 2], ["n3", 2]]);
    const pending = pods.filter((p) => !(p.spec as any).nodeName);
    assert.equal(pending.length, 2);
    const expected = "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
    for (const p of pending) {
      const cond = await eventually(async () => ((await c().get("v1/pods", p.metadata.name!, "default")).status as any).conditions?.find((x: any) => x.type === "PodScheduled"), "PodScheduled");
      assert.equal(cond.status, "False");
      assert.equal(cond.reason, "Unschedulable");
      assert.equal(cond.message, expected);
    }
    const events = await eventually(async () => {
      const list = (await c().list("v1/events", { namespace: "default" })).items.filter((e) => e.reason === "FailedScheduling");
      return list.length === 2 ? list : undefined;
    }, "FailedScheduling events");
    assert.ok(events.every((e) => e.message === expected && e.type === "Warning" && (e.source as any).component === "default-scheduler"));
    // A freed slot goes to a pending pod.
    const victim = pods.find((p) => (p.spec as any).nodeName === "n2")!;
    await c().delete("v1/pods", victim.metadata.name!, "default", { gracePeriodSeconds: 0 });
    await eventually(async () => {
      const now = (await c().list("v1/pods", { namespace: "default" })).items;
      return now.filter((p) => (p.spec as any).nodeName === "n2").length === 2 ? true : undefined;
    }, "the freed slot taken");
    for (const p of (await c().list("v1/pods", { namespace: "default" })).items) await c().delete("v1/pods", p.metadata.name!, "default", { gracePeriodSeconds: 0 });
    for (const n of ["n1", "n2", "n3"]) await c().delete("v1/nodes", n);
  });

  test("nodeSelector, matchFields metadata.name, taints and NotReady nodes are honoured", async () => {
    await c().create(node("a1", 10, { labels: { zone: "a" } }));
    await c().create(node("b1", 10, { labels: { zone: "b" }, taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] }));
    await c().create(node("c1", 10, { ready: false }));
    await c().create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "s2" } });
    await eventually(() => c().find("v1/serviceaccounts", "default", "s2"), "s2's default service account");
    await c().create(pod("sel", { nodeSelector: { zone: "a" } }, "s2"));
    await c().create(pod("tainted", { nodeSelector: { zone: "b" } }, "s2"));
    await c().create(pod("tolerant", { nodeSelector: { zone: "b" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "infra", effect: "NoSchedule" }] }, "s2"));
    const pinned = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["c1"] }] }] } } } };
    await c().create(pod("ds-c1", pinned, "s2"));
    await c().create(pod("ds-c1-tolerant", { ...pinned, tolerations: [{ operator: "Exists" }] }, "s2"));
    await eventually(async () => ((await nodeOf("sel", "s2")) === "a1" ? true : undefined), "sel on a1");
    await eventually(async () => ((await nodeOf("tolerant", "s2")) === "b1" ? true : undefined), "tolerant on b1");
    await eventually(async () => ((await nodeOf("ds-c1-tolerant", "s2")) === "c1" ? true : undefined), "the tolerant DaemonSet pod on the NotReady node");
    await scheduler.settled();
    assert.equal(await nodeOf("tainted", "s2"), undefined);
    assert.equal(await nodeOf("ds-c1", "s2"), undefined);
    const msg = await eventually(async () => ((await c().get("v1/pods", "tainted", "s2")).status as any).conditions?.find((x: any) => x.type === "PodScheduled")?.message, "tainted's message");
    assert.equal(msg, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    // c1 turns Ready: the pinned pod is bound there.
    await c().patch("v1/nodes", "c1", "", { status: { conditions: [{ type: "Ready", status: "True" }] } }, "merge", { subresource: "status" });
    await eventually(async () => ((await nodeOf("ds-c1", "s2")) === "c1" ? true : undefined), "ds-c1 bound once c1 is Ready");
  });
});

test("predicates: affinity operators, empty terms, pod counts", () => {
  const n = node("x", 1, { labels: { "kubernetes.io/os": "linux", size: "5" } });
  const withTerms = (terms: unknown[]) => pod("p", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
  assert.equal(matchesNodeAffinity(withTerms([{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }, { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["fargate"] }] }]), n), true);
  assert.equal(matchesNodeAffinity(withTerms([{ matchExpressions: [{ key: "size", operator: "Gt", values: ["7"] }] }, { matchExpressions: [{ key: "size", operator: "Lt", values: ["7"] }] }]), n), true);
  assert.equal(matchesNodeAffinity(withTerms([{}]), n), false);
  assert.equal(matchesNodeAffinity(withTerms([{ matchExpressions: [{ key: "gpu", operator: "Exists" }] }]), n), false);
  assert.equal(unfit(pod("p"), n, 0), undefined);
  assert.equal(unfit(pod("p"), n, 1), "Too many pods");
  assert.equal(failedSchedulingMessage([], 0), "no nodes available to schedule pods");
});
