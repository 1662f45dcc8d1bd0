// The request side of the wire: what the real SDK sends for every parameter we model must arrive
// at Ec2Api as the typed input below (a recording fake stands in for the model).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  UnassignIpv6AddressesCommand,
  UnassignPrivateIpAddressesCommand,
} from "@aws-sdk/client-ec2";
import type { Ec2Api } from "./api.ts";
import { CredentialStore } from "./credentials.ts";
import { listenEc2, type Ec2Endpoint } from "./server.ts";
import { Throttle } from "./throttle.ts";
import type { Instance, NetworkInterface } from "./types.ts";
import { Params, parseForm, parseInput } from "./query.ts";

const ENI: NetworkInterface = {
  networkInterfaceId: "eni-00000000000000001",
  ownerId: "111122223333",
  vpcId: "vpc-1",
  subnetId: "subnet-1",
  availabilityZone: "us-east-1a",
  description: "",
  interfaceType: "interface",
  macAddress: "02:00:00:00:00:01",
  status: "available",
  sourceDestCheck: true,
  requesterManaged: false,
  groupIds: [],
  privateIps: [{ address: "10.0.0.5", primary: true }],
  ipv4Prefixes: [],
  ipv6Addresses: [],
  ipv6Prefixes: [],
  tags: [],
  createdAt: new Date(0),
};

const INSTANCE: Instance = {
  instanceId: "i-00000000000000001",
  instanceType: "m5.large",
  imageId: "ami-1",
  ownerId: "111122223333",
  vpcId: "vpc-1",
  subnetId: "subnet-1",
  availabilityZone: "us-east-1a",
  state: "pending",
  launchTime: new Date(0),
  primaryNetworkInterfaceId: ENI.networkInterfaceId,
  iamRoleName: "",
  tags: [],
};

/** An Ec2Api that records each call and returns just enough to serialise. */
function recorder(calls: [string, unknown][]): Ec2Api {
  const results: Record<string, unknown> = {
    createNetworkInterface: ENI,
    attachNetworkInterface: { attachmentId: "eni-attach-1", networkCardIndex: 0 },
    assignPrivateIpAddresses: { networkInterfaceId: ENI.networkInterfaceId, assignedPrivateIpAddresses: [], assignedIpv4Prefixes: [] },
    assignIpv6Addresses: { networkInterfaceId: ENI.networkInterfaceId, assignedIpv6Addresses: [], assignedIpv6Prefixes: [] },
    runInstance: INSTANCE,
    securityGroups: [],
    networkInterfaces: [],
  };
  const lookups = new Set(["securityGroups", "networkInterfaces", "subnet", "instanceTypeInfo", "instance"]);
  return new Proxy({} as Ec2Api, {
    get: (_t, name: string) => (input: unknown) => {
      if (!lookups.has(name)) calls.push([name, input]);
      return name.startsWith("describe") ? { items: [] } : results[name];
    },
  });
}

let endpoint: Ec2Endpoint;
let client: EC2Client;
const calls: [string, unknown][] = [];

before(async () => {
  const credentials = new CredentialStore();
  endpoint = await listenEc2({ host: "127.0.0.1", port: 0 }, { api: recorder(calls), credentials, throttle: new Throttle({ enabled: false }) });
  client = new EC2Client({ endpoint: endpoint.url, region: "us-east-1", credentials: credentials.issueLongTerm(), maxAttempts: 1 });
});
after(async () => {
  client.destroy();
  await endpoint.close();
});

async function inputOf(command: { input: unknown }, method: string): Promise<unknown> {
  calls.length = 0;
  await client.send(command as Parameters<EC2Client["send"]>[0]);
  const call = calls.find(([m]) => m === method);
  assert.ok(call, `expected a call to ${method}, got ${calls.map(([m]) => m).join(", ")}`);
  return call[1];
}

test("CreateNetworkInterface: every modelled parameter", async () => {
  const input = await inputOf(
    new CreateNetworkInterfaceCommand({
      SubnetId: "subnet-1",
      Description: "a & b = c",
      Groups: ["sg-1", "sg-2"],
      PrivateIpAddresses: [
        { PrivateIpAddress: "10.0.0.6", Primary: true },
        { PrivateIpAddress: "10.0.0.7", Primary: false },
      ],
      SecondaryPrivateIpAddressCount: 2,
      Ipv4Prefixes: [{ Ipv4Prefix: "10.0.1.0/28" }],
      Ipv4PrefixCount: 1,
      Ipv6Addresses: [{ Ipv6Address: "2001:db8::1" }],
      Ipv6AddressCount: 1,
      Ipv6PrefixCount: 1,
      InterfaceType: "trunk",
      TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "a", Value: "b" }, { Key: "c", Value: "" }] }],
    }),
    "createNetworkInterface",
  );
  assert.deepEqual(input, {
    subnetId: "subnet-1",
    description: "a & b = c",
    groupIds: ["sg-1", "sg-2"],
    privateIpAddresses: [
      { address: "10.0.0.6", primary: true },
      { address: "10.0.0.7", primary: false },
    ],
    secondaryPrivateIpAddressCount: 2,
    ipv4PrefixCount: 1,
    ipv4Prefixes: ["10.0.1.0/28"],
    ipv6AddressCount: 1,
    ipv6Addresses: ["2001:db8::1"],
    ipv6PrefixCount: 1,
    interfaceType: "trunk",
    tagSpecifications: [{ resourceType: "network-interface", tags: [{ key: "a", value: "b" }, { key: "c", value: "" }] }],
  });
});

