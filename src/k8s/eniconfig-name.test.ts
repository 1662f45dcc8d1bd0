import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeEniConfigChoice, nodeEniConfigName } from "./eniconfig-name.ts";

test("the node's ENIConfig: external label, then annotation, then label, then default", () => {
  const keys = { annotation: "k8s.amazonaws.com/eniConfig", label: "topology.kubernetes.io/zone" };
  assert.equal(nodeEniConfigName({ metadata: {} }, keys), "default");
  assert.equal(nodeEniConfigName({ metadata: { labels: { "topology.kubernetes.io/zone": "us-east-1a" } } }, keys), "us-east-1a");
  assert.equal(nodeEniConfigName({ metadata: { labels: { "topology.kubernetes.io/zone": "us-east-1a" }, annotations: { "k8s.amazonaws.com/eniConfig": "blue" } } }, keys), "blue");
  assert.equal(nodeEniConfigName({ metadata: { labels: { "vpc.amazonaws.com/externalEniConfig": "ext", "topology.kubernetes.io/zone": "us-east-1a" }, annotations: { "k8s.amazonaws.com/eniConfig": "blue" } } }, keys), "ext");
  assert.equal(nodeEniConfigName({ metadata: { annotations: { "k8s.amazonaws.com/eniConfig": "" } } }), "default", "an empty value names nothing");
});

test("the choice says where the name came from, for the events that name it", () => {
  const keys = { annotation: "example.com/net", label: "topology.kubernetes.io/zone" };
  assert.deepEqual(nodeEniConfigChoice({ metadata: { labels: { "topology.kubernetes.io/zone": "us-east-1a" } } }, keys), { name: "us-east-1a", from: "label topology.kubernetes.io/zone" });
  assert.deepEqual(nodeEniConfigChoice({ metadata: { annotations: { "example.com/net": "blue" } } }, keys), { name: "blue", from: "annotation example.com/net" });
  assert.equal(nodeEniConfigChoice({ metadata: {} }, keys).name, "default");
  assert.match(nodeEniConfigChoice({ metadata: {} }, keys).from, /^default/);
});
