import { test } from "node:test";
import assert from "node:assert/strict";
import { addCniNodeFeature, withFeature } from "./cninode.ts";
import { KubeClient, KubeApiError } from "./client.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";

async function withServer(fn: (server: FakeApiServer, client: KubeClient) => Promise<void>): Promise<void> {
  const server = new FakeApiServer();
  await server.start();
  try {
    await fn(server, new KubeClient(server.kubeConfig(), { userAgent: "test" }));
  } finally {
    await server.stop();
  }
}

test("a feature is appended, or replaces its namesake in place", () => {
  const features = [{ name: "CustomNetworking", value: "blue" }, { name: "Other", value: "x" }];
  assert.deepEqual(withFeature(features, { name: "SecurityGroupsForPods" }), [...features, { name: "SecurityGroupsForPods" }]);
  assert.deepEqual(withFeature(features, { name: "CustomNetworking", value: "green" }), [{ name: "CustomNetworking", value: "green" }, { name: "Other", value: "x" }]);
});

test("the feature is merge-patched with the object's resourceVersion, keeping what others wrote", async () => {
  await withServer(async (server, client) => {
    server.put("cninodes", { metadata: { name: "node-a" }, spec: { features: [{ name: "CustomNetworking", value: "blue" }], tags: { team: "net" } } });
    const got = await addCniNodeFeature(client, "node-a", { name: "SecurityGroupsForPods" });
    assert.equal(got.changed, true);
    const stored = server.get("cninodes", "node-a") as Record<string, any>;
    assert.deepEqual(stored.spec, { features: [{ name: "CustomNetworking", value: "blue" }, { name: "SecurityGroupsForPods" }], tags: { team: "net" } });
    const again = await addCniNodeFeature(client, "node-a", { name: "SecurityGroupsForPods" });
    assert.equal(again.changed, false);
    assert.deepEqual(server.requests.map((r) => r.call), ["get cninodes.vpcresources.k8s.aws", "patch cninodes.vpcresources.k8s.aws", "get cninodes.vpcresources.k8s.aws"]);
  });
});

test("a concurrent write (409) is read again and retried, bounded", async () => {
  await withServer(async (server, client) => {
    server.put("cninodes", { metadata: { name: "node-a" }, spec: {} });
    server.forcedConflicts = 2;
    const got = await addCniNodeFeature(client, "node-a", { name: "CustomNetworking", value: "blue" });
    assert.equal(got.changed, true);
    assert.equal(server.requests.filter((r) => r.method === "PATCH").length, 3);
    server.forcedConflicts = 10;
    await assert.rejects(addCniNodeFeature(client, "node-a", { name: "CustomNetworking", value: "green" }, 3), (err: unknown) => err instanceof KubeApiError && err.status === 409);
    assert.deepEqual((server.get("cninodes", "node-a") as Record<string, any>).spec.features, [{ name: "CustomNetworking", value: "blue" }]);
  });
});

test("a node without a CNINode yet gets a clear error and nothing is created", async () => {
  await withServer(async (server, client) => {
    await assert.rejects(addCniNodeFeature(client, "node-a", { name: "SecurityGroupsForPods" }), /CNINode node-a does not exist yet \(the VPC Resource Controller creates one per node\)/);
    assert.equal(server.all("cninodes").length, 0);
  });
});
