import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeClient, KubeApiError, UndeclaredKubeCallError } from "./client.ts";
import { KUBE_API_CALLS, describeCall, callPath } from "./api-calls.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";
import { nodeInformer, podsOnNodeInformer, eniConfigInformer } from "./node-informers.ts";

async function withServer(fn: (server: FakeApiServer, client: KubeClient) => Promise<void>): Promise<void> {
  const server = new FakeApiServer();
  await server.start();
  const client = new KubeClient(server.kubeConfig(), { userAgent: "vpc-cni-agent/test", requestTimeoutMs: 2_000 });
  try {
    await fn(server, client);
  } finally {
    await server.stop();
  }
}

test("every declared call is made by a client method, and the client makes no other", async () => {
  await withServer(async (server, client) => {
    server.put("nodes", { metadata: { name: "node-a" } });
    server.put("cninodes", { metadata: { name: "node-a" }, spec: {} });
    await client.version();
    await client.listNodes({ fieldSelector: "metadata.name=node-a" });
    await client.listPods({ fieldSelector: "spec.nodeName=node-a" });
    await client.listEniConfigs();
    const ev = await client.createEvent("kube-system", { metadata: { name: "aws-node-x.1" }, involvedObject: { kind: "Pod", name: "aws-node-x", namespace: "kube-system" }, reason: "R", message: "m" });
    await client.patchEvent("kube-system", ev.metadata?.name ?? "", { count: 2 });
    const cni = await client.getCniNode("node-a");
    await client.patchCniNode("node-a", { metadata: { resourceVersion: cni.metadata.resourceVersion }, spec: { features: [{ name: "SecurityGroupsForPods" }] } });
    // The watches go through the informers.
    const log = () => undefined;
    for (const informer of [nodeInformer(client, "node-a", log), podsOnNodeInformer(client, "node-a", log), eniConfigInformer(client, log)]) {
      informer.start();
      assert.equal(await informer.waitForSync(5_000), true, informer.name);
      await informer.stop();
    }
    const made = new Set(server.requests.map((r) => r.call));
    const declared = new Set(Object.values(KUBE_API_CALLS).map((c) => describeCall(c)));
    // The watches are recorded once connected; give the last one a moment.
    for (let i = 0; i < 50 && made.size < declared.size; i++) {
      await new Promise((r) => setTimeout(r, 20));
      for (const r of server.requests) made.add(r.call);
    }
    assert.deepEqual([...made].sort(), [...declared].sort());
    assert.ok(server.requests.every((r) => r.url !== ""));
  });
});

test("a request that is not declared never leaves the process", async () => {
  await withServer(async (server, client) => {
    const before = server.requests.length;
    await assert.rejects(client.watch.watch("/api/v1/secrets", {}, () => undefined, () => undefined), (err: unknown) => {
      assert.ok(err instanceof UndeclaredKubeCallError);
      assert.match((err as Error).message, /watch secrets .*not declared in src\/k8s\/api-calls\.ts/);
      return true;
    });
    assert.equal(server.requests.length, before);
  });
});

test("a refused call names the call and the ClusterRole that must allow it", async () => {
  await withServer(async (server, client) => {
    server.deny("list", "nodes");
    await assert.rejects(client.listNodes(), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.status, 403);
      assert.equal(err.reason, "Forbidden");
      assert.match(err.message, /list nodes: 403 Forbidden: .*cannot list resource "nodes".*ClusterRole aws-node \(deploy\/aws-node.yaml\) must allow list nodes/);
      return true;
    });
  });
});

test("not found and conflict keep their status; no answer is status 0", async () => {
  await withServer(async (server, client) => {
    await assert.rejects(client.getCniNode("missing"), (err: unknown) => err instanceof KubeApiError && err.status === 404 && /get cninodes.vpcresources.k8s.aws missing: 404 NotFound/.test(err.message));
    server.put("cninodes", { metadata: { name: "n" } });
    await assert.rejects(client.patchCniNode("n", { metadata: { resourceVersion: "1" } }), (err: unknown) => err instanceof KubeApiError && err.status === 409);
    await server.stop();
    await assert.rejects(client.version(), (err: unknown) => err instanceof KubeApiError && err.status === 0 && /get \/version: no answer/.test(err.message));
  });
});

test("declared calls map to the URLs the API server serves", () => {
  assert.equal(callPath(KUBE_API_CALLS.listPods), "/api/v1/pods");
  assert.equal(callPath(KUBE_API_CALLS.createEvents, { namespace: "kube-system" }), "/api/v1/namespaces/kube-system/events");
  assert.equal(callPath(KUBE_API_CALLS.patchCniNodes, { name: "ip-10-0-0-1.ec2.internal" }), "/apis/vpcresources.k8s.aws/v1alpha1/cninodes/ip-10-0-0-1.ec2.internal");
  assert.throws(() => callPath(KUBE_API_CALLS.createEvents), /namespaced/);
  assert.throws(() => callPath(KUBE_API_CALLS.getCniNodes, { namespace: "x", name: "y" }), /cluster-scoped/);
});
