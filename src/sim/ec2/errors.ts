// EC2's error codes with messages shaped like EC2's. Clients parse some of these messages (the
// reference agent pulls the ENI id out of InvalidNetworkInterfaceID.NotFound with the regex
// '([a-zA-Z0-9-]+)'), so ids are always quoted with single quotes, one id per message.

import { Ec2Error } from "./types.ts";
import type { IdPrefix } from "./ids.ts";

/** How EC2 names each resource kind in NotFound / Malformed errors. */
const KIND: Record<IdPrefix, { code: string; noun: string; expecting: string }> = {
  vpc: { code: "InvalidVpcID", noun: "vpc ID", expecting: "vpc-..." },
  subnet: { code: "InvalidSubnetID", noun: "subnet ID", expecting: "subnet-..." },
  sg: { code: "InvalidGroupId", noun: "security group", expecting: "sg-..." },
  i: { code: "InvalidInstanceID", noun: "instance ID", expecting: "i-..." },
  eni: { code: "InvalidNetworkInterfaceID", noun: "networkInterface ID", expecting: "eni-..." },
  "eni-attach": { code: "InvalidAttachmentID", noun: "attachment ID", expecting: "eni-attach-..." },
  ami: { code: "InvalidAMIID", noun: "image id", expecting: "ami-..." },
};

export function notFound(kind: IdPrefix, id: string): Ec2Error {
  if (kind === "sg") return new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist`);
  const k = KIND[kind];
  return new Ec2Error(`${k.code}.NotFound`, `The ${k.noun} '${id}' does not exist`);
}

export function malformed(kind: IdPrefix, id: string): Ec2Error {
  const k = KIND[kind];
  return new Ec2Error(`${k.code}.Malformed`, `Invalid id: '${id}' (expecting '${k.expecting}')`);
}

export function invalidParameterValue(message: string): Ec2Error {
  return new Ec2Error("InvalidParameterValue", message);
}

export function invalidParameterCombination(message: string): Ec2Error {
  return new Ec2Error("InvalidParameterCombination", message);
}

export function missingParameter(message: string): Ec2Error {
  return new Ec2Error("MissingParameter", message);
}

export function insufficientFreeAddresses(): Ec2Error {
  return new Ec2Error(
    "InsufficientFreeAddressesInSubnet",
    "The specified subnet does not have enough free addresses to satisfy the request.",
  );
}

export function insufficientCidrBlocks(): Ec2Error {
  return new Ec2Error(
    "InsufficientCidrBlocks",
    "The specified subnet does not have enough free cidr blocks to satisfy the request.",
  );
}

export function privateIpLimitExceeded(): Ec2Error {
  return new Ec2Error("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.");
}

/**
 * EC2's code for exceeding the per-ENI IPv6 limit is not documented anywhere we could check; we use
 * InvalidParameterValue (the generic code EC2 uses for out-of-range requests).
 */
export function ipv6LimitExceeded(eniId?: string): Ec2Error {
  const where = eniId === undefined ? "the primary network interface" : `interface '${eniId}'`;
  return invalidParameterValue(`Number of IPv6 addresses on ${where} will exceed limit.`);
}

export function interfaceInUse(eniId: string): Ec2Error {
  return new Ec2Error("InvalidNetworkInterface.InUse", `Interface: [${eniId}] in use.`);
}

export function addressInUse(address: string): Ec2Error {
  return new Ec2Error("InvalidIPAddress.InUse", `The specified address '${address}' is already in use.`);
}

export function incorrectInstanceState(instanceId: string): Ec2Error {
  return new Ec2Error(
    "IncorrectInstanceState",
    `The instance '${instanceId}' is not in a valid state for this operation.`,
  );
}

export function invalidFilter(name: string): Ec2Error {
  return invalidParameterValue(`The filter '${name}' is invalid`);
}
