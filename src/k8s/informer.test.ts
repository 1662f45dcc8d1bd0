import { test } from "node:test";
import assert from "node:assert/strict";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { KubeClient } from "./client.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";
import { Informer, type InformerLog } from "./informer.ts";
import { callPath, KUBE_API_CALLS } from "./api-calls.ts";
import { podsOnNodeInformer } from "./node-informers.ts";

type Line = { level: string; msg: string };

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup() {
  const server = new FakeApiServer();
  await server.start();
  const client = new KubeClient(server.kubeConfig(), { userAgent: "test", requestTimeoutMs: 2_000 });
  const lines: Line[] = [];
  const log: InformerLog = (level, msg) => void lines.push({ level, msg });
  const informer = new Informer<V1Node>({
    name: "node node-a",
    path: callPath(KUBE_API_CALLS.watchNodes),
    list: () => client.listNodes({ fieldSelector: "metadata.name=node-a" }),
    watch: client.watch,
    fieldSelector: "metadata.name=node-a",
    log,
    retryMs: { initial: 20, max: 100 },
  });
  return { server, client, informer, lines };
}

test("the node informer lists only its node and follows its changes", async () => {
  const { server, informer } = await setup();
  try {
    server.put("nodes", { metadata: { name: "node-a", labels: { zone: "a" } }, status: { capacity: { pods: "29" } } });
    server.put("nodes", { metadata: { name: "node-b" } });
    const changes: string[] = [];
    informer.onChange((type, n) => changes.push(`${type} ${n.metadata?.name}`));
    informer.start();
    assert.equal(await informer.waitForSync(5_000), true);
    assert.deepEqual(informer.list().map((n) => n.metadata?.name), ["node-a"]);
    server.put("nodes", { metadata: { name: "node-a", labels: { zone: "a", "k8s.amazonaws.com/eniConfig": "blue" } }, status: { capacity: { pods: "110" } } });
    await until("the update", () => informer.get("node-a")?.status?.capacity?.["pods"] === "110");
    assert.equal(informer.get("node-a")?.metadata?.labels?.["k8s.amazonaws.com/eniConfig"], "blue");
    assert.deepEqual(changes, ["add node-a", "update node-a"]);
  } finally {
    await informer.stop();
    await server.stop();
  }
});

test("through an outage the informer serves what it saw, then catches up on what changed meanwhile", async () => {
  const { server, informer, lines } = await setup();
  try {
    server.put("nodes", { metadata: { name: "node-a" }, status: { capacity: { pods: "29" } } });
    informer.start();
    await informer.waitForSync(5_000);
    await server.stop();
    await until("the outage to be noticed", () => informer.failing !== undefined);
    assert.equal(informer.get("node-a")?.status?.capacity?.["pods"], "29", "the cache is kept");
    // Changes while the informer cannot see them.
    server.put("nodes", { metadata: { name: "node-a" }, status: { capacity: { pods: "58" } } });
    await new Promise((r) => setTimeout(r, 150)); // several failed retries
    await server.start();
    await until("the change made during the outage", () => informer.get("node-a")?.status?.capacity?.["pods"] === "58");
    await until("recovery", () => informer.failing === undefined);
    const warnings = lines.filter((l) => l.level === "warn");
    assert.equal(warnings.length, 1, `one warning per outage, got ${JSON.stringify(lines)}`);
    assert.match(warnings[0]?.msg ?? "", /node node-a: .*no answer.*Serving the last 1 objects seen; retrying/);
    assert.ok(lines.some((l) => l.level === "info" && /answers again/.test(l.msg)));
  } finally {
    await informer.stop();
    await server.stop();
  }
});

test("after the server forgot the informer's resourceVersion (410 Gone) it relists and reports deletions", async () => {
  const server = new FakeApiServer();
  await server.start();
  const client = new KubeClient(server.kubeConfig(), { userAgent: "test" });
  const informer = podsOnNodeInformer(client, "node-a", () => undefined);
  try {
    server.put("pods", { metadata: { name: "p1", namespace: "default" }, spec: { nodeName: "node-a" } });
    server.put("pods", { metadata: { name: "p2", namespace: "default" }, spec: { nodeName: "node-a" } });
    server.put("pods", { metadata: { name: "elsewhere", namespace: "default" }, spec: { nodeName: "node-b" } });
    const deleted: string[] = [];
    informer.onChange((type, p: V1Pod) => type === "delete" && deleted.push(p.metadata?.name ?? ""));
    informer.start();
    await informer.waitForSync(5_000);
    assert.deepEqual(informer.list().map((p) => p.metadata?.name).sort(), ["p1", "p2"]);
    await server.stop();
    server.remove("pods", "p2", "default");
    server.put("pods", { metadata: { name: "p3", namespace: "default" }, spec: { nodeName: "node-a" } });
    server.compact();
    await server.start();
    await until("the relist", () => informer.list().length === 2 && informer.get("p3", "default") !== undefined, 10_000);
    assert.deepEqual(deleted, ["p2"]);
  } finally {
    await informer.stop();
    await server.stop();
  }
});

test("a refused list is an error that names the missing rule; the informer recovers once it is granted", async () => {
  const { server, informer, lines } = await setup();
  try {
    server.put("nodes", { metadata: { name: "node-a" } });
    server.deny("list", "nodes");
    informer.start();
    await until("the refusal", () => informer.failing !== undefined);
    assert.equal(informer.failing?.status, 403);
    assert.equal(informer.synced, false);
    const error = lines.find((l) => l.level === "error");
    assert.match(error?.msg ?? "", /403 Forbidden.*ClusterRole aws-node .* must allow list nodes/);
    server.allow("list", "nodes");
    assert.equal(await informer.waitForSync(5_000), true);
    assert.equal(informer.failing, undefined);
  } finally {
    await informer.stop();
    await server.stop();
  }
});
