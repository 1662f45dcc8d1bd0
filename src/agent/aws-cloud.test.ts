// The agent's AWS cloud adapter against a scripted EC2 and a stand-in for IMDS.

import { test } from "node:test";
import assert from "node:assert/strict";
import { makeAwsCloud } from "./aws-cloud.ts";
import { ReleaseUnconfirmedError } from "./pool-manager.ts";
import { loadConfig } from "./config.ts";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { actionOf, ec2Context } from "../aws/ec2-client.ts";
import { RequestBudget } from "../aws/request-budget.ts";
import type { Imds, ImdsEni } from "../aws/imds.ts";

const primary: ImdsEni = {
  mac: "02:00:00:00:00:01",
  eniId: "eni-00000000000000001",
  deviceNumber: 0,
  networkCard: 0,
  primary: true,
  subnetId: "subnet-a",
  subnetCidr: "10.0.0.0/20",
  vpcId: "vpc-1",
  ipv4s: ["10.0.0.10"],
  ipv4Prefixes: [],
  securityGroupIds: ["sg-1"],
  vpcIpv4Cidrs: ["10.0.0.0/16"],
};

const imds = {
  identity: async () => ({ instanceId: "i-1", instanceType: "m5.large", availabilityZone: "us-east-1a", region: "us-east-1", primaryMac: primary.mac, primaryIp: "10.0.0.10", primaryEniId: primary.eniId, subnetId: "subnet-a", vpcId: "vpc-1", accountId: undefined }),
  eni: async () => primary,
  enis: async () => [primary],
} as unknown as Imds;

test("an ENI in a subnet instance metadata has not shown gets its CIDR from DescribeSubnets, once", async () => {
  const sent: { api: string; input: any }[] = [];
  const client = {
    send: async (command: object) => {
      const api = actionOf(command);
      const input = (command as { input: any }).input;
      sent.push({ api, input });
      if (api === "DescribeNetworkInterfaces") {
        return {
          NetworkInterfaces: [
            { NetworkInterfaceId: "eni-00000000000000002", SubnetId: "subnet-b", MacAddress: "02:00:00:00:00:02", PrivateIpAddresses: [{ PrivateIpAddress: "10.0.16.5", Primary: true }], Attachment: { InstanceId: "i-1", DeviceIndex: 1, NetworkCardIndex: 0, Status: "attached", AttachmentId: "eni-attach-2" } },
          ],
        };
      }
      if (api === "DescribeSubnets") return { Subnets: [{ SubnetId: "subnet-b", CidrBlock: "10.0.16.0/20" }] };
      throw new Error(`unexpected ${api}`);
    },
  };
  const clock = new VirtualScheduler();
  const loaded = loadConfig({});
  assert.ok(loaded.ok);
  const cloud = makeAwsCloud({ ec2: ec2Context(client, new RequestBudget({ clock }), { clock }), imds, config: loaded.config });
  await cloud.identity();
  const [eni] = await cloud.ec2AttachedEnis();
  assert.equal(eni?.subnetCidr, "10.0.16.0/20");
  assert.deepEqual(sent.filter((s) => s.api === "DescribeSubnets").map((s) => s.input.SubnetIds), [["subnet-b"]]);
  await cloud.ec2Enis(["eni-00000000000000002"]);
  assert.equal(sent.filter((s) => s.api === "DescribeSubnets").length, 1, "a known subnet is not asked for again");
});

test("a failed unassign that EC2 carried out anyway (its answer lost, the retry refused) counts as released; one EC2 did not, fails", async () => {
  let onEni = ["10.0.0.10", "10.0.0.11", "10.0.0.12"];
  const sent: string[] = [];
  const client = {
    send: async (command: object) => {
      const api = actionOf(command);
      const input = (command as { input: any }).input;
      sent.push(api);
      if (api === "UnassignPrivateIpAddresses") {
        // As EC2 answers the retry of an unassign whose first try went through.
        throw Object.assign(new Error("Some of the specified addresses are not assigned to interface"), { name: "InvalidParameterValue", $metadata: { httpStatusCode: 400 } });
      }
      if (api === "DescribeNetworkInterfaces") {
        return { NetworkInterfaces: [{ NetworkInterfaceId: input.Filters[0].Values[0], SubnetId: "subnet-a", MacAddress: "02:00:00:00:00:02", PrivateIpAddresses: onEni.map((ip, i) => ({ PrivateIpAddress: ip, Primary: i === 0 })) }] };
      }
      throw new Error(`unexpected ${api}`);
    },
  };
  const clock = new VirtualScheduler();
  const loaded = loadConfig({});
  assert.ok(loaded.ok);
  const cloud = makeAwsCloud({ ec2: ec2Context(client, new RequestBudget({ clock }), { clock, maxAttempts: 1 }), imds, config: loaded.config });
  await cloud.identity();
  onEni = ["10.0.0.10", "10.0.0.12"]; // 10.0.0.11 is gone from the ENI in EC2
  await cloud.release("eni-00000000000000002", ["10.0.0.11/32"], false);
  assert.deepEqual(sent, ["UnassignPrivateIpAddresses", "DescribeNetworkInterfaces"]);
  await assert.rejects(cloud.release("eni-00000000000000002", ["10.0.0.12/32"], false), /not assigned/);
});

test("a failed unassign whose outcome EC2 cannot be asked about is unconfirmed, so the pool keeps those addresses out of service", async () => {
  const client = {
    send: async (command: object) => {
      const api = actionOf(command);
      if (api === "UnassignPrivateIpAddresses") throw Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded", $metadata: { httpStatusCode: 503 } });
      if (api === "DescribeNetworkInterfaces") throw Object.assign(new Error("the answer never came"), { name: "TimeoutError" });
      throw new Error(`unexpected ${api}`);
    },
  };
  const clock = new VirtualScheduler();
  const loaded = loadConfig({});
  assert.ok(loaded.ok);
  const cloud = makeAwsCloud({ ec2: ec2Context(client, new RequestBudget({ clock }), { clock, maxAttempts: 1 }), imds, config: loaded.config });
  await cloud.identity();
  await assert.rejects(cloud.release("eni-00000000000000002", ["10.0.0.11/32"], false), (err: unknown) => {
    assert.ok(err instanceof ReleaseUnconfirmedError, String(err));
    assert.match(err.message, /RequestLimitExceeded.*EC2 could not be asked what the ENI holds/);
    return true;
  });
});