test("attach, detach, modify", async () => {
  assert.deepEqual(await inputOf(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: "eni-1", InstanceId: "i-1", DeviceIndex: 2, NetworkCardIndex: 1 }), "attachNetworkInterface"), {
    networkInterfaceId: "eni-1",
    instanceId: "i-1",
    deviceIndex: 2,
    networkCardIndex: 1,
  });
  assert.deepEqual(await inputOf(new DetachNetworkInterfaceCommand({ AttachmentId: "eni-attach-1", Force: true }), "detachNetworkInterface"), {
    attachmentId: "eni-attach-1",
    force: true,
  });
  const m = "modifyNetworkInterfaceAttribute";
  assert.deepEqual(await inputOf(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: "eni-1", Attachment: { AttachmentId: "eni-attach-1", DeleteOnTermination: false } }), m), {
    networkInterfaceId: "eni-1",
    attachment: { attachmentId: "eni-attach-1", deleteOnTermination: false },
  });
  assert.deepEqual(await inputOf(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: "eni-1", Groups: ["sg-9"] }), m), { networkInterfaceId: "eni-1", groupIds: ["sg-9"] });
  assert.deepEqual(await inputOf(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: "eni-1", SourceDestCheck: { Value: false } }), m), {
    networkInterfaceId: "eni-1",
    sourceDestCheck: false,
  });
  assert.deepEqual(await inputOf(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: "eni-1", Description: { Value: "d" } }), m), { networkInterfaceId: "eni-1", description: "d" });
});

test("assign and unassign IPv4 and IPv6", async () => {
  assert.deepEqual(
    await inputOf(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1", PrivateIpAddresses: ["10.0.0.8", "10.0.0.9"], Ipv4Prefixes: ["10.0.2.0/28"], AllowReassignment: true }),
      "assignPrivateIpAddresses",
    ),
    { networkInterfaceId: "eni-1", privateIpAddresses: ["10.0.0.8", "10.0.0.9"], ipv4Prefixes: ["10.0.2.0/28"], allowReassignment: true },
  );
  assert.deepEqual(await inputOf(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1", SecondaryPrivateIpAddressCount: 3, Ipv4PrefixCount: 2 }), "assignPrivateIpAddresses"), {
    networkInterfaceId: "eni-1",
    secondaryPrivateIpAddressCount: 3,
    ipv4PrefixCount: 2,
  });
  assert.deepEqual(
    await inputOf(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: "eni-1", PrivateIpAddresses: ["10.0.0.8"], Ipv4Prefixes: ["10.0.2.0/28"] }), "unassignPrivateIpAddresses"),
    { networkInterfaceId: "eni-1", privateIpAddresses: ["10.0.0.8"], ipv4Prefixes: ["10.0.2.0/28"] },
  );
  assert.deepEqual(
    await inputOf(
      new AssignIpv6AddressesCommand({ NetworkInterfaceId: "eni-1", Ipv6Addresses: ["2001:db8::2"], Ipv6AddressCount: 1, Ipv6Prefixes: ["2001:db8:1::/80"], Ipv6PrefixCount: 1 }),
      "assignIpv6Addresses",
    ),
    { networkInterfaceId: "eni-1", ipv6Addresses: ["2001:db8::2"], ipv6AddressCount: 1, ipv6Prefixes: ["2001:db8:1::/80"], ipv6PrefixCount: 1 },
  );
  assert.deepEqual(
    await inputOf(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: "eni-1", Ipv6Addresses: ["2001:db8::2"], Ipv6Prefixes: ["2001:db8:1::/80"] }), "unassignIpv6Addresses"),
    { networkInterfaceId: "eni-1", ipv6Addresses: ["2001:db8::2"], ipv6Prefixes: ["2001:db8:1::/80"] },
  );
});

test("tags", async () => {
  assert.deepEqual(await inputOf(new CreateTagsCommand({ Resources: ["eni-1", "i-1"], Tags: [{ Key: "k", Value: "v" }] }), "createTags"), {
    resourceIds: ["eni-1", "i-1"],
    tags: [{ key: "k", value: "v" }],
  });
  assert.deepEqual(await inputOf(new DeleteTagsCommand({ Resources: ["eni-1"], Tags: [{ Key: "k" }, { Key: "k2", Value: "" }] }), "deleteTags"), {
    resourceIds: ["eni-1"],
    tags: [{ key: "k" }, { key: "k2", value: "" }],
  });
});

