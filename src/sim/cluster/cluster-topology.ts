// The VPC of `vpcsim up --nodes N` and the demo: two zones (subnets a and b, /20 each), N nodes
// of one instance type spread over them in turn (node-1 in a, node-2 in b, ...), each with a public
// address so its pods reach the internet through the node's SNAT and the internet gateway.

import { defaultTopology, type Topology } from "../topology.ts";

export const DEFAULT_NODE_TYPE = "m5.large";
export const MAX_NODES = 20;

/** `ipv6`: every subnet dual-stack (an IPv6 cluster's nodes need IPv6 subnets for their /80s). */
export function clusterTopology(nodes: number, instanceType = DEFAULT_NODE_TYPE, region = "us-east-1", ipv6 = false): Topology {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new Error(`--nodes ${nodes}: a whole number from 1 to ${MAX_NODES}`);
  const base = defaultTopology();
  const subnets = base.subnets.map((s) => ({ ...s, zone: `${region}${s.zone.slice(-1)}`, ...(ipv6 ? { ipv6: true } : {}) }));
  return {
    region,
    vpcCidr: base.vpcCidr,
    subnets,
    instances: Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}`, type: instanceType, subnet: subnets[i % subnets.length]!.name, public: true })),
  };
}
