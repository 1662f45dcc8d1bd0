import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultTopology, isDualStack, parseInstanceFlag, subnetIsDualStack, topologyFromFlags, validateTopology } from "./topology.ts";

const known = (t: string) => ["m5.large", "t3.medium"].includes(t);

test("the default topology is valid: two zones, two instances", () => {
  const t = defaultTopology();
  assert.deepEqual(validateTopology(t, known), []);
  assert.deepEqual(new Set(t.subnets.map((s) => s.zone)).size, 2);
});

test("every problem is reported at once", () => {
  const problems = validateTopology(
    {
      region: "mars-1",
      vpcCidr: "10.0.0.0/8",
      subnets: [
        { name: "a", zone: "us-east-1a", cidr: "10.0.0.0/20" },
        { name: "a", zone: "us-east-1b", cidr: "10.0.8.0/24" },
        { name: "c", zone: "us-east-1c", cidr: "10.0.1.5/24" },
      ],
      instances: [{ name: "Bad_Name", type: "m5.large", subnet: "a" }, { name: "x", type: "z9.huge", subnet: "q", public: "yes" }],
    },
    known,
  );
  const text = problems.join("\n");
  assert.match(text, /region: 'mars-1'/);
  assert.match(text, /vpcCidr: EC2 allows \/16 to \/28, not \/8/);
  assert.match(text, /'a' is used twice/);
  assert.match(text, /overlaps subnet 'a'/);
  assert.match(text, /'10\.0\.1\.5\/24' is not an IPv4 CIDR/);
  assert.match(text, /instances\[0\]\.name/);
  assert.match(text, /type: 'z9\.huge'/);
  assert.match(text, /subnet: 'q'/);
  assert.match(text, /public: must be true or false/);
});

test("subnets must lie inside the VPC's CIDRs, secondary CIDRs included", () => {
  const base = { region: "us-east-1", vpcCidr: "10.0.0.0/16", instances: [] };
  assert.match(validateTopology({ ...base, subnets: [{ name: "a", zone: "us-east-1a", cidr: "100.64.0.0/20" }] }, known).join(), /not inside the VPC/);
  assert.deepEqual(validateTopology({ ...base, secondaryCidrs: ["100.64.0.0/16"], subnets: [{ name: "a", zone: "us-east-1a", cidr: "100.64.0.0/20" }] }, known), []);
});

test("topology flags", () => {
  assert.deepEqual(parseInstanceFlag("n1=m5.large,a,public"), { name: "n1", type: "m5.large", subnet: "a", public: true });
  assert.throws(() => parseInstanceFlag("n1:m5.large"), /expected NAME=TYPE,SUBNET\[,public\]/);
  const t = topologyFromFlags({ subnets: ["x=us-east-1a,10.0.0.0/24"], instances: ["n=t3.medium,x"] });
  assert.deepEqual(t.subnets, [{ name: "x", zone: "us-east-1a", cidr: "10.0.0.0/24" }]);
  assert.deepEqual(t.instances, [{ name: "n", type: "t3.medium", subnet: "x" }]);
  // Instances alone keep the default subnets.
  assert.equal(topologyFromFlags({ subnets: [], instances: ["n=t3.medium,a"] }).subnets.length, 2);
  assert.throws(() => topologyFromFlags({ subnets: ["bad"], instances: [] }), /NAME=ZONE,CIDR/);
});

test("dual stack: --ipv6 for every subnet, ',ipv6' for one, ipv6 in the file; validated", () => {
  const all = topologyFromFlags({ ipv6: true, subnets: [], instances: [] });
  assert.equal(all.ipv6, true);
  assert.equal(isDualStack(all), true);
  assert.ok(all.subnets.every((s) => subnetIsDualStack(all, s)));
  const one = topologyFromFlags({ subnets: ["x=us-east-1a,10.0.0.0/24,ipv6", "y=us-east-1b,10.0.1.0/24"], instances: [] });
  assert.deepEqual(one.subnets[0], { name: "x", zone: "us-east-1a", cidr: "10.0.0.0/24", ipv6: true });
  assert.equal(isDualStack(one), true);
  assert.deepEqual(one.subnets.map((s) => subnetIsDualStack(one, s)), [true, false]);
  assert.equal(isDualStack(defaultTopology()), false);
  assert.throws(() => topologyFromFlags({ subnets: ["x=us-east-1a,10.0.0.0/24,ipv4"], instances: [] }), /NAME=ZONE,CIDR\[,ipv6\]/);

  const base = { region: "us-east-1", vpcCidr: "10.0.0.0/16", instances: [] };
  assert.deepEqual(validateTopology({ ...base, ipv6: true, subnets: [{ name: "a", zone: "us-east-1a", cidr: "10.0.0.0/20", ipv6: true }] }, known), []);
  const text = validateTopology({ ...base, ipv6: "yes", subnets: [{ name: "a", zone: "us-east-1a", cidr: "10.0.0.0/20", ipv6: 1 }] }, known).join("\n");
  assert.match(text, /^ipv6: must be true or false/m);
  assert.match(text, /subnets\[0\]\.ipv6: must be true or false/);
});