test("describes: ids, filters, paging", async () => {
  assert.deepEqual(
    await inputOf(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-1", "eni-2"], Filters: [{ Name: "tag:x", Values: ["1", "2"] }, { Name: "status", Values: ["available"] }], MaxResults: 5, NextToken: "t" }),
      "describeNetworkInterfaces",
    ),
    {
      ids: ["eni-1", "eni-2"],
      filters: [
        { name: "tag:x", values: ["1", "2"] },
        { name: "status", values: ["available"] },
      ],
      maxResults: 5,
      nextToken: "t",
    },
  );
  assert.deepEqual(await inputOf(new DescribeInstancesCommand({ InstanceIds: ["i-1"] }), "describeInstances"), { ids: ["i-1"] });
  assert.deepEqual(await inputOf(new DescribeInstanceTypesCommand({ InstanceTypes: ["m5.large", "t3.micro"] }), "describeInstanceTypes"), { ids: ["m5.large", "t3.micro"] });
  assert.deepEqual(await inputOf(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-1"], GroupNames: ["default"] }), "describeSecurityGroups"), {
    ids: ["sg-1"],
    filters: [{ name: "group-name", values: ["default"] }],
  });
});

test("RunInstances: instance-level and NetworkInterface.1 forms", async () => {
  assert.deepEqual(
    await inputOf(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        ImageId: "ami-1",
        InstanceType: "m5.large",
        SubnetId: "subnet-1",
        SecurityGroupIds: ["sg-1"],
        PrivateIpAddress: "10.0.0.10",
        IamInstanceProfile: { Arn: "arn:aws:iam::111122223333:instance-profile/path/node-role" },
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "Name", Value: "n1" }] },
          { ResourceType: "volume", Tags: [{ Key: "v", Value: "1" }] },
        ],
      }),
      "runInstance",
    ),
    { instanceType: "m5.large", subnetId: "subnet-1", groupIds: ["sg-1"], privateIpAddress: "10.0.0.10", imageId: "ami-1", iamRoleName: "node-role", tags: [{ key: "Name", value: "n1" }] },
  );
  assert.deepEqual(
    await inputOf(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "t3.micro",
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: "subnet-2", AssociatePublicIpAddress: true, Groups: ["sg-9"], PrivateIpAddress: "10.0.2.9" }],
        IamInstanceProfile: { Name: "role" },
      }),
      "runInstance",
    ),
    { instanceType: "t3.micro", subnetId: "subnet-2", groupIds: ["sg-9"], privateIpAddress: "10.0.2.9", associatePublicIp: true, iamRoleName: "role" },
  );
  await assert.rejects(client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 3, InstanceType: "m5.large", SubnetId: "subnet-1" })), { name: "InvalidParameterValue" });
  await assert.rejects(
    client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "m5.large", SubnetId: "s", NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: "s" }] })),
    { name: "InvalidParameterCombination" },
  );
  await assert.rejects(client.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: "m5.large" })), { name: "MissingParameter", message: "The request must contain the parameter SubnetId" });
});

test("Params: list indices, types and missing values", () => {
  const p = (text: string) => new Params(parseForm(text));
  assert.deepEqual(p("X.2=b&X.1=a&X.10=c").list("X"), ["a", "b", "c"]);
  assert.throws(() => p("X.0=a").list("X"), { code: "InvalidParameterValue" });
  assert.throws(() => p("X.-1=a").list("X"), { code: "InvalidParameterValue" });
  assert.throws(() => p("N=1.5").int("N"), { code: "InvalidParameterValue" });
  assert.throws(() => p("N=99999999999999999999").int("N"), { code: "InvalidParameterValue" });
  assert.equal(p("B=TRUE").bool("B"), true);
  assert.throws(() => p("B=yes").bool("B"), { code: "InvalidParameterValue" });
  assert.throws(() => parseInput("DescribeVpcs", parseForm("Filter.1.Value.1=x")), { code: "MissingParameter", message: "The request must contain the parameter Filter.1.Name" });
  assert.throws(() => parseInput("ModifyNetworkInterfaceAttribute", parseForm("NetworkInterfaceId=eni-1&Attachment.AttachmentId=a")), {
    code: "MissingParameter",
    message: "The request must contain the parameter Attachment.DeleteOnTermination",
  });
  assert.throws(() => parseInput("ModifyNetworkInterfaceAttribute", parseForm("NetworkInterfaceId=eni-1&SecurityGroupId.1=sg&Description.Value=d")), {
    code: "InvalidParameterCombination",
  });
  assert.throws(() => parseInput("CreateNetworkInterface", parseForm("SubnetId=s&InterfaceType=bogus")), { code: "InvalidParameterValue" });
});
