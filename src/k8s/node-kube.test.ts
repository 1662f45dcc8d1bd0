import { test } from "node:test";
import assert from "node:assert/strict";
import { NodeKube, type NodeKubeOptions } from "./node-kube.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function options(server: FakeApiServer, extra: Partial<NodeKubeOptions> = {}, lines: string[] = []): NodeKubeOptions {
  return {
    env: { KUBECONFIG: server.kubeconfigFile() },
    nodeName: "node-a",
    pod: { namespace: "kube-system", name: "aws-node-x1" },
    requireApiServer: false,
    watchEniConfigs: true,
    eniConfigKeys: { annotation: "k8s.amazonaws.com/eniConfig", label: "k8s.amazonaws.com/eniConfig" },
    userAgent: "vpc-cni-agent/test",
    log: (level, msg) => void lines.push(`${level} ${msg}`),
    ...extra,
  };
}

function seed(server: FakeApiServer): void {
  server.put("nodes", {
    metadata: { name: "node-a", annotations: { "k8s.amazonaws.com/eniConfig": "blue" } },
    spec: { taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }] },
    status: { capacity: { pods: "58" } },
  });
  server.put("pods", { metadata: { name: "aws-node-x1", namespace: "kube-system", uid: "pod-uid-1" }, spec: { nodeName: "node-a" } });
  server.put("eniconfigs", { metadata: { name: "blue" }, spec: { subnet: "subnet-0abc", securityGroups: ["sg-01"] } });
}

test("connected: max pods, cordon, ENIConfig and events on its own pod come from the API server", async () => {
  const server = new FakeApiServer();
  await server.start();
  seed(server);
  const kube = await NodeKube.connect(options(server));
  try {
    assert.equal(kube.state, "connected");
    assert.equal(await kube.waitForNode(5_000), true);
    await until("the pods and ENIConfigs", () => kube.ownPod() !== undefined && kube.eniConfig("blue") !== undefined);
    assert.equal(kube.maxPods(), 58);
    assert.equal(kube.unschedulable(), true);
    assert.equal(kube.eniConfigName(), "blue");
    assert.equal(kube.eniConfig("blue")?.spec.subnet, "subnet-0abc");
    kube.recordMissingPermission("CreateNetworkInterface");
    kube.recordAddressExhaustion("InsufficientFreeAddressesInSubnet", "subnet-0abc has no free addresses", 120_000);
    await kube.events.flush();
    const events = server.all("events") as Record<string, any>[];
    assert.deepEqual(events.map((e) => [e.reason, e.involvedObject.uid, e.source.component, e.source.host]).sort(), [
      ["InsufficientFreeAddressesInSubnet", "pod-uid-1", "aws-node", "node-a"],
      ["MissingIAMPermissions", "pod-uid-1", "aws-node", "node-a"],
    ]);
    assert.match(events.find((e) => e.reason === "MissingIAMPermissions")?.message ?? "", /^Unauthorized operation: failed to call ec2:CreateNetworkInterface due to missing permissions/);
    server.put("cninodes", { metadata: { name: "node-a" }, spec: {} });
    assert.equal((await kube.addCniNodeFeature({ name: "SecurityGroupsForPods" })).changed, true);
  } finally {
    await kube.stop();
    await server.stop();
  }
});

test("the API server away at start: start-up goes on after its deadline, and the informers start once it answers", async () => {
  const server = new FakeApiServer();
  await server.start();
  seed(server);
  const env = { KUBECONFIG: server.kubeconfigFile() };
  await server.stop();
  const lines: string[] = [];
  const kube = await NodeKube.connect(options(server, { env, waitPolicy: { required: false, pollMs: 20, deadlineMs: 100 }, recheckMs: 20 }, lines));
  try {
    assert.equal(kube.state, "waiting");
    assert.equal(kube.maxPods(), undefined, "unknown until the API server answers");
    assert.equal(kube.eniConfigName(), null);
    assert.ok(lines.some((l) => /^warn going on without the Kubernetes API/.test(l)), lines.join("\n"));
    kube.recordMissingPermission("AttachNetworkInterface"); // queued, retried
    await server.start();
    await until("the connection", () => kube.state === "connected");
    assert.equal(await kube.waitForNode(5_000), true);
    assert.equal(kube.maxPods(), 58);
  } finally {
    await kube.stop();
    await server.stop();
  }
});

test("without Kubernetes access configured the agent runs on its own, unless a feature needs the API server", async () => {
  const lines: string[] = [];
  const server = new FakeApiServer();
  const kube = await NodeKube.connect({ ...options(server, {}, lines), env: {} });
  assert.equal(kube.state, "not-configured");
  assert.equal(kube.maxPods(), undefined);
  kube.recordMissingPermission("CreateTags");
  assert.ok(lines.some((l) => l.startsWith("warn event MissingIAMPermissions")), "logged instead");
  await assert.rejects(kube.addCniNodeFeature({ name: "SecurityGroupsForPods" }), /no Kubernetes access/);
  await kube.stop();
  await assert.rejects(NodeKube.connect({ ...options(server), env: {}, requireApiServer: true }), /need the API server/);
  await assert.rejects(NodeKube.connect({ ...options(server), env: { KUBECONFIG: "/nonexistent" } }), /KUBECONFIG names \/nonexistent/);
});

test("a KUBECONFIG without MY_NODE_NAME (the agent run by hand) runs without the API server", async () => {
  const server = new FakeApiServer();
  await server.start();
  try {
    const lines: string[] = [];
    const kube = await NodeKube.connect(options(server, { nodeName: "" }, lines));
    assert.equal(kube.state, "not-configured");
    assert.ok(lines.some((l) => /running without the Kubernetes API: MY_NODE_NAME is not set/.test(l)));
    assert.equal(server.requests.length, 0);
    await assert.rejects(NodeKube.connect(options(server, { nodeName: "", requireApiServer: true })), /MY_NODE_NAME is not set .*need the API server/);
  } finally {
    await server.stop();
  }
});
