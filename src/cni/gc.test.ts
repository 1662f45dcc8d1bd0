import { test } from "node:test";
import assert from "node:assert/strict";
import { CniError } from "./errors.ts";
import { attachmentSet, parseValidAttachments } from "./gc.ts";

const ID = "3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755";

test("valid attachments become (containerID, ifname) pairs", () => {
  const list = parseValidAttachments({ "cni.dev/valid-attachments": [{ containerID: ID, ifname: "eth0" }, { containerID: ID, ifname: "net1" }] });
  assert.deepEqual(list, [{ containerID: ID, ifname: "eth0" }, { containerID: ID, ifname: "net1" }]);
  const has = attachmentSet(list);
  assert.ok(has(ID, "eth0") && has(ID, "net1"));
  assert.ok(!has(ID, "eth1") && !has("other", "eth0"));
});

test("absent (or null) means no attachment is valid", () => {
  assert.deepEqual(parseValidAttachments({}), []);
  assert.deepEqual(parseValidAttachments({ "cni.dev/valid-attachments": null }), []);
});

test("libcni's duplicate cni.dev/attachments key is read when the spec's is absent", () => {
  assert.deepEqual(parseValidAttachments({ "cni.dev/attachments": [{ containerID: "a", ifname: "eth0" }] }), [{ containerID: "a", ifname: "eth0" }]);
  assert.deepEqual(parseValidAttachments({ "cni.dev/valid-attachments": [], "cni.dev/attachments": [{ containerID: "a", ifname: "eth0" }] }), []);
});

test("an entry without ifname matches the empty ifname", () => {
  assert.deepEqual(parseValidAttachments({ "cni.dev/valid-attachments": [{ containerID: "keep" }] }), [{ containerID: "keep", ifname: "" }]);
});

test("wrong shapes are code 7", () => {
  for (const v of [{}, "x", [1], [{ ifname: "eth0" }], [{ containerID: 5 }], [{ containerID: "a", ifname: 1 }]]) {
    assert.throws(() => parseValidAttachments({ "cni.dev/valid-attachments": v }), (e: unknown) => e instanceof CniError && e.code === 7, JSON.stringify(v));
  }
});
