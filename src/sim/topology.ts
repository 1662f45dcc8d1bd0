// The VPC a run brings up: from a JSON file, from flags, or the default two-zone layout. Validated
// here, before anything is created, so a bad topology changes nothing.

import { cidrContainsCidr, cidrsOverlap, parseCidr4, type Cidr4 } from "./ipv4.ts";

export interface SubnetSpec {
  name: string;
  zone: string; // "us-east-1a"
  cidr: string;
  /** Dual stack: the subnet gets the /64 of the VPC's /56 numbered by its place in the list. */
  ipv6?: boolean;
  tags?: Record<string, string>;
}

export interface InstanceSpec {
  name: string; // the Name tag; `vpcsim exec NAME` finds the instance by it
  type: string;
  subnet: string; // a SubnetSpec name
  public?: boolean; // gets a public IPv4 address, mapped 1:1 by the internet gateway
}

export interface Topology {
  region: string;
  vpcCidr: string;
  secondaryCidrs?: string[];
  /** Every subnet dual-stack (as if each said ipv6: true). */
  ipv6?: boolean;
  subnets: SubnetSpec[];
  instances: InstanceSpec[];
}

/** Whether the VPC gets an Amazon-provided IPv6 /56: some subnet is dual-stack. */
export function isDualStack(topology: Topology): boolean {
  return topology.ipv6 === true || topology.subnets.some((s) => s.ipv6 === true);
}

/** Whether this subnet of the topology gets a /64. */
export function subnetIsDualStack(topology: Topology, subnet: SubnetSpec): boolean {
  return topology.ipv6 === true || subnet.ipv6 === true;
}

