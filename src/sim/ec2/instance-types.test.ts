import { test } from "node:test";
import assert from "node:assert/strict";
import { loadInstanceTypes, parseInstanceTypes } from "./instance-types.ts";

test("loads the repository's table with the documented limits", () => {
  const types = loadInstanceTypes();
  assert.ok(types.size > 1000);
  assert.deepEqual(types.get("m5.large"), {
    instanceType: "m5.large",
    maxEnis: 3,
    ipv4PerEni: 10,
    ipv6PerEni: 10,
    hypervisor: "nitro",
    bareMetal: false,
    defaultNetworkCardIndex: 0,
    networkCards: 1,
    maxEnisAllCards: 3,
    trunking: true,
    branchEnis: 9,
  });
  const p5 = types.get("p5.48xlarge");
  assert.equal(p5?.maxEnis, 2);
  assert.equal(p5?.networkCards, 32);
  assert.equal(p5?.maxEnisAllCards, 64);
  assert.equal(types.get("c4.large")?.hypervisor, "xen");
  assert.equal(types.get("a1.metal")?.hypervisor, ""); // "unknown" in the table
  assert.equal(types.get("a1.metal")?.bareMetal, true);
  assert.equal(types.get("t3.micro")?.trunking, false);
});

test("columns are found by header name, comments and blank lines skipped", () => {
  const text = [
    "# a comment",
    "trunking\tinstance_type\tenis\tipv4_per_eni\thypervisor\tbare_metal\tdefault_card\tnetwork_cards\tenis_all_cards\tbranch_enis\textra",
    "",
    "# another",
    "false\tx1.tiny\t2\t4\tunknown\ttrue\t0\t1\t2\t0\tignored",
  ].join("\n");
  const types = parseInstanceTypes(text);
  assert.equal(types.size, 1);
  assert.equal(types.get("x1.tiny")?.ipv6PerEni, 4);
  assert.equal(types.get("x1.tiny")?.hypervisor, "");
});

test("a missing column or a bad number is an error", () => {
  assert.throws(() => parseInstanceTypes("instance_type\tenis\nm\t1\n"), /missing column/);
  const header = "instance_type\tenis\tipv4_per_eni\thypervisor\tbare_metal\tdefault_card\tnetwork_cards\tenis_all_cards\ttrunking\tbranch_enis";
  assert.throws(() => parseInstanceTypes(`${header}\nm\tx\t4\tnitro\tfalse\t0\t1\t2\tfalse\t0\n`), /bad enis/);
});
