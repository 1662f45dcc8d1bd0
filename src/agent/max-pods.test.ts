import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DEFAULT_INSTANCE_LIMITS_PATH, loadInstanceLimits } from "../aws/instance-limits.ts";
import type { InstanceLimits } from "../aws/instance-limits.ts";
import { maxPods } from "./max-pods.ts";
import type { MaxPods, MaxPodsInput } from "./max-pods.ts";

function compute(input: MaxPodsInput): MaxPods {
  const result = maxPods(input);
  if (!result.ok) assert.fail(result.error);
  return result;
}
const pods = (input: MaxPodsInput) => compute(input).maxPods;

// field-facts §3.6: instance types, ENIs, IPv4 per ENI, max pods with secondary addresses,
// max allowed with prefix delegation, recommended with prefix delegation.
const TABLE: [string[], number, number, number, number, number][] = [
  [["t3.micro"], 2, 2, 4, 34, 34],
  [["t3.small"], 3, 4, 11, 146, 110],
  [["t3.medium"], 3, 6, 17, 242, 110],
  [["t3.large"], 3, 12, 35, 530, 110],
  [["m5.large", "c5.large", "r5.large", "m6i.large", "m7i.large"], 3, 10, 29, 434, 110],
  [["m5.xlarge", "c5.xlarge", "m6i.xlarge"], 4, 15, 58, 898, 110],
  [["m5.2xlarge", "c5.2xlarge"], 4, 15, 58, 898, 110],
  [["m5.4xlarge", "c5.4xlarge"], 8, 30, 234, 3714, 110],
  [["m5.8xlarge", "m5.12xlarge", "c5.9xlarge"], 8, 30, 234, 3714, 250],
  [["m5.16xlarge", "m5.24xlarge", "c5.18xlarge", "c5n.18xlarge", "m5.metal", "m7i.48xlarge"], 15, 50, 737, 11762, 250],
  [["c6in.32xlarge"], 8, 50, 394, 6274, 250],
  [["p5.48xlarge"], 2, 50, 100, 1570, 250],
];

describe("maxPods reproduces the calculator's table (field-facts §3.6)", () => {
  const table = loadInstanceLimits();
  for (const [types, enis, ipv4, secondary, pdAllowed, pdRecommended] of TABLE) {
    for (const instanceType of types) {
      it(`${instanceType}: ${secondary} with secondary addresses, ${pdAllowed} allowed and ${pdRecommended} recommended with prefixes`, () => {
        assert.equal(table.get(instanceType)?.enis, enis);
        assert.equal(table.get(instanceType)?.ipv4PerEni, ipv4);
        assert.equal(pods({ instanceType, showMaxAllowed: true }), secondary);
        assert.equal(pods({ instanceType, prefixDelegation: true, showMaxAllowed: true }), pdAllowed);
        assert.equal(pods({ instanceType, prefixDelegation: true }), pdRecommended);
        // The cap applies with secondary addresses too.
        assert.equal(pods({ instanceType }), Math.min(secondary, pdRecommended));
      });
    }
  }
});

