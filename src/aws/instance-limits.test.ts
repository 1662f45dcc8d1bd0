import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DEFAULT_INSTANCE_LIMITS_PATH, loadInstanceLimits, parseInstanceLimits } from "./instance-limits.ts";
import { estimateVcpus } from "./instance-vcpus.ts";

const HEADER = "instance_type\tenis\tipv4_per_eni\thypervisor\tbare_metal\tdefault_card\tnetwork_cards\tenis_all_cards\ttrunking\tbranch_enis";

describe("parseInstanceLimits", () => {
  it("reads rows by header name, skipping comments and blank lines", () => {
    const table = parseInstanceLimits(["# a comment", "", HEADER, "m5.large\t3\t10\tnitro\tfalse\t0\t1\t3\ttrue\t9", "# another", "i3.metal\t15\t50\t\ttrue\t0\t1\t15\ttrue\t120", ""].join("\n"));
    assert.deepEqual(table.get("m5.large"), {
      instanceType: "m5.large",
      enis: 3,
      ipv4PerEni: 10,
      hypervisor: "nitro",
      bareMetal: false,
      defaultNetworkCard: 0,
      networkCards: 1,
      enisAllCards: 3,
      trunking: true,
      branchEnis: 9,
    });
    assert.equal(table.get("i3.metal")?.hypervisor, "unknown");
    assert.equal(table.size, 2);
  });

  it("finds columns wherever they are and ignores extra ones", () => {
    const header = ["extra", ...HEADER.split("\t").reverse()].join("\t");
    const row = ["x", "9", "true", "3", "1", "0", "false", "nitro", "10", "3", "m5.large"].join("\t");
    const table = parseInstanceLimits(`${header}\n${row}\n`);
    assert.equal(table.get("m5.large")?.enis, 3);
    assert.equal(table.get("m5.large")?.branchEnis, 9);
  });

  it("refuses malformed tables, naming the line", () => {
    assert.throws(() => parseInstanceLimits("# only comments\n"), /no header line/);
    assert.throws(() => parseInstanceLimits("instance_type\tenis\n"), /the header has no ipv4_per_eni column/);
    assert.throws(() => parseInstanceLimits(`${HEADER}\nm5.large\tthree\t10\tnitro\tfalse\t0\t1\t3\ttrue\t9\n`, "t.tsv"), /^Error: t\.tsv:2: enis "three"/);
    assert.throws(() => parseInstanceLimits(`${HEADER}\nm5.large\t3\t10\tkvm\tfalse\t0\t1\t3\ttrue\t9\n`), /hypervisor "kvm"/);
    assert.throws(() => parseInstanceLimits(`${HEADER}\nm5.large\t3\t10\tnitro\tno\t0\t1\t3\ttrue\t9\n`), /bare_metal "no" is not true or false/);
    assert.throws(() => parseInstanceLimits(`${HEADER}\nm5.large\t3\t10\tnitro\tfalse\n`), /no default_card field/);
    const row = "m5.large\t3\t10\tnitro\tfalse\t0\t1\t3\ttrue\t9";
    assert.throws(() => parseInstanceLimits(`${HEADER}\n${row}\n${row}\n`), /:3: m5\.large is listed twice/);
  });
});

describe("the shipped table", () => {
  const table = loadInstanceLimits();

  it("has every type of data/instance-types.tsv", () => {
    const rows = readFileSync(DEFAULT_INSTANCE_LIMITS_PATH, "utf8").split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    assert.equal(table.size, rows.length - 1);
    assert.ok(table.size > 1300);
    assert.equal(loadInstanceLimits(), table, "read once per process");
  });

  it("has the reference's limits for well-known types", () => {
    const limits = (type: string) => {
      const row = table.get(type);
      return row && [row.enis, row.ipv4PerEni, row.hypervisor, row.bareMetal];
    };
    assert.deepEqual(limits("t3.medium"), [3, 6, "nitro", false]);
    assert.deepEqual(limits("m5.large"), [3, 10, "nitro", false]);
    assert.deepEqual(limits("c5.18xlarge"), [15, 50, "nitro", false]);
    assert.deepEqual(limits("m5.metal"), [15, 50, "unknown", true]);
    assert.deepEqual(limits("c4.large"), [3, 10, "xen", false]);
    // Several network cards: the default card's ENIs only.
    assert.equal(table.get("p5.48xlarge")?.enis, 2);
    assert.equal(table.get("p5.48xlarge")?.enisAllCards, 64);
  });
});

describe("estimateVcpus", () => {
  const table = loadInstanceLimits();
  const vcpus = (type: string) => estimateVcpus(type, table)?.vcpus;

  it("counts 4 vCPUs per xlarge", () => {
    assert.equal(vcpus("m5.large"), 2);
    assert.equal(vcpus("m5.xlarge"), 4);
    assert.equal(vcpus("m5.8xlarge"), 32);
    assert.equal(vcpus("c5.9xlarge"), 36);
    assert.equal(vcpus("p5.48xlarge"), 192);
    assert.equal(vcpus("m7i.metal-24xl"), 96);
    assert.equal(vcpus("t3.micro"), 2);
    assert.equal(vcpus("a1.medium"), 2);
  });

  it("gives a plain metal type its family's largest size", () => {
    assert.equal(vcpus("m5.metal"), 96);
    assert.equal(vcpus("a1.metal"), 16);
    assert.match(estimateVcpus("a1.metal", table)?.basis ?? "", /a1\.4xlarge/);
  });

  it("knows the types whose names mislead near the 30-vCPU threshold", () => {
    assert.equal(vcpus("hpc7a.12xlarge"), 24);
    assert.equal(vcpus("hs1.8xlarge"), 16);
  });

  it("gives no estimate for metal-only families and odd names", () => {
    assert.equal(vcpus("mac1.metal"), undefined);
    assert.equal(vcpus("u-9tb1.metal"), undefined);
    assert.equal(vcpus("nodot"), undefined);
    assert.equal(vcpus("m5.huge"), undefined);
  });

  it("estimates every type in the table but the metal-only families", () => {
    const missing = [...table.keys()].filter((type) => vcpus(type) === undefined);
    assert.ok(missing.every((type) => type.endsWith(".metal")), missing.join(", "));
    assert.ok(missing.length <= 16, missing.join(", "));
  });
});
