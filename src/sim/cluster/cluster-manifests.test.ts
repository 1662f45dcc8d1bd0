// The cluster's start-up manifests and `vpcsim apply/delete -f` as the daemon runs them, on the
// in-process API server: deploy/ applies whole (CRDs served before use), aws-node's DaemonSet gets
// a pod per node; apply reports created/unchanged/configured per object and carries on past a bad
// one; delete cascades as asked; the cluster topology spreads nodes over two zones.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestServer, eventually, type TestServer } from "../kube/kube.test-support.ts";
import { ADMIN_USER } from "../kube/server.ts";
import { parseManifests } from "../kube/apply.ts";
import { ControllerManager } from "./controller-manager.ts";
import { applyClusterManifests } from "./cluster-manifests.ts";
import { applyManifestObjects, deleteManifestObjects, objectsOf } from "./manifest-commands.ts";
import { clusterTopology } from "./cluster-topology.ts";

const DEPLOY = join(import.meta.dirname, "..", "..", "..", "deploy");

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec]}]
---
apiVersion: v1
kind: Nope
metadata: {name: x}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
`;

describe("cluster manifests", () => {
  let ts: TestServer;
  let cm: ControllerManager;
  before(async () => {
    ts = await startTestServer();
    cm = new ControllerManager(ts.server.client);
    await cm.start();
  });
  after(async () => {
    cm.stop();
    await ts.close();
  });

  test("deploy/ applies in one pass and aws-node's DaemonSet puts a pod on each node", async () => {
    const client = ts.server.client;
    await client.create({ apiVersion: "v1", kind: "Node", metadata: { name: "ip-10-0-0-5.ec2.internal", labels: { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" } } });
    const applied = await applyClusterManifests(client, [DEPLOY]);
    const kinds = applied.map((a) => a.kind);
    assert.ok(kinds.indexOf("CustomResourceDefinition") < kinds.indexOf("DaemonSet"));
    assert.ok(applied.every((a) => a.action === "created"));
    assert.equal(client.type("crd.k8s.amazonaws.com/v1alpha1/eniconfigs").kind, "ENIConfig", "ENIConfigs are served");
    const pods = await eventually(async () => {
      const list = (await client.list("v1/pods", { namespace: "kube-system", labelSelector: "k8s-app=aws-node" })).items;
      return list.length === 1 ? list : undefined;
    }, "aws-node's pod");
    const env = ((pods[0]!.spec as { containers: { name: string; env?: { name: string }[] }[] }).containers.find((c) => c.name === "aws-node")!.env ?? []).map((e) => e.name);
    assert.ok(env.includes("WARM_ENI_TARGET"), "the manifest's environment, as written");
    const again = await applyClusterManifests(client, [DEPLOY]);
    assert.ok(again.every((a) => a.action === "unchanged"), JSON.stringify(again.filter((a) => a.action !== "unchanged")));
  });

  test("apply -f: a line per object in kubectl's words, past a failing one; delete -f cascades", async () => {
    const admin = ts.server.clientAs(ADMIN_USER);
    const objects = objectsOf({ objects: parseManifests(WEB, "web.yaml") });
    const first = await applyManifestObjects(admin, objects);
    assert.deepEqual(first.lines, ["deployment.apps/web created", "configmap/settings created"]);
    assert.equal(first.errors.length, 1);
    assert.match(first.errors[0]!, /^Error from server \(NotFound\): no matches for kind "Nope" in version "v1"$/);
    const changed = parseManifests(WEB.replace('a: "1"', 'a: "2"'), "web.yaml").filter((o) => o.kind !== "Nope");
    assert.deepEqual((await applyManifestObjects(admin, changed)).lines, ["deployment.apps/web unchanged", "configmap/settings configured"]);
    await eventually(async () => ((await admin.list("v1/pods", { namespace: "default", labelSelector: "app=web" })).items.length === 2 ? true : undefined), "web's pods");
    const deleted = await deleteManifestObjects(admin, changed);
    assert.deepEqual(deleted.lines, ['deployment.apps "web" deleted', 'configmap "settings" deleted']);
    await eventually(async () => ((await admin.list("v1/pods", { namespace: "default", labelSelector: "app=web" })).items.length === 0 ? true : undefined), "web's pods gone with it");
    const twice = await deleteManifestObjects(admin, changed);
    assert.deepEqual(twice.lines, []);
    assert.equal(twice.errors.length, 2);
    assert.throws(() => objectsOf({ objects: [{ kind: "Pod" }] }), /apiVersion, kind and metadata/);
  });

  test("the cluster topology: N nodes of one type over two zones, each public", () => {
    const t = clusterTopology(3, "m5.large");
    assert.deepEqual(t.instances.map((i) => [i.name, i.subnet, i.type, i.public]), [["node-1", "a", "m5.large", true], ["node-2", "b", "m5.large", true], ["node-3", "a", "m5.large", true]]);
    assert.deepEqual(t.subnets.map((s) => s.zone), ["us-east-1a", "us-east-1b"]);
    assert.throws(() => clusterTopology(0), /from 1 to 20/);
  });
});
