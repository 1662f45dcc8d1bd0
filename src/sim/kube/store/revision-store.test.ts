import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CompactedError, RevisionStore, StoreConflict } from "./revision-store.ts";
import type { KObject } from "../objects.ts";

const obj = (name: string, extra: Record<string, unknown> = {}): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns" }, ...extra });

describe("RevisionStore", () => {
  test("every write bumps one revision for the whole store and stamps the object", () => {
    const store = new RevisionStore();
    const a = store.create("t", "ns/a", obj("a"));
    const b = store.create("u", "ns/b", obj("b"));
    assert.equal(a.metadata.resourceVersion, "1");
    assert.equal(b.metadata.resourceVersion, "2");
    const a2 = store.update("t", "ns/a", obj("a", { data: { x: "1" } }), 1);
    assert.equal(a2.metadata.resourceVersion, "3");
    assert.equal(store.revision, 3);
    assert.ok(Object.isFrozen(a2.metadata), "stored objects cannot be changed behind the store's back");
  });

  test("conflicts: create of an existing key, update at a stale revision, missing keys", () => {
    const store = new RevisionStore();
    store.create("t", "ns/a", obj("a"));
    assert.throws(() => store.create("t", "ns/a", obj("a")), (e: unknown) => e instanceof StoreConflict && e.why === "exists");
    store.update("t", "ns/a", obj("a"), 1);
    assert.throws(() => store.update("t", "ns/a", obj("a"), 1), (e: unknown) => e instanceof StoreConflict && e.why === "stale");
    assert.throws(() => store.delete("t", "ns/zz"), (e: unknown) => e instanceof StoreConflict && e.why === "missing");
    assert.equal(store.get("t", "ns/a")?.metadata.resourceVersion, "2", "a refused write changes nothing");
  });

  test("changes since a revision, per table, and the state at a past revision", () => {
    const store = new RevisionStore();
    store.create("t", "ns/a", obj("a"));
    store.create("t", "ns/b", obj("b"));
    store.create("other", "ns/x", obj("x"));
    store.update("t", "ns/a", obj("a", { data: { v: "2" } }));
    store.delete("t", "ns/b");
    assert.deepEqual(store.changesSince("t", 1).map((c) => [c.type, c.key, c.revision]), [["ADDED", "ns/b", 2], ["MODIFIED", "ns/a", 4], ["DELETED", "ns/b", 5]]);
    const deleted = store.changesSince("t", 4)[0]!;
    assert.equal(deleted.object.metadata.resourceVersion, "5", "a deletion carries the deletion revision");
    assert.deepEqual(store.listAt("t", 2).map(([k, o]) => [k, o.metadata.resourceVersion]), [["ns/a", "1"], ["ns/b", "2"]]);
    assert.deepEqual(store.listAt("t", 4).map(([k]) => k), ["ns/a", "ns/b"]);
    assert.deepEqual(store.list("t").map(([k]) => k), ["ns/a"]);
  });

  test("changes that leave the history window compact the revisions before them", () => {
    const store = new RevisionStore({ history: { maxChanges: 3 } });
    for (let i = 0; i < 6; i++) store.create("t", `ns/o${i}`, obj(`o${i}`));
    assert.equal(store.compactedRevision, 3);
    assert.throws(() => store.changesSince("t", 2), CompactedError);
    assert.throws(() => store.listAt("t", 2), CompactedError);
    assert.deepEqual(store.changesSince("t", 3).map((c) => c.revision), [4, 5, 6]);
    assert.equal(store.listAt("t", 4).length, 4);
  });

  test("old changes also leave by age", () => {
    let now = 0;
    const store = new RevisionStore({ history: { maxAgeMs: 1000 }, now: () => now });
    store.create("t", "ns/a", obj("a"));
    now = 5000;
    store.create("t", "ns/b", obj("b"));
    assert.equal(store.compactedRevision, 1);
  });

  test("subscribers see every change synchronously, in order, and can leave", () => {
    const store = new RevisionStore();
    const seen: number[] = [];
    const unsubscribe = store.subscribe((c) => seen.push(c.revision));
    store.create("t", "ns/a", obj("a"));
    store.create("t", "ns/b", obj("b"));
    unsubscribe();
    store.create("t", "ns/c", obj("c"));
    assert.deepEqual(seen, [1, 2]);
    assert.equal(store.subscriberCount, 0);
  });
});
