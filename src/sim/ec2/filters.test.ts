import { test } from "node:test";
import assert from "node:assert/strict";
import { applyFilters, one, wildcardToRegExp, type FilterSpec } from "./filters.ts";
import { expectEc2Error } from "./model.test-support.ts";
import type { Tag } from "./types.ts";

interface Item {
  id: string;
  description: string;
  groups: string[];
  tags: Tag[];
}

const spec: FilterSpec<Item> = {
  tags: (i) => i.tags,
  fields: { id: (i) => one(i.id), description: (i) => one(i.description), "group-id": (i) => i.groups },
};

const items: Item[] = [
  { id: "a", description: "aws-K8S-i-0123", groups: ["sg-1"], tags: [{ key: "cluster", value: "blue" }] },
  { id: "b", description: "aws-K8S-i-9999", groups: ["sg-2", "sg-3"], tags: [{ key: "cluster", value: "green" }] },
  { id: "c", description: "other (x)", groups: [], tags: [{ key: "node", value: "" }] },
];

const ids = (filters: { name: string; values: string[] }[]) => applyFilters(items, filters, spec).map((i) => i.id);

test("wildcards: * any run, ? one character, backslash escapes, anchored", () => {
  assert.ok(wildcardToRegExp("aws-K8S-*").test("aws-K8S-i-1"));
  assert.ok(!wildcardToRegExp("aws-K8S-*").test("xaws-K8S-i-1"));
  assert.ok(wildcardToRegExp("i-?").test("i-1"));
  assert.ok(!wildcardToRegExp("i-?").test("i-12"));
  assert.ok(wildcardToRegExp("a\\*b").test("a*b"));
  assert.ok(!wildcardToRegExp("a\\*b").test("axxb"));
  assert.ok(wildcardToRegExp("other (x)").test("other (x)")); // regex metacharacters are literal
  assert.ok(!wildcardToRegExp("AWS-*").test("aws-K8S")); // case-sensitive
});

test("values of one filter are ORed; filters are ANDed", () => {
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-i-0123", "other*"] }]), ["a", "c"]);
  assert.deepEqual(ids([{ name: "description", values: ["aws-K8S-*"] }, { name: "group-id", values: ["sg-3"] }]), ["b"]);
  assert.deepEqual(ids([{ name: "description", values: ["nothing"] }]), []);
});

test("multi-valued fields match on any value", () => {
  assert.deepEqual(ids([{ name: "group-id", values: ["sg-2"] }]), ["b"]);
  assert.deepEqual(ids([{ name: "group-id", values: ["sg-*"] }]), ["a", "b"]);
});

test("tag-key, tag-value and tag:KEY", () => {
  assert.deepEqual(ids([{ name: "tag-key", values: ["cluster"] }]), ["a", "b"]);
  assert.deepEqual(ids([{ name: "tag:cluster", values: ["gr*"] }]), ["b"]);
  assert.deepEqual(ids([{ name: "tag:node", values: [""] }]), ["c"]);
  assert.deepEqual(ids([{ name: "tag-value", values: ["blue"] }]), ["a"]);
});

test("an unknown filter name is InvalidParameterValue, even with no items", () => {
  expectEc2Error(() => applyFilters([], [{ name: "bogus", values: ["x"] }], spec), "InvalidParameterValue", /The filter 'bogus' is invalid/);
  expectEc2Error(() => applyFilters(items, [{ name: "tag-key", values: ["x"] }], { fields: {} }), "InvalidParameterValue");
});
