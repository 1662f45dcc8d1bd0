// The Deployment, ReplicaSet and DaemonSet controllers and the garbage collector on the in-process
// API server: ownership, scaling, a rolling update within its limits, status, the three
// propagation policies, DaemonSet placement by node, taints and affinity.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, eventually, type TestServer } from "../../kube/kube.test-support.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import type { KObject } from "../../kube/objects.ts";
import { ControllerManager } from "../controller-manager.ts";
import { markPodsReady } from "./workload-controllers.test-support.ts";
import { POD_TEMPLATE_HASH, REVISION } from "./deployment-controller.ts";
import { CONTROLLER_REVISION_HASH } from "./daemonset-controller.ts";
import { targetNode } from "./node-eligibility.ts";

function deployment(name: string, namespace: string, replicas: number, image = "registry.k8s.io/e2e-test-images/agnhost:2.53", strategy?: unknown): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(strategy ? { strategy } : {}),
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image, args: ["netexec"] }] } },
    },
  };
}

async function podsOf(client: KubeClient, namespace: string, label: string): Promise<KObject[]> {
  return (await client.list("v1/pods", { namespace, labelSelector: label })).items.filter((p) => !p.metadata.deletionTimestamp);
}

describe("workload controllers", () => {
  let ts: TestServer;
  let client: KubeClient;
  let cm: ControllerManager;
  const errors: string[] = [];
  before(async () => {
    ts = await startTestServer();
    client = ts.server.client;
    cm = new ControllerManager(client, (m) => errors.push(m));
    await cm.start();
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "w" } });
  });
  after(async () => {
    cm.stop();
    await ts.close();
  });

  test("a Deployment gets a ReplicaSet named by its template hash, and pods it owns; status follows readiness", async () => {
    await client.create(deployment("web", "w", 3));
    const rs = await eventually(async () => (await client.list("apps/v1/replicasets", { namespace: "w" })).items.find((r) => r.metadata.name?.startsWith("web-")), "the ReplicaSet");
    const hash = rs.metadata.labels![POD_TEMPLATE_HASH]!;
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.metadata.ownerReferences?.[0]?.kind, "Deployment");
    assert.equal(rs.metadata.ownerReferences?.[0]?.controller, true);
    assert.equal(rs.metadata.annotations?.[REVISION], "1");
    assert.deepEqual((rs.spec as { selector: unknown }).selector, { matchLabels: { app: "web", [POD_TEMPLATE_HASH]: hash } });
    const pods = await eventually(async () => {
      const p = await podsOf(client, "w", "app=web");
      return p.length === 3 ? p : undefined;
    }, "three pods");
    for (const p of pods) {
      assert.equal(p.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
      assert.equal(p.metadata.labels?.[POD_TEMPLATE_HASH], hash);
      assert.match(p.metadata.name!, new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
    }
    const pending = await eventually(async () => {
      const d = await client.get("apps/v1/deployments", "web", "w");
      const s = d.status as Record<string, unknown>;
      return s?.replicas === 3 ? s : undefined;
    }, "status.replicas 3");
    assert.equal(pending.availableReplicas, 0);
    assert.equal(pending.unavailableReplicas, 3);
    await markPodsReady(client, "w");
    const done = await eventually(async () => {
      const d = await client.get("apps/v1/deployments", "web", "w");
      const s = d.status as Record<string, unknown>;
      return s?.availableReplicas === 3 ? { d, s } : undefined;
    }, "three available");
    assert.equal(done.s.readyReplicas, 3);
    assert.equal(done.s.updatedReplicas, 3);
    assert.equal(done.s.observedGeneration, done.d.metadata.generation);
    const conditions = done.s.conditions as { type: string; status: string; reason: string }[];
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason]), [["Available", "True", "MinimumReplicasAvailable"], ["Progressing", "True", "NewReplicaSetAvailable"]]);
    assert.equal(done.d.metadata.annotations?.[REVISION], "1");
  });

  test("scaling down deletes unready pods first; scaling up makes new ones", async () => {
    await markPodsReady(client, "w");
    await client.patch("apps/v1/deployments", "web", "w", { spec: { replicas: 5 } }, "merge");
    const five = await eventually(async () => {
      const p = await podsOf(client, "w", "app=web");
      return p.length === 5 ? p : undefined;
    }, "five pods");
    const unready = five.filter((p) => (p.status as { phase?: string })?.phase !== "Running").map((p) => p.metadata.name);
    assert.equal(unready.length, 2);
    await client.patch("apps/v1/deployments", "web", "w", { spec: { replicas: 3 } }, "merge");
    const three = await eventually(async () => {
      const p = await podsOf(client, "w", "app=web");
      return p.length === 3 ? p : undefined;
    }, "three pods again");
    for (const p of three) assert.ok(!unready.includes(p.metadata.name), `${p.metadata.name} was not ready and should have gone first`);
  });

  test("a rolling update replaces the pods within maxSurge and maxUnavailable", async () => {
    await client.create(deployment("roll", "w", 4, "a:1", { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }));
    await eventually(async () => ((await podsOf(client, "w", "app=roll")).length === 4 ? true : undefined), "four pods");
    await markPodsReady(client, "w");
    await eventually(async () => ((await client.get("apps/v1/deployments", "roll", "w")).status as { availableReplicas?: number })?.availableReplicas === 4 || undefined, "available");
    await client.patch("apps/v1/deployments", "roll", "w", { spec: { template: { spec: { containers: [{ name: "c", image: "a:2", args: ["netexec"] }] } } } }, "strategic");
    let maxSeen = 0;
    let minReady = 4;
    for (let i = 0; i < 400; i++) {
      const pods = await podsOf(client, "w", "app=roll");
      maxSeen = Math.max(maxSeen, pods.length);
      minReady = Math.min(minReady, pods.filter((p) => (p.status as { phase?: string })?.phase === "Running").length);
      const images = pods.map((p) => ((p.spec as { containers: { image: string }[] }).containers[0]!.image));
      if (pods.length === 4 && images.every((im) => im === "a:2") && pods.every((p) => (p.status as { phase?: string })?.phase === "Running")) break;
      await markPodsReady(client, "w", (p) => ((p.spec as { containers: { image: string }[] }).containers[0]!.image) === "a:2");
      await new Promise((r) => setTimeout(r, 20));
    }
    const final = await podsOf(client, "w", "app=roll");
    assert.deepEqual(final.map((p) => ((p.spec as { containers: { image: string }[] }).containers[0]!.image)), ["a:2", "a:2", "a:2", "a:2"]);
    assert.ok(maxSeen <= 5, `at most replicas + maxSurge pods at once (saw ${maxSeen})`);
    assert.equal(minReady, 4, "maxUnavailable 0: never fewer than 4 ready");
    const sets = (await client.list("apps/v1/replicasets", { namespace: "w", labelSelector: "app=roll" })).items;
    assert.equal(sets.length, 2);
    const byRevision = Object.fromEntries(sets.map((s) => [s.metadata.annotations![REVISION], (s.spec as { replicas: number }).replicas]));
    assert.deepEqual(byRevision, { "1": 0, "2": 4 });
    await eventually(async () => {
      const s = (await client.get("apps/v1/deployments", "roll", "w")).status as Record<string, number>;
      return s.updatedReplicas === 4 && s.replicas === 4 && s.availableReplicas === 4 ? true : undefined;
    }, "rollout complete in status");
  });

  test("Background deletion takes the ReplicaSets and pods; Orphan leaves them without the owner; Foreground deletes them first", async () => {
    await client.create(deployment("bg", "w", 2));
    await client.create(deployment("orph", "w", 2));
    await client.create(deployment("fg", "w", 2));
    for (const app of ["bg", "orph", "fg"]) await eventually(async () => ((await podsOf(client, "w", `app=${app}`)).length === 2 ? true : undefined), `${app} pods`);
    await client.delete("apps/v1/deployments", "bg", "w", { propagationPolicy: "Background" });
    await eventually(async () => ((await client.list("v1/pods", { namespace: "w", labelSelector: "app=bg" })).items.length === 0 && (await client.list("apps/v1/replicasets", { namespace: "w", labelSelector: "app=bg" })).items.length === 0 ? true : undefined), "bg's ReplicaSet and pods gone");

    await client.delete("apps/v1/deployments", "orph", "w", { propagationPolicy: "Orphan" });
    await eventually(async () => ((await client.find("apps/v1/deployments", "orph", "w")) === undefined ? true : undefined), "orph gone");
    const orphaned = (await client.list("apps/v1/replicasets", { namespace: "w", labelSelector: "app=orph" })).items;
    assert.equal(orphaned.length, 1);
    assert.equal(orphaned[0]!.metadata.ownerReferences, undefined);
    assert.equal((await podsOf(client, "w", "app=orph")).length, 2, "the orphaned ReplicaSet keeps its pods");

    await client.delete("apps/v1/deployments", "fg", "w", { propagationPolicy: "Foreground" });
    const waiting = await client.find("apps/v1/deployments", "fg", "w");
    assert.ok(waiting?.metadata.finalizers?.includes("foregroundDeletion"));
    await eventually(async () => ((await client.find("apps/v1/deployments", "fg", "w")) === undefined ? true : undefined), "fg gone after its dependents");
    assert.equal((await client.list("v1/pods", { namespace: "w", labelSelector: "app=fg" })).items.length, 0);
    assert.equal((await client.list("apps/v1/replicasets", { namespace: "w", labelSelector: "app=fg" })).items.length, 0);
  });

  test("a DaemonSet runs one pod per eligible node, pinned by node affinity; taints, nodeSelector and node removal count", async () => {
    const node = (name: string, labels: Record<string, string>, taints: unknown[] = []) =>
      client.create({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } }, spec: { taints } });
    await node("n1", { "kubernetes.io/os": "linux" });
    await node("n2", { "kubernetes.io/os": "linux" }, [{ key: "dedicated", value: "db", effect: "NoSchedule" }]);
    await node("n3", { "kubernetes.io/os": "linux" }, [{ key: "node.kubernetes.io/not-ready", effect: "NoExecute" }]);
    await node("n4", { "kubernetes.io/os": "windows" });
    await client.create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "w" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: { metadata: { labels: { app: "agent" } }, spec: { nodeSelector: { "kubernetes.io/os": "linux" }, hostNetwork: true, containers: [{ name: "c", image: "x" }] } },
      },
    });
    const pods = await eventually(async () => {
      const p = await podsOf(client, "w", "app=agent");
      return p.length === 2 ? p : undefined;
    }, "two agent pods");
    assert.deepEqual(pods.map((p) => targetNode(p)).sort(), ["n1", "n3"], "n2's taint is not tolerated, n4 is not selected; not-ready:NoExecute is tolerated by default");
    for (const p of pods) {
      const spec = p.spec as { affinity: unknown; tolerations: { key?: string }[]; nodeName?: string };
      assert.deepEqual(spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [targetNode(p)] }] }] } } });
      assert.equal(spec.nodeName, undefined, "the scheduler binds it");
      assert.ok(spec.tolerations.some((t) => t.key === "node.kubernetes.io/network-unavailable"), "hostNetwork pods tolerate network-unavailable");
      assert.ok(p.metadata.labels?.[CONTROLLER_REVISION_HASH]);
      assert.equal(p.metadata.ownerReferences?.[0]?.kind, "DaemonSet");
    }
    await markPodsReady(client, "w", (p) => p.metadata.labels?.app === "agent");
    const status = await eventually(async () => {
      const s = (await client.get("apps/v1/daemonsets", "agent", "w")).status as Record<string, number>;
      return s?.numberAvailable === 2 ? s : undefined;
    }, "two available");
    assert.equal(status.desiredNumberScheduled, 2);
    assert.equal(status.currentNumberScheduled, 2);
    assert.equal(status.numberReady, 2);
    assert.equal(status.updatedNumberScheduled, 2);
    assert.equal(status.numberMisscheduled, 0);
    await client.patch("v1/nodes", "n2", "", { spec: { taints: [] } }, "merge");
    await eventually(async () => ((await podsOf(client, "w", "app=agent")).some((p) => targetNode(p) === "n2") ? true : undefined), "a pod for n2 once its taint is gone");
    await client.delete("v1/nodes", "n1");
    await eventually(async () => ((await podsOf(client, "w", "app=agent")).every((p) => targetNode(p) !== "n1") ? true : undefined), "n1's pod gone with it");
    await client.delete("apps/v1/daemonsets", "agent", "w", { propagationPolicy: "Background" });
    await eventually(async () => ((await client.list("v1/pods", { namespace: "w", labelSelector: "app=agent" })).items.length === 0 ? true : undefined), "the DaemonSet's pods gone with it");
  });

  test("Recreate scales the old ReplicaSet to zero before the new one gets pods", async () => {
    await client.create(deployment("rec", "w", 2, "r:1", { type: "Recreate" }));
    await eventually(async () => ((await podsOf(client, "w", "app=rec")).length === 2 ? true : undefined), "two pods");
    await client.patch("apps/v1/deployments", "rec", "w", { spec: { template: { spec: { containers: [{ name: "c", image: "r:2", args: ["netexec"] }] } } } }, "strategic");
    const image = (p: KObject) => (p.spec as { containers: { image: string }[] }).containers[0]!.image;
    let mixed = false;
    await eventually(async () => {
      const pods = await podsOf(client, "w", "app=rec");
      if (new Set(pods.map(image)).size > 1) mixed = true;
      return pods.length === 2 && pods.every((p) => image(p) === "r:2") ? true : undefined;
    }, "two new pods");
    assert.equal(mixed, false, "old and new pods never ran together");
  });

  test("a DaemonSet's template change replaces its pods node by node", async () => {
    for (const name of ["r1", "r2"]) await client.create({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { role: "roll" } } });
    const ds = (image: string): KObject => ({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "rolling", namespace: "w" },
      spec: { selector: { matchLabels: { app: "rolling" } }, template: { metadata: { labels: { app: "rolling" } }, spec: { nodeSelector: { role: "roll" }, containers: [{ name: "c", image }] } } },
    });
    await client.create(ds("d:1"));
    await eventually(async () => ((await podsOf(client, "w", "app=rolling")).length === 2 ? true : undefined), "two pods");
    await markPodsReady(client, "w", (p) => p.metadata.labels?.app === "rolling");
    await client.patch("apps/v1/daemonsets", "rolling", "w", { spec: { template: { spec: { containers: [{ name: "c", image: "d:2" }] } } } }, "strategic");
    const image = (p: KObject) => (p.spec as { containers: { image: string }[] }).containers[0]!.image;
    let fewest = 2;
    await eventually(async () => {
      const pods = await podsOf(client, "w", "app=rolling");
      fewest = Math.min(fewest, pods.filter((p) => (p.status as { phase?: string })?.phase === "Running").length);
      await markPodsReady(client, "w", (p) => p.metadata.labels?.app === "rolling");
      return pods.length === 2 && pods.every((p) => image(p) === "d:2") ? true : undefined;
    }, "both pods on the new template");
    assert.ok(fewest >= 1, "maxUnavailable 1: one node at a time");
    const status = await eventually(async () => {
      const s = (await client.get("apps/v1/daemonsets", "rolling", "w")).status as Record<string, number>;
      return s.updatedNumberScheduled === 2 && s.numberAvailable === 2 ? s : undefined;
    }, "status: two updated and available");
    assert.equal(status.desiredNumberScheduled, 2);
    const revisions = (await client.list("apps/v1/controllerrevisions", { namespace: "w", labelSelector: "app=rolling" })).items;
    const byRevision = Object.fromEntries(revisions.map((r) => [r.revision, ((r.data as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]!.image)]));
    assert.deepEqual(byRevision, { 1: "d:1", 2: "d:2" });
    const pods = await podsOf(client, "w", "app=rolling");
    const current = revisions.find((r) => r.revision === 2)!;
    assert.ok(pods.every((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH] === current.metadata.labels?.[CONTROLLER_REVISION_HASH]));
    assert.equal(current.metadata.ownerReferences?.[0]?.kind, "DaemonSet");
  });

  test("a rollout without progress for progressDeadlineSeconds fails with ProgressDeadlineExceeded, and recovers", async () => {
    const d = deployment("stuck", "w", 2);
    (d.spec as Record<string, unknown>).progressDeadlineSeconds = 1;
    await client.create(d);
    const progressing = async () => ((((await client.get("apps/v1/deployments", "stuck", "w")).status as { conditions?: { type: string; status: string; reason: string }[] })?.conditions ?? []).find((c) => c.type === "Progressing"));
    const failed = await eventually(async () => {
      const c = await progressing();
      return c?.reason === "ProgressDeadlineExceeded" ? c : undefined;
    }, "ProgressDeadlineExceeded", 10_000);
    assert.equal(failed.status, "False");
    await markPodsReady(client, "w", (p) => p.metadata.labels?.app === "stuck");
    await eventually(async () => ((await progressing())?.reason === "NewReplicaSetAvailable" ? true : undefined), "NewReplicaSetAvailable once the pods are ready");
  });

  test("no controller errors", () => {
    assert.deepEqual(errors.slice(0, 5), []);
  });
});
