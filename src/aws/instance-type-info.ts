// Limits of an instance type the shipped table does not know (a type newer than the table), from
// EC2's DescribeInstanceTypes. Unlike the reference's runtime path, the ENI count is the default
// network card's, as in the table: the agent manages that card only (reference weakness 9).

import { DescribeInstanceTypesCommand, type _InstanceType } from "@aws-sdk/client-ec2";
import { ec2Call, type Ec2 } from "./ec2-client.ts";
import type { InstanceLimits } from "./instance-limits.ts";

export async function describeInstanceLimits(ec2: Ec2, instanceType: string): Promise<InstanceLimits | undefined> {
  const out = await ec2Call(ec2, "FetchInstanceTypeLimits", new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }));
  const info = out.InstanceTypes?.find((t) => t.InstanceType === instanceType);
  const net = info?.NetworkInfo;
  if (!info || !net || net.Ipv4AddressesPerInterface === undefined) return undefined;
  const defaultCard = net.DefaultNetworkCardIndex ?? 0;
  const cardEnis = net.NetworkCards?.find((c) => c.NetworkCardIndex === defaultCard)?.MaximumNetworkInterfaces;
  const enisAllCards = net.MaximumNetworkInterfaces ?? cardEnis ?? 0;
  const hypervisor = info.Hypervisor === "nitro" || info.Hypervisor === "xen" ? info.Hypervisor : "unknown";
  return {
    instanceType,
    enis: cardEnis ?? enisAllCards,
    ipv4PerEni: net.Ipv4AddressesPerInterface,
    hypervisor,
    bareMetal: info.BareMetal ?? false,
    defaultNetworkCard: defaultCard,
    networkCards: net.MaximumNetworkCards ?? 1,
    enisAllCards,
    // Trunking and branch counts are not in DescribeInstanceTypes (the resource controller's table
    // has them); without them, security groups for pods stay off on this type.
    trunking: false,
    branchEnis: 0,
  };
}