export function defaultTopology(): Topology {
  return {
    region: "us-east-1",
    vpcCidr: "10.0.0.0/16",
    subnets: [
      { name: "a", zone: "us-east-1a", cidr: "10.0.0.0/20" },
      { name: "b", zone: "us-east-1b", cidr: "10.0.16.0/20" },
    ],
    instances: [
      { name: "node-a", type: "m5.large", subnet: "a", public: true },
      { name: "node-b", type: "m5.large", subnet: "b" },
    ],
  };
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Checks a topology; returns every problem found (empty when it is good). */
export function validateTopology(t: unknown, knownType: (type: string) => boolean): string[] {
  const problems: string[] = [];
  if (typeof t !== "object" || t === null) return ["the topology must be a JSON object"];
  const topo = t as Partial<Topology>;
  if (typeof topo.region !== "string" || !REGION.test(topo.region)) problems.push(`region: '${String(topo.region)}' is not a region name like us-east-1`);
  if (topo.ipv6 !== undefined && typeof topo.ipv6 !== "boolean") problems.push("ipv6: must be true or false");
  const parseCidr = (text: unknown) => (typeof text === "string" ? parseCidr4(text) : undefined);
  const vpc = parseCidr(topo.vpcCidr);
  if (!vpc) problems.push(`vpcCidr: '${String(topo.vpcCidr)}' is not an IPv4 CIDR`);
  else if (vpc.prefixLength < 16 || vpc.prefixLength > 28) problems.push(`vpcCidr: EC2 allows /16 to /28, not /${vpc.prefixLength}`);
  const vpcRanges = [vpc, ...(topo.secondaryCidrs ?? []).map((c, i) => {
    const r = parseCidr(c);
    if (!r) problems.push(`secondaryCidrs[${i}]: '${String(c)}' is not an IPv4 CIDR`);
    return r;
  })].filter((r): r is Cidr4 => r !== undefined);

  if (!Array.isArray(topo.subnets) || topo.subnets.length === 0) problems.push("subnets: at least one subnet is needed");
  const subnets = new Map<string, Cidr4>();
  for (const [i, s] of (Array.isArray(topo.subnets) ? topo.subnets : []).entries()) {
    const where = `subnets[${i}]`;
    if (typeof s?.name !== "string" || !NAME.test(s.name)) { problems.push(`${where}.name: '${String(s?.name)}' must be lower-case letters, digits and dashes`); continue; }
    if (subnets.has(s.name)) problems.push(`${where}.name: '${s.name}' is used twice`);
    if (typeof s.zone !== "string" || typeof topo.region !== "string" || !s.zone.startsWith(topo.region) || !/^[a-z]$/.test(s.zone.slice(topo.region.length))) {
      problems.push(`${where}.zone: '${String(s.zone)}' is not a zone of ${String(topo.region)} (like ${String(topo.region)}a)`);
    }
    const r = parseCidr(s.cidr);
    if (!r) { problems.push(`${where}.cidr: '${String(s.cidr)}' is not an IPv4 CIDR`); continue; }
    if (r.prefixLength < 16 || r.prefixLength > 28) problems.push(`${where}.cidr: EC2 subnets are /16 to /28, not /${r.prefixLength}`);
    if (!vpcRanges.some((v) => cidrContainsCidr(v, r))) problems.push(`${where}.cidr: ${s.cidr} is not inside the VPC's CIDRs`);
    for (const [other, o] of subnets) if (cidrsOverlap(o, r)) problems.push(`${where}.cidr: ${s.cidr} overlaps subnet '${other}'`);
    if (s.ipv6 !== undefined && typeof s.ipv6 !== "boolean") problems.push(`${where}.ipv6: must be true or false`);
    // A /56 has 256 /64s; a subnet's place in the list numbers its /64.
    if (i > 255 && (s.ipv6 === true || topo.ipv6 === true)) problems.push(`${where}.ipv6: a VPC's /56 has /64s for the first 256 subnets only`);
    subnets.set(s.name, r);
  }
  if (!Array.isArray(topo.instances)) problems.push("instances: must be a list (it may be empty)");
  const names = new Set<string>();
  for (const [i, inst] of (Array.isArray(topo.instances) ? topo.instances : []).entries()) {
    const where = `instances[${i}]`;
    if (typeof inst?.name !== "string" || !NAME.test(inst.name)) { problems.push(`${where}.name: '${String(inst?.name)}' must be lower-case letters, digits and dashes`); continue; }
    if (names.has(inst.name)) problems.push(`${where}.name: '${inst.name}' is used twice`);
    names.add(inst.name);
    if (typeof inst.type !== "string" || !knownType(inst.type)) problems.push(`${where}.type: '${String(inst.type)}' is not a known instance type`);
    if (typeof inst.subnet !== "string" || !subnets.has(inst.subnet)) problems.push(`${where}.subnet: '${String(inst.subnet)}' is not one of the subnets (${[...subnets.keys()].join(", ")})`);
    if (inst.public !== undefined && typeof inst.public !== "boolean") problems.push(`${where}.public: must be true or false`);
  }
  return problems;
}

/**
 * Topology flags: `--vpc-cidr`, `--subnet NAME=ZONE,CIDR[,ipv6]`, `--instance NAME=TYPE,SUBNET[,public]`,
 * `--ipv6` (every subnet dual-stack).
 */
export function topologyFromFlags(flags: { region?: string; vpcCidr?: string; ipv6?: boolean; subnets: string[]; instances: string[] }): Topology {
  const base = defaultTopology();
  const region = flags.region ?? base.region;
  const subnets = flags.subnets.length === 0 ? base.subnets : flags.subnets.map(parseSubnetFlag);
  const instances = flags.instances.length === 0 && flags.subnets.length === 0 ? base.instances : flags.instances.map(parseInstanceFlag);
  return { region, vpcCidr: flags.vpcCidr ?? base.vpcCidr, ...(flags.ipv6 ? { ipv6: true } : {}), subnets, instances };
}

function parseSubnetFlag(flag: string): SubnetSpec {
  const m = /^([^=]+)=([^,]+),([^,]+)(,ipv6)?$/.exec(flag);
  if (!m) throw new Error(`--subnet '${flag}': expected NAME=ZONE,CIDR[,ipv6], e.g. a=us-east-1a,10.0.0.0/20`);
  return { name: m[1]!, zone: m[2]!, cidr: m[3]!, ...(m[4] ? { ipv6: true } : {}) };
}

export function parseInstanceFlag(flag: string): InstanceSpec {
  const m = /^([^=]+)=([^,]+),([^,]+)(,public)?$/.exec(flag);
  if (!m) throw new Error(`--instance '${flag}': expected NAME=TYPE,SUBNET[,public], e.g. node-a=m5.large,a,public`);
  return { name: m[1]!, type: m[2]!, subnet: m[3]!, ...(m[4] ? { public: true } : {}) };
}
