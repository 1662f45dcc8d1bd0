// `vpcsim up --nodes N`'s flags: the cluster topology they make, and the usage errors.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { clusterFlags, DEPLOY_DIR } from "./up.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";

describe("up --nodes", () => {
  test("N nodes of the type over two zones of the region", () => {
    const t = clusterFlags("3", "c5.xlarge", "eu-west-1");
    assert.deepEqual(t.instances.map((i) => `${i.name}=${i.type},${i.subnet}`), ["node-1=c5.xlarge,a", "node-2=c5.xlarge,b", "node-3=c5.xlarge,a"]);
    assert.deepEqual(t.subnets.map((s) => s.zone), ["eu-west-1a", "eu-west-1b"]);
    assert.equal(clusterFlags("1", undefined, undefined).instances[0]!.type, "m5.large");
  });

  test("a count that is not 1 to 20 is a usage error", () => {
    for (const bad of ["0", "21", "two", "1.5", "-1"]) assert.throws(() => clusterFlags(bad, undefined, undefined), /--nodes '.*': a whole number from 1 to 20/);
  });

  test("deploy/ is where the cluster's manifests are", () => {
    assert.ok(existsSync(join(DEPLOY_DIR, "aws-node.yaml")));
  });
});
