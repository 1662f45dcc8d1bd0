import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { applyJsonPatch, parseJsonPatch, PatchError } from "./json-patch.ts";
import { applyMergePatch } from "./merge-patch.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";
import { s } from "../schema/types.ts";

describe("JSON Patch (RFC 6902)", () => {
  const apply = (doc: unknown, ops: unknown) => applyJsonPatch(doc, parseJsonPatch(ops));
  test("add, remove, replace, move, copy, test, with ~0 ~1 escapes and '-'", () => {
    const doc = { a: { b: [1, 2] }, "x/y": 1, "m~n": 2 };
    assert.deepEqual(apply(doc, [{ op: "add", path: "/a/b/-", value: 3 }]), { a: { b: [1, 2, 3] }, "x/y": 1, "m~n": 2 });
    assert.deepEqual(apply(doc, [{ op: "add", path: "/a/b/0", value: 0 }]), { a: { b: [0, 1, 2] }, "x/y": 1, "m~n": 2 });
    assert.deepEqual(apply(doc, [{ op: "remove", path: "/x~1y" }, { op: "replace", path: "/m~0n", value: 5 }]), { a: { b: [1, 2] }, "m~n": 5 });
    assert.deepEqual(apply(doc, [{ op: "move", from: "/a/b", path: "/c" }]), { a: {}, c: [1, 2], "x/y": 1, "m~n": 2 });
    assert.deepEqual(apply(doc, [{ op: "copy", from: "/a/b/1", path: "/d" }]), { a: { b: [1, 2] }, d: 2, "x/y": 1, "m~n": 2 });
    assert.deepEqual(apply(doc, [{ op: "test", path: "/a/b", value: [1, 2] }]), doc);
    assert.deepEqual(doc, { a: { b: [1, 2] }, "x/y": 1, "m~n": 2 }, "the input is not changed");
  });
  test("failures: a failed test, a missing path, a bad index, an unknown op", () => {
    assert.throws(() => apply({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), /testing value \/a failed/);
    assert.throws(() => apply({ a: 1 }, [{ op: "replace", path: "/b", value: 2 }]), PatchError);
    assert.throws(() => apply({ a: 1 }, [{ op: "remove", path: "/b" }]), /Unable to remove nonexistent key/);
    assert.throws(() => apply({ a: [1] }, [{ op: "add", path: "/a/5", value: 2 }]), PatchError);
    assert.throws(() => parseJsonPatch([{ op: "frob", path: "/a" }]), /Unexpected kind/);
    assert.throws(() => parseJsonPatch({ op: "add" }), /cannot unmarshal object/);
  });
});

describe("JSON Merge Patch (RFC 7386)", () => {
  // The examples of RFC 7386, appendix A.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) {
    test(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => assert.deepEqual(applyMergePatch(target, patch), result));
  }
});

describe("strategic merge patch", () => {
  const container = s.object("Container", "", { name: s.string(), image: s.string(), env: s.mergeList(s.object("EnvVar", "", { name: s.string(), value: s.string() }), "name"), args: s.array(s.string()) });
  const schema = s.object("Pod", "", {
    metadata: s.object("ObjectMeta", "", { labels: s.stringMap(), finalizers: s.setList(s.string()) }),
    spec: s.object("PodSpec", "", {
      containers: s.mergeList(container, "name"),
      volumes: s.mergeList(s.object("Volume", "", { name: s.string(), hostPath: s.looseObject(), emptyDir: s.looseObject() }, { patchStrategy: "retainKeys" }), "name", undefined, { patchStrategy: "merge,retainKeys" }),
      ports: s.mergeList(s.object("Port", "", { containerPort: s.int32(), name: s.string() }), "containerPort"),
      tolerations: s.array(s.looseObject()),
    }),
  });
  const pod = {
    metadata: { labels: { a: "1" }, finalizers: ["x"] },
    spec: {
      containers: [
        { name: "app", image: "app:1", env: [{ name: "A", value: "1" }], args: ["--x"] },
        { name: "side", image: "side:1" },
      ],
      ports: [{ containerPort: 80 }],
      tolerations: [{ key: "t" }],
    },
  };
  test("lists with a merge key merge element by element; other lists are replaced", () => {
    const out = applyStrategicMergePatch(pod, { spec: { containers: [{ name: "app", image: "app:2", env: [{ name: "B", value: "2" }], args: ["--y"] }], tolerations: [{ key: "u" }] } }, schema) as typeof pod;
    assert.deepEqual(out.spec.containers, [
      { name: "app", image: "app:2", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], args: ["--y"] },
      { name: "side", image: "side:1" },
    ]);
    assert.deepEqual(out.spec.tolerations, [{ key: "u" }]);
  });
  test("$patch: delete removes an element; $patch: replace replaces a list or an object", () => {
    const deleted = applyStrategicMergePatch(pod, { spec: { containers: [{ name: "side", $patch: "delete" }] } }, schema) as typeof pod;
    assert.deepEqual(deleted.spec.containers.map((c) => c.name), ["app"]);
    const replaced = applyStrategicMergePatch(pod, { spec: { containers: [{ name: "only", image: "o" }, { $patch: "replace" }] } }, schema) as typeof pod;
    assert.deepEqual(replaced.spec.containers, [{ name: "only", image: "o" }]);
    const map = applyStrategicMergePatch(pod, { metadata: { labels: { b: "2", $patch: "replace" } } }, schema) as typeof pod;
    assert.deepEqual(map.metadata.labels, { b: "2" });
  });
  test("finalizers merge as a set; $deleteFromPrimitiveList removes; null deletes a key", () => {
    const added = applyStrategicMergePatch(pod, { metadata: { finalizers: ["y", "x"] } }, schema) as typeof pod;
    assert.deepEqual(added.metadata.finalizers, ["x", "y"]);
    const removed = applyStrategicMergePatch(pod, { metadata: { "$deleteFromPrimitiveList/finalizers": ["x"], labels: { a: null } } }, schema) as typeof pod;
    assert.deepEqual(removed.metadata.finalizers, []);
    assert.deepEqual(removed.metadata.labels, {});
  });
  test("$setElementOrder orders a merged list; ports merge by containerPort", () => {
    const out = applyStrategicMergePatch(pod, { spec: { "$setElementOrder/containers": [{ name: "side" }, { name: "app" }], ports: [{ containerPort: 443, name: "https" }, { containerPort: 80, name: "http" }] } }, schema) as {
      spec: { containers: { name: string }[]; ports: unknown[] };
    };
    assert.deepEqual(out.spec.containers.map((c) => c.name), ["side", "app"]);
    assert.deepEqual(out.spec.ports, [{ containerPort: 80, name: "http" }, { containerPort: 443, name: "https" }]);
  });
  test("$retainKeys keeps only the named keys of a union (a volume changing its source)", () => {
    const withVolume = { spec: { volumes: [{ name: "v", hostPath: { path: "/x" } }] } };
    const out = applyStrategicMergePatch(withVolume, { spec: { volumes: [{ name: "v", emptyDir: {}, $retainKeys: ["name", "emptyDir"] }] } }, schema);
    assert.deepEqual(out, { spec: { volumes: [{ name: "v", emptyDir: {} }] } });
  });
  test("an element without its merge key is refused", () => {
    assert.throws(() => applyStrategicMergePatch(pod, { spec: { containers: [{ image: "x" }] } }, schema), /does not contain declared merge key: name/);
  });
});
