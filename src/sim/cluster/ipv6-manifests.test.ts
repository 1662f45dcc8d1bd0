// An IPv6 cluster's start-up manifests and topology: deploy/ with aws-node's DaemonSet in aws-node's
// IPv6 mode (the agent's and the init container's variables, egress-cni's directory in the state
// volume) and nothing else changed; every subnet dual-stack.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadManifests } from "../kube/apply.ts";
import { ipv6ClusterObjects, writeIpv6ClusterManifests } from "./ipv6-manifests.ts";
import { clusterTopology } from "./cluster-topology.ts";

const DEPLOY = join(import.meta.dirname, "..", "..", "..", "deploy");
const envOf = (objects: any[], container: string, init = false) => {
  const ds = objects.find((o) => o.kind === "DaemonSet");
  const c = (init ? ds.spec.template.spec.initContainers : ds.spec.template.spec.containers).find((x: any) => x.name === container);
  return Object.fromEntries((c.env ?? []).filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
};

test("aws-node in its IPv6 mode; everything else as deploy/ has it", () => {
  const plain = loadManifests(DEPLOY);
  const v6 = ipv6ClusterObjects(DEPLOY);
  assert.deepEqual(v6.map((o) => `${o.kind}/${o.metadata?.name}`), plain.map((o) => `${o.kind}/${o.metadata?.name}`));
  const agent = envOf(v6, "aws-node");
  assert.equal(agent.ENABLE_IPv4, "false");
  assert.equal(agent.ENABLE_IPv6, "true");
  assert.equal(agent.ENABLE_PREFIX_DELEGATION, "true");
  assert.equal(agent.VPC_CNI_EGRESS_IPAM_DIR, "/var/run/aws-node/egress-v4-ipam", "in the state volume, so per node");
  assert.equal(envOf(v6, "aws-vpc-cni-init", true).ENABLE_IPv6, "true");
  const { ENABLE_IPv4, ENABLE_IPv6, ENABLE_PREFIX_DELEGATION, VPC_CNI_EGRESS_IPAM_DIR, ...rest } = agent;
  const { ENABLE_IPv4: _a, ENABLE_IPv6: _b, ENABLE_PREFIX_DELEGATION: _c, ...plainRest } = envOf(plain, "aws-node");
  assert.deepEqual(rest, plainRest, "the other variables unchanged");
  const dir = mkdtempSync(join(tmpdir(), "ipv6-manifests-"));
  try {
    const file = writeIpv6ClusterManifests(DEPLOY, dir);
    assert.deepEqual(loadManifests(file), JSON.parse(JSON.stringify(v6)));
    assert.equal(JSON.parse(readFileSync(file, "utf8")).kind, "List");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an IPv6 cluster's subnets are all dual-stack", () => {
  assert.ok(clusterTopology(3, "m5.large", "us-east-1", true).subnets.every((s) => s.ipv6 === true));
  assert.ok(clusterTopology(3).subnets.every((s) => s.ipv6 === undefined));
});
