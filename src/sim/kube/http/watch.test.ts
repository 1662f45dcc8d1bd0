// Watches and informers through client-node: replay from a resourceVersion, 410 Gone once the
// history has moved on (and the informer's relist), bookmarks and streaming lists, selectors
// (objects leaving and entering them), timeouts, dropped connections without lost objects, and
// the server's side: no watcher left behind, slow readers cut off.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { CoreV1Api, ListWatch, Watch, makeInformer, type V1ConfigMap, type V1Pod } from "@kubernetes/client-node";
import { eventually, startTestServer, type TestServer } from "../kube.test-support.ts";

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  object: any;
}

function collect(ts: TestServer, path: string, query: Record<string, string | number | boolean | undefined>) {
  const seen: Seen[] = [];
  let ended: unknown = "running";
  const started = new Watch(ts.admin).watch(
    path,
    query,
    (type, object) => seen.push({ type, name: object?.metadata?.name, rv: object?.metadata?.resourceVersion, object }),
    (err) => (ended = err ?? null),
  );
  return { seen, started, ended: () => ended };
}

describe("watch and informers with client-node", () => {
  let ts: TestServer;
  let core: CoreV1Api;
  before(async () => {
    ts = await startTestServer({ watch: { bookmarkIntervalMs: 200 } });
    core = ts.admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "w" } } });
  });
  after(() => ts.close());

  const cm = (name: string, labels: Record<string, string> = {}): V1ConfigMap => ({ metadata: { name, labels } });

  test("from a resourceVersion: the changes after it, in order; without one: the current state first", async () => {
    const a = await core.createNamespacedConfigMap({ namespace: "w", body: cm("a") });
    await core.createNamespacedConfigMap({ namespace: "w", body: cm("b") });
    await core.deleteNamespacedConfigMap({ name: "b", namespace: "w" });
    const replay = collect(ts, "/api/v1/namespaces/w/configmaps", { resourceVersion: a.metadata!.resourceVersion });
    await eventually(() => replay.seen.length >= 2 || undefined, "replayed events");
    assert.deepEqual(replay.seen.map((e) => [e.type, e.name]), [["ADDED", "b"], ["DELETED", "b"]]);
    const initial = collect(ts, "/api/v1/namespaces/w/configmaps", {});
    await eventually(() => initial.seen.find((e) => e.name === "a"), "synthetic ADDED");
    assert.ok(initial.seen.every((e) => e.type === "ADDED"));
    (await replay.started).abort();
    (await initial.started).abort();
  });

  test("a resourceVersion older than the history is an ERROR event with a 410 Status, and the watch ends", async () => {
    const before = await core.listNamespacedConfigMap({ namespace: "w" });
    ts.server.store.setHistoryWindow({ maxChanges: 3 });
    try {
      for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: "w", body: cm(`old${i}`) });
      const w = collect(ts, "/api/v1/namespaces/w/configmaps", { resourceVersion: before.metadata!.resourceVersion });
      await eventually(() => (w.ended() !== "running" ? true : undefined), "the watch to end");
      assert.equal(w.seen.length, 1);
      assert.equal(w.seen[0]!.type, "ERROR");
      assert.equal(w.seen[0]!.object.code, 410);
      assert.equal(w.seen[0]!.object.reason, "Expired");
      assert.match(w.seen[0]!.object.message, /too old resource version/);
    } finally {
      ts.server.store.setHistoryWindow({ maxChanges: 20_000 });
    }
  });

  test("bookmarks carry the current resourceVersion; sendInitialEvents ends the initial state with one", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: "w" });
    const w = collect(ts, "/api/v1/namespaces/w/configmaps", { resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true });
    const mark = await eventually(() => w.seen.find((e) => e.type === "BOOKMARK"), "a bookmark");
    assert.ok(Number(mark.rv) >= Number(list.metadata!.resourceVersion));
    assert.deepEqual(Object.keys(mark.object.metadata), ["resourceVersion"]);
    (await w.started).abort();
    const streaming = collect(ts, "/api/v1/namespaces/w/configmaps", { sendInitialEvents: true, resourceVersionMatch: "NotOlderThan", allowWatchBookmarks: true });
    const end = await eventually(() => streaming.seen.find((e) => e.type === "BOOKMARK"), "the initial-events-end bookmark");
    assert.equal(end.object.metadata.annotations["k8s.io/initial-events-end"], "true");
    const before = streaming.seen.slice(0, streaming.seen.indexOf(end));
    assert.equal(before.length, list.items.length);
    assert.ok(before.every((e) => e.type === "ADDED"));
    (await streaming.started).abort();
  });

  test("timeoutSeconds ends the watch; client-node then reports it done without error", async () => {
    const w = collect(ts, "/api/v1/namespaces/w/configmaps", { timeoutSeconds: 1, resourceVersion: "1" });
    await eventually(() => (w.ended() !== "running" ? true : undefined), "the watch to time out", 10_000);
    assert.equal(w.ended(), null);
  });

  test("objects that leave a label selector are reported DELETED, those that enter it ADDED", async () => {
    const start = await core.createNamespacedConfigMap({ namespace: "w", body: cm("sel", { tier: "front" }) });
    const w = collect(ts, "/api/v1/namespaces/w/configmaps", { resourceVersion: start.metadata!.resourceVersion, labelSelector: "tier=front" });
    const coreMerge = (labels: Record<string, string>) => ts.server.client.patch("v1/configmaps", "sel", "w", { metadata: { labels } }, "merge");
    await coreMerge({ tier: "back" });
    await coreMerge({ tier: "front" });
    await eventually(() => (w.seen.length >= 2 ? true : undefined), "two events");
    assert.deepEqual(w.seen.map((e) => e.type), ["DELETED", "ADDED"]);
    assert.equal(w.seen[0]!.object.metadata.labels.tier, "front", "the DELETED event carries the last matching state");
    (await w.started).abort();
  });

  test("an informer with a field selector (spec.nodeName) sees exactly its node's pods, through drops and a 410", async () => {
    await core.createNamespace({ body: { metadata: { name: "inf" } } });
    const pod = (name: string, node: string): V1Pod => ({ metadata: { name }, spec: { nodeName: node, containers: [{ name: "c", image: "busybox:1" }] } });
    await core.createNamespacedPod({ namespace: "inf", body: pod("mine-0", "n1") });
    await core.createNamespacedPod({ namespace: "inf", body: pod("other-0", "n2") });
    const informer = new ListWatch<V1Pod>(
      "/api/v1/pods",
      new Watch(ts.admin),
      () => core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=n1" }),
      false,
      undefined,
      "spec.nodeName=n1",
    );
    let running = true;
    // Like any informer user: restart after a network error.
    informer.on("error", () => {
      setTimeout(() => {
        if (running) void informer.start();
      }, 50);
    });
    await informer.start();
    const names = () => informer.list().map((p) => p.metadata!.name).sort().join(",");
    await eventually(() => (names() === "mine-0" ? true : undefined), "the first list");
    await core.createNamespacedPod({ namespace: "inf", body: pod("mine-1", "n1") });
    await core.createNamespacedPod({ namespace: "inf", body: pod("other-1", "n2") });
    await eventually(() => (names() === "mine-0,mine-1" ? true : undefined), "the watch's ADDED");
    // A dropped connection: the informer resumes from its resourceVersion; nothing is lost.
    ts.server.dropConnections();
    await core.createNamespacedPod({ namespace: "inf", body: pod("mine-2", "n1") });
    await core.deleteNamespacedPod({ name: "mine-0", namespace: "inf", gracePeriodSeconds: 0 });
    await eventually(() => (names() === "mine-1,mine-2" ? true : undefined), "the changes made while disconnected");
    // The history moves past the informer while it is cut off: it gets 410 and relists.
    ts.server.store.setHistoryWindow({ maxChanges: 2 });
    try {
      ts.server.dropConnections();
      for (let i = 3; i < 8; i++) await core.createNamespacedPod({ namespace: "inf", body: pod(`mine-${i}`, "n1") });
      await core.deleteNamespacedPod({ name: "mine-1", namespace: "inf", gracePeriodSeconds: 0 });
      await eventually(() => (names() === "mine-2,mine-3,mine-4,mine-5,mine-6,mine-7" ? true : undefined), "the relisted state");
    } finally {
      ts.server.store.setHistoryWindow({ maxChanges: 20_000 });
    }
    const truth = (await core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=n1" })).items.map((p) => p.metadata!.name).sort().join(",");
    assert.equal(names(), truth, "the informer's cache is the server's state");
    running = false;
    await informer.stop();
  });

  test("makeInformer with a label selector keeps a cache of the matching objects", async () => {
    await core.createNamespace({ body: { metadata: { name: "lab" } } });
    const informer = makeInformer(ts.admin, "/api/v1/namespaces/lab/configmaps", () => core.listNamespacedConfigMap({ namespace: "lab", labelSelector: "app in (x,y)" }), "app in (x,y)");
    const added: string[] = [];
    const deleted: string[] = [];
    informer.on("add", (o) => added.push(o.metadata!.name!));
    informer.on("delete", (o) => deleted.push(o.metadata!.name!));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: "lab", body: cm("one", { app: "x" }) });
    await core.createNamespacedConfigMap({ namespace: "lab", body: cm("two", { app: "z" }) });
    await core.createNamespacedConfigMap({ namespace: "lab", body: cm("three", { app: "y" }) });
    await core.deleteNamespacedConfigMap({ name: "one", namespace: "lab" });
    await eventually(() => (deleted.length === 1 ? true : undefined), "the delete");
    assert.deepEqual(added, ["one", "three"]);
    assert.deepEqual(informer.list().map((o) => o.metadata!.name), ["three"]);
    await informer.stop();
  });

  test("a client that goes away leaves no watcher behind; one that stops reading is cut off", async () => {
    const fresh = await startTestServer();
    try {
      const baseline = fresh.server.store.subscriberCount;
      const watches = await Promise.all(Array.from({ length: 5 }, () => new Watch(fresh.admin).watch("/api/v1/configmaps", {}, () => {}, () => {})));
      await eventually(() => (fresh.server.store.subscriberCount === baseline + 5 ? true : undefined), "five watchers");
      for (const w of watches) w.abort();
      await eventually(() => (fresh.server.store.subscriberCount === baseline ? true : undefined), "the watchers to be gone");
    } finally {
      await fresh.close();
    }

    const slow = await startTestServer({ maxWatchBacklogBytes: 64 * 1024 });
    try {
      const slowBaseline = slow.server.store.subscriberCount;
      const port = Number(slow.url.split(":").pop());
      const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
      await new Promise((r) => socket.once("secureConnect", r));
      socket.write(`GET /api/v1/configmaps?watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slow.server.adminToken}\r\n\r\n`);
      socket.pause(); // and never read again
      await eventually(() => (slow.server.store.subscriberCount === slowBaseline + 1 ? true : undefined), "the slow watcher");
      const big = "x".repeat(200_000);
      for (let i = 0; i < 40 && slow.server.store.subscriberCount > slowBaseline; i++) {
        await slow.server.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `big${i}`, namespace: "default" }, data: { big } });
      }
      await eventually(() => (slow.server.store.subscriberCount === slowBaseline ? true : undefined), "the slow watcher to be cut off");
      socket.destroy();
    } finally {
      await slow.close();
    }
  });
});
