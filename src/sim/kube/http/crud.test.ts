// CRUD through the unmodified @kubernetes/client-node over HTTPS: Kubernetes' Status errors,
// resourceVersion semantics of updates and lists, paging, finalizers, graceful pod deletion,
// binding, dry runs and deletion options.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api, CoordinationV1Api, PatchStrategy, setHeaderOptions, type V1ConfigMap } from "@kubernetes/client-node";
import { startTestServer, type TestServer } from "../kube.test-support.ts";

function status(err: unknown): { code: number; reason: string; message: string; details?: { causes?: { field: string; reason: string }[]; name?: string; kind?: string } } {
  const e = err as { code?: number; body?: string };
  assert.equal(typeof e.code, "number", `expected an API error, got ${String(err)}`);
  const body = JSON.parse(e.body!);
  assert.equal(body.kind, "Status");
  assert.equal(body.status, "Failure");
  assert.equal(body.code, e.code);
  return body;
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return status(err);
  }
  assert.fail("the call succeeded");
}

describe("CRUD over HTTPS with client-node", () => {
  let ts: TestServer;
  let core: CoreV1Api;
  before(async () => {
    ts = await startTestServer();
    core = ts.admin.makeApiClient(CoreV1Api);
  });
  after(() => ts.close());

  const cm = (name: string, data: Record<string, string> = {}): V1ConfigMap => ({ metadata: { name }, data });

  test("create, get, update, delete; every write gets a new resourceVersion", async () => {
    const created = await core.createNamespacedConfigMap({ namespace: "default", body: cm("a", { x: "1" }) });
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp);
    const got = await core.readNamespacedConfigMap({ name: "a", namespace: "default" });
    assert.equal(got.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const updated = await core.replaceNamespacedConfigMap({ name: "a", namespace: "default", body: { ...got, data: { x: "2" } } });
    assert.ok(Number(updated.metadata!.resourceVersion) > Number(got.metadata!.resourceVersion));
    const same = await core.replaceNamespacedConfigMap({ name: "a", namespace: "default", body: updated });
    assert.equal(same.metadata?.resourceVersion, updated.metadata?.resourceVersion, "an update that changes nothing is not a new revision");
    await core.deleteNamespacedConfigMap({ name: "a", namespace: "default" });
    const gone = await failure(core.readNamespacedConfigMap({ name: "a", namespace: "default" }));
    assert.deepEqual([gone.code, gone.reason, gone.message], [404, "NotFound", 'configmaps "a" not found']);
    assert.deepEqual(gone.details, { name: "a", kind: "configmaps" });
  });

  test("a stale resourceVersion is a 409 Conflict and changes nothing; none is unconditional", async () => {
    const first = await core.createNamespacedConfigMap({ namespace: "default", body: cm("b", { v: "1" }) });
    await core.replaceNamespacedConfigMap({ name: "b", namespace: "default", body: { ...first, data: { v: "2" } } });
    const stale = await failure(core.replaceNamespacedConfigMap({ name: "b", namespace: "default", body: { ...first, data: { v: "3" } } }));
    assert.equal(stale.code, 409);
    assert.equal(stale.reason, "Conflict");
    assert.equal(stale.message, 'Operation cannot be fulfilled on configmaps "b": the object has been modified; please apply your changes to the latest version and try again');
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "b", namespace: "default" })).data, { v: "2" });
    const { resourceVersion: _rv, ...meta } = first.metadata!;
    const forced = await core.replaceNamespacedConfigMap({ name: "b", namespace: "default", body: { ...first, metadata: meta, data: { v: "4" } } });
    assert.deepEqual(forced.data, { v: "4" });
  });

  test("concurrent writers: one wins, the others get 409, no update is lost", async () => {
    const base = await core.createNamespacedConfigMap({ namespace: "default", body: cm("race", { n: "0" }) });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => core.replaceNamespacedConfigMap({ name: "race", namespace: "default", body: { ...base, data: { n: String(i + 1) } } })),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    assert.equal(ok.length, 1);
    for (const r of results) if (r.status === "rejected") assert.equal(status(r.reason).code, 409);
    const winner = (ok[0] as PromiseFulfilledResult<V1ConfigMap>).value;
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "race", namespace: "default" })).data, winner.data);
  });

  test("AlreadyExists, Invalid with causes, a missing namespace, a namespace mismatch", async () => {
    await core.createNamespacedConfigMap({ namespace: "default", body: cm("dup") });
    const dup = await failure(core.createNamespacedConfigMap({ namespace: "default", body: cm("dup") }));
    assert.deepEqual([dup.code, dup.reason, dup.message], [409, "AlreadyExists", 'configmaps "dup" already exists']);
    const bad = await failure(core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "Bad_Name" }, spec: { containers: [{ name: "c" }] } } }));
    assert.equal(bad.code, 422);
    assert.equal(bad.reason, "Invalid");
    assert.match(bad.message, /^Pod "Bad_Name" is invalid: \[metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.deepEqual(bad.details?.causes?.map((c) => [c.field, c.reason]), [["metadata.name", "FieldValueInvalid"], ["spec.containers[0].image", "FieldValueRequired"]]);
    const noNs = await failure(core.createNamespacedConfigMap({ namespace: "nowhere", body: cm("x") }));
    assert.deepEqual([noNs.code, noNs.message], [404, 'namespaces "nowhere" not found']);
    const mismatch = await failure(core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "m", namespace: "kube-system" } } }));
    assert.deepEqual([mismatch.code, mismatch.reason], [400, "BadRequest"]);
  });

  test("generateName makes a unique name; dryRun=All stores nothing", async () => {
    const made = await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { generateName: "gen-" } } });
    assert.match(made.metadata!.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const dry = await core.createNamespacedConfigMap({ namespace: "default", body: cm("dry"), dryRun: "All" });
    assert.equal(dry.metadata?.name, "dry");
    assert.equal((await failure(core.readNamespacedConfigMap({ name: "dry", namespace: "default" }))).code, 404);
  });

  test("lists: the collection's resourceVersion, limit/continue paging, Exact past state, too new, compacted", async () => {
    await core.createNamespace({ body: { metadata: { name: "paging" } } });
    for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace: "paging", body: cm(`p${i}`) });
    const all = await core.listNamespacedConfigMap({ namespace: "paging" });
    const rv = all.metadata!.resourceVersion!;
    const names = all.items.map((i) => i.metadata!.name);
    assert.ok(names.includes("p0") && names.includes("p6"));
    const page1 = await core.listNamespacedConfigMap({ namespace: "paging", limit: 3 });
    assert.equal(page1.items.length, 3);
    assert.ok(page1.metadata!._continue);
    assert.equal(page1.metadata!.remainingItemCount, all.items.length - 3);
    await core.createNamespacedConfigMap({ namespace: "paging", body: cm("p7") });
    const page2 = await core.listNamespacedConfigMap({ namespace: "paging", limit: 100, _continue: page1.metadata!._continue });
    assert.equal(page2.metadata!.resourceVersion, page1.metadata!.resourceVersion, "every page is served at the first page's revision");
    assert.deepEqual([...page1.items, ...page2.items].map((i) => i.metadata!.name), names, "p7 came after the list started");
    const exact = await core.listNamespacedConfigMap({ namespace: "paging", resourceVersion: rv, resourceVersionMatch: "Exact" });
    assert.deepEqual(exact.items.map((i) => i.metadata!.name), names);
    const tooNew = await failure(core.listNamespacedConfigMap({ namespace: "paging", resourceVersion: String(Number(rv) + 1000), resourceVersionMatch: "NotOlderThan" }));
    assert.deepEqual([tooNew.code, tooNew.reason], [504, "Timeout"]);
    const any = await core.listNamespacedConfigMap({ namespace: "paging", resourceVersion: "0", limit: 2 });
    assert.equal(any.items.length, all.items.length + 1, "resourceVersion=0 ignores limit, as the watch cache does");
    ts.server.store.setHistoryWindow({ maxChanges: 2 });
    try {
      for (let i = 8; i < 12; i++) await core.createNamespacedConfigMap({ namespace: "paging", body: cm(`p${i}`) });
      const gone = await failure(core.listNamespacedConfigMap({ namespace: "paging", resourceVersion: rv, resourceVersionMatch: "Exact" }));
      assert.deepEqual([gone.code, gone.reason], [410, "Expired"]);
      const expiredPage = await failure(core.listNamespacedConfigMap({ namespace: "paging", limit: 3, _continue: page1.metadata!._continue }));
      assert.equal(expiredPage.code, 410);
      assert.match(expiredPage.message, /continue parameter is too old/);
    } finally {
      ts.server.store.setHistoryWindow({ maxChanges: 20_000 });
    }
  });

  test("finalizers hold a deleted object until they are removed; no new ones once deleting", async () => {
    await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "fin", finalizers: ["example.com/hold"] } } });
    await core.deleteNamespacedConfigMap({ name: "fin", namespace: "default" });
    const held = await core.readNamespacedConfigMap({ name: "fin", namespace: "default" });
    assert.ok(held.metadata?.deletionTimestamp);
    assert.equal(held.metadata?.deletionGracePeriodSeconds, 0);
    const more = await failure(core.patchNamespacedConfigMap({ name: "fin", namespace: "default", body: { metadata: { finalizers: ["example.com/hold", "example.com/more"] } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    assert.equal(more.code, 422);
    assert.match(more.message, /no new finalizers can be added if the object is being deleted/);
    await core.patchNamespacedConfigMap({ name: "fin", namespace: "default", body: { metadata: { finalizers: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    assert.equal((await failure(core.readNamespacedConfigMap({ name: "fin", namespace: "default" }))).code, 404);
  });

  test("propagationPolicy adds the garbage collector's finalizers; preconditions guard deletes", async () => {
    await core.createNamespacedConfigMap({ namespace: "default", body: cm("orphaned") });
    await core.deleteNamespacedConfigMap({ name: "orphaned", namespace: "default", propagationPolicy: "Orphan" });
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "orphaned", namespace: "default" })).metadata?.finalizers, ["orphan"]);
    await core.createNamespacedConfigMap({ namespace: "default", body: cm("fg") });
    await core.deleteNamespacedConfigMap({ name: "fg", namespace: "default", propagationPolicy: "Foreground" });
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "fg", namespace: "default" })).metadata?.finalizers, ["foregroundDeletion"]);
    const kept = await core.createNamespacedConfigMap({ namespace: "default", body: cm("pre") });
    const wrong = await failure(core.deleteNamespacedConfigMap({ name: "pre", namespace: "default", body: { preconditions: { uid: "not-the-uid" } } }));
    assert.equal(wrong.code, 409);
    assert.match(wrong.message, /Precondition failed: UID in precondition: not-the-uid/);
    await core.deleteNamespacedConfigMap({ name: "pre", namespace: "default", body: { preconditions: { uid: kept.metadata!.uid!, resourceVersion: kept.metadata!.resourceVersion! } } });
  });

  test("pods: status reset on create, status only through /status, binding once, graceful deletion", async () => {
    const created = await core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "web" }, spec: { containers: [{ name: "c", image: "nginx" }] }, status: { phase: "Running" } } });
    assert.deepEqual({ ...created.status }, { phase: "Pending", qosClass: "BestEffort" });
    assert.equal(created.spec?.containers[0]?.imagePullPolicy, "Always");
    const ignored = await core.replaceNamespacedPod({ name: "web", namespace: "default", body: { ...created, status: { phase: "Failed" } } });
    assert.equal(ignored.status?.phase, "Pending", "writes to the main resource ignore status");
    const specChange = await failure(core.replaceNamespacedPod({ name: "web", namespace: "default", body: { ...created, metadata: { ...created.metadata, resourceVersion: undefined }, spec: { ...created.spec!, restartPolicy: "Never" } } }));
    assert.equal(specChange.code, 422);
    assert.match(specChange.message, /pod updates may not change fields other than/);
    await core.createNamespacedBinding({ namespace: "default", body: { metadata: { name: "web" }, target: { kind: "Node", name: "n1" } } });
    const again = await failure(core.createNamespacedPodBinding({ name: "web", namespace: "default", body: { metadata: { name: "web" }, target: { kind: "Node", name: "n2" } } }));
    assert.deepEqual([again.code, again.reason], [409, "Conflict"]);
    const pod = await core.readNamespacedPod({ name: "web", namespace: "default" });
    assert.equal(pod.spec?.nodeName, "n1");
    assert.equal(pod.status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True");
    const running = await core.replaceNamespacedPodStatus({ name: "web", namespace: "default", body: { ...pod, spec: { ...pod.spec!, nodeName: "elsewhere" }, status: { ...pod.status, phase: "Running", podIP: "10.0.0.5", podIPs: [{ ip: "10.0.0.5" }] } } });
    assert.equal(running.status?.phase, "Running");
    assert.equal(running.spec?.nodeName, "n1", "writes to /status ignore the rest");
    const deleting = await core.deleteNamespacedPod({ name: "web", namespace: "default" });
    assert.equal(deleting.metadata?.deletionGracePeriodSeconds, 30);
    assert.ok(deleting.metadata?.deletionTimestamp);
    assert.ok(await core.readNamespacedPod({ name: "web", namespace: "default" }), "the kubelet finishes a bound pod's deletion");
    await core.deleteNamespacedPod({ name: "web", namespace: "default", gracePeriodSeconds: 0 });
    assert.equal((await failure(core.readNamespacedPod({ name: "web", namespace: "default" }))).code, 404);
    await core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "unbound" }, spec: { containers: [{ name: "c", image: "nginx:1" }] } } });
    await core.deleteNamespacedPod({ name: "unbound", namespace: "default" });
    assert.equal((await failure(core.readNamespacedPod({ name: "unbound", namespace: "default" }))).code, 404, "an unbound pod goes at once");
  });

  test("nodes keep the status their kubelet registers them with; leases can be created by PUT", async () => {
    const node = await core.createNode({ body: { metadata: { name: "n1" }, status: { conditions: [{ type: "Ready", status: "True" }] } } });
    assert.equal(node.status?.conditions?.[0]?.status, "True");
    const leases = ts.admin.makeApiClient(CoordinationV1Api);
    const lease = await leases.replaceNamespacedLease({ name: "n1", namespace: "kube-node-lease", body: { metadata: { name: "n1" }, spec: { holderIdentity: "n1", leaseDurationSeconds: 40 } } });
    assert.equal(lease.spec?.holderIdentity, "n1");
  });

  test("patches: merge, JSON patch with test, and their failures", async () => {
    await core.createNamespacedConfigMap({ namespace: "default", body: cm("patched", { a: "1" }) });
    const merged = await core.patchNamespacedConfigMap({ name: "patched", namespace: "default", body: { data: { b: "2", a: null } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    assert.deepEqual(merged.data, { b: "2" });
    const json = await core.patchNamespacedConfigMap(
      { name: "patched", namespace: "default", body: [{ op: "test", path: "/data/b", value: "2" }, { op: "add", path: "/data/c", value: "3" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    assert.deepEqual(json.data, { b: "2", c: "3" });
    const failed = await failure(core.patchNamespacedConfigMap({ name: "patched", namespace: "default", body: [{ op: "test", path: "/data/b", value: "9" }, { op: "remove", path: "/data/b" }] }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch)));
    assert.deepEqual([failed.code, failed.reason], [422, "Invalid"]);
    assert.deepEqual((await core.readNamespacedConfigMap({ name: "patched", namespace: "default" })).data, { b: "2", c: "3" }, "a failed patch changes nothing");
    const stale = await failure(core.patchNamespacedConfigMap({ name: "patched", namespace: "default", body: { metadata: { resourceVersion: "1" }, data: { d: "4" } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    assert.equal(stale.code, 409, "a resourceVersion in a patch is a precondition");
    const missing = await failure(core.patchNamespacedConfigMap({ name: "nope", namespace: "default", body: { data: {} } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    assert.equal(missing.code, 404);
  });

  test("services: the API server's own, cluster IPs from the service CIDR, node ports, fixed once set", async () => {
    const own = await core.readNamespacedService({ name: "kubernetes", namespace: "default" });
    assert.equal(own.spec?.clusterIP, "172.20.0.1");
    assert.equal((await core.readNamespacedEndpoints({ name: "kubernetes", namespace: "default" })).subsets?.[0]?.addresses?.[0]?.ip, "127.0.0.1");
    const web = await core.createNamespacedService({ namespace: "default", body: { metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } } });
    assert.match(web.spec!.clusterIP!, /^172\.20\./);
    assert.equal(web.spec?.ports?.[0]?.protocol, "TCP");
    const np = await core.createNamespacedService({ namespace: "default", body: { metadata: { name: "np" }, spec: { type: "NodePort", ports: [{ port: 80 }] } } });
    assert.ok(np.spec!.ports![0]!.nodePort! >= 30000);
    const moved = await failure(core.patchNamespacedService({ name: "web", namespace: "default", body: { spec: { clusterIP: "172.20.9.9" } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    assert.equal(moved.code, 422);
    const taken = await failure(core.createNamespacedService({ namespace: "default", body: { metadata: { name: "dup" }, spec: { clusterIP: web.spec!.clusterIP!, ports: [{ port: 80 }] } } }));
    assert.match(taken.message, /provided IP is already allocated/);
  });
});