describe("maxPods", () => {
  it("gives the reference's eni-max-pods.txt numbers as the uncapped value", () => {
    const examples: [string, number][] = [["m5.large", 29], ["m5.xlarge", 58], ["t3.medium", 17], ["t3.nano", 4], ["m5.24xlarge", 737], ["c5.18xlarge", 737], ["p4d.24xlarge", 737]];
    for (const [instanceType, expected] of examples) assert.equal(pods({ instanceType, showMaxAllowed: true }), expected, instanceType);
  });

  it("agrees with the table's max_pods_secondary_ip column for every type", () => {
    const lines = readFileSync(DEFAULT_INSTANCE_LIMITS_PATH, "utf8").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    const header = (lines.shift() ?? "").split("\t");
    const typeAt = header.indexOf("instance_type");
    const podsAt = header.indexOf("max_pods_secondary_ip");
    const wrong = lines
      .map((line) => line.split("\t"))
      .filter((f) => pods({ instanceType: f[typeAt] ?? "", showMaxAllowed: true }) !== Number(f[podsAt]))
      .map((f) => f[typeAt]);
    assert.deepEqual(wrong, []);
  });

  it("takes one ENI off for custom networking (m5.large: 2 x 9 + 2)", () => {
    assert.equal(pods({ instanceType: "m5.large", customNetworking: true }), 20);
    assert.equal(compute({ instanceType: "m5.large", customNetworking: true }).enis, 2);
    assert.equal(pods({ instanceType: "m5.large", customNetworking: true, prefixDelegation: true, showMaxAllowed: true }), 2 * 9 * 16 + 2);
  });

  it("leaves only host-network pods when custom networking takes the only ENI", () => {
    const result = compute({ instanceType: "hpc6id.32xlarge", customNetworking: true });
    assert.equal(result.maxPods, 2);
    assert.match(result.notes.join("\n"), /no ENI left for pods/);
  });

  it("applies MAX_ENI before custom networking, as the calculator's --cni-max-eni", () => {
    assert.equal(pods({ instanceType: "m5.xlarge", maxEni: 2 }), 2 * 14 + 2);
    assert.equal(pods({ instanceType: "m5.xlarge", maxEni: 2, customNetworking: true }), 14 + 2);
    assert.equal(pods({ instanceType: "m5.large", maxEni: 10 }), 29);
  });

  it("counts prefixes only on Nitro or bare metal", () => {
    const xen = compute({ instanceType: "c4.large", prefixDelegation: true });
    assert.equal(xen.maxPods, 29);
    assert.equal(xen.prefixDelegation, false);
    assert.match(xen.notes.join("\n"), /neither Nitro nor bare metal/);
    // Bare metal with no hypervisor given by EC2.
    assert.equal(pods({ instanceType: "i3.metal", prefixDelegation: true, showMaxAllowed: true }), 15 * 49 * 16 + 2);
  });

  it("uses the vCPU count given over the estimate", () => {
    assert.equal(pods({ instanceType: "c5.18xlarge", cpus: 16 }), 110);
    assert.equal(pods({ instanceType: "t3.small", prefixDelegation: true, cpus: 31 }), 146);
    assert.equal(compute({ instanceType: "m5.large" }).vcpus, 2);
  });

  it("takes limits directly, e.g. from DescribeInstanceTypes for a type not in the table", () => {
    const limits: InstanceLimits = {
      instanceType: "z9.large",
      enis: 3,
      ipv4PerEni: 10,
      hypervisor: "nitro",
      bareMetal: false,
      defaultNetworkCard: 0,
      networkCards: 1,
      enisAllCards: 3,
      trunking: true,
      branchEnis: 9,
    };
    assert.equal(pods({ limits }), 29);
    assert.equal(pods({ limits, prefixDelegation: true }), 110);
    assert.equal(pods({ limits: { ...limits, instanceType: "z9.metal" }, cpus: 64, prefixDelegation: true }), 250);
  });

  it("refuses what it cannot compute, saying why", () => {
    const error = (input: MaxPodsInput) => {
      const result = maxPods(input);
      assert.equal(result.ok, false);
      return result.ok ? "" : result.error;
    };
    assert.match(error({ instanceType: "m5.larg" }), /unknown instance type "m5\.larg"; the m5 family has .*m5\.large/);
    assert.match(error({ instanceType: "zz.large" }), /^unknown instance type "zz\.large"$/);
    assert.match(error({}), /no instance type/);
    assert.match(error({ instanceType: "mac1.metal" }), /vCPU count of mac1\.metal is not known.*--cpus N.*--show-max-allowed, 234/);
    assert.match(error({ instanceType: "m5.large", maxEni: 0 }), /max ENIs/);
    assert.match(error({ instanceType: "m5.large", cpus: 1.5 }), /vCPU count/);
    assert.equal(pods({ instanceType: "mac1.metal", showMaxAllowed: true }), 234);
    assert.equal(pods({ instanceType: "mac1.metal", cpus: 12 }), 110);
  });

  it("IPv6: one /80 serves every pod, so max pods is the recommended cap; Nitro or bare metal only", () => {
    assert.equal(pods({ instanceType: "m5.large", ipv6: true, prefixDelegation: true }), 110);
    assert.equal(pods({ instanceType: "t3.nano", ipv6: true, prefixDelegation: true }), 110, "not the IPv4 formula's 4");
    assert.equal(pods({ instanceType: "c5.18xlarge", ipv6: true, prefixDelegation: true }), 250);
    assert.equal(pods({ instanceType: "m5.large", ipv6: true, prefixDelegation: true, showMaxAllowed: true }), 2 ** 48);
    const refused = maxPods({ instanceType: "m4.large", ipv6: true, prefixDelegation: true });
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? "" : refused.error, /m4\.large is neither Nitro nor bare metal: IPv6 pods need \/80 prefixes/);
  });
});
