// The ENI operations' decisions, against a scripted EC2 (the end-to-end behaviour against vpcsim is
// in test/agent-aws.test.ts).

import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { actionOf, ec2Context, type Ec2 } from "./ec2-client.ts";
import { allocEni, describeEnis, freeEni, listLeakedEnis, notFoundId, tagEni } from "./eni-api.ts";
import { AwsApiError } from "./errors.ts";
import { eniTags, missingTags, rfc3339 } from "./eni-tags.ts";
import { RequestBudget } from "./request-budget.ts";

type Handler = (input: any) => unknown;

function scripted(handlers: Record<string, Handler>, clock = new VirtualScheduler()): { ec2: Ec2; sent: { api: string; input: any }[]; clock: VirtualScheduler } {
  const sent: { api: string; input: any }[] = [];
  const client = {
    send: async (command: object) => {
      const api = actionOf(command);
      const input = (command as { input: unknown }).input;
      sent.push({ api, input });
      const h = handlers[api];
      if (h === undefined) throw new Error(`unexpected ${api}`);
      return h(input);
    },
  };
  return { ec2: ec2Context(client, new RequestBudget({ clock }), { clock, random: () => 0 }), sent, clock };
}

function ec2Error(code: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } });
}

test("the id in EC2's NotFound message is found with the reference's pattern", () => {
  assert.equal(notFoundId("The networkInterface ID 'eni-0abc' does not exist"), "eni-0abc");
  assert.equal(notFoundId("no id here"), undefined);
});

test("describeEnis drops ids EC2 does not know and asks again for the rest", async () => {
  const { ec2, sent } = scripted({
    DescribeNetworkInterfaces: (input) => {
      const gone = input.NetworkInterfaceIds.find((id: string) => id.startsWith("eni-gone"));
      if (gone) throw ec2Error("InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${gone}' does not exist`);
      return { NetworkInterfaces: input.NetworkInterfaceIds.map((id: string) => ({ NetworkInterfaceId: id, MacAddress: "02:00:00:00:00:01" })) };
    },
  });
  const out = await describeEnis(ec2, ["eni-a", "eni-gone1", "eni-b", "eni-gone2"]);
  assert.deepEqual(out.enis.map((e) => e.eniId), ["eni-a", "eni-b"]);
  assert.deepEqual(out.missing, ["eni-gone1", "eni-gone2"]);
  assert.equal(sent.length, 3);
});

test("tags: the agent's own win over ADDITIONAL_ENI_TAGS; only missing or different ones are written", async () => {
  const tags = eniTags({ instanceId: "i-1", clusterName: "c", additionalTags: { "node.k8s.amazonaws.com/instance_id": "evil", team: "a" }, createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678) });
  assert.deepEqual(tags, {
    team: "a",
    "node.k8s.amazonaws.com/instance_id": "i-1",
    "node.k8s.amazonaws.com/createdAt": "2024-01-02T03:04:05Z",
    "cluster.k8s.amazonaws.com/name": "c",
    "eks:eni:owner": "amazon-vpc-cni",
  });
  assert.deepEqual(missingTags({ a: "1", b: "2" }, { a: "1", b: "3", c: "4" }), { b: "3", c: "4" });
  const { ec2, sent } = scripted({ CreateTags: () => ({}) });
  assert.deepEqual(await tagEni(ec2, "eni-1", { a: "1" }, { a: "1" }), {});
  assert.equal(sent.length, 0, "nothing to write, no call");
  await tagEni(ec2, "eni-1", { a: "1" }, { a: "1", b: "2" });
  assert.deepEqual(sent[0]?.input, { Resources: ["eni-1"], Tags: [{ Key: "b", Value: "2" }] });
});

test("allocEni deletes the new ENI when the attach fails, and reports the attach's code", async () => {
  const { ec2, sent } = scripted({
    CreateNetworkInterface: () => ({ NetworkInterface: { NetworkInterfaceId: "eni-new", MacAddress: "02:00:00:00:00:09" } }),
    DescribeInstances: () => ({ Reservations: [{ Instances: [{ NetworkInterfaces: [{ Attachment: { DeviceIndex: 0, NetworkCardIndex: 0 } }, { Attachment: { DeviceIndex: 2, NetworkCardIndex: 0 } }] }] }] }),
    AttachNetworkInterface: () => {
      throw ec2Error("AttachmentLimitExceeded", "Interface count 4 exceeds the limit for m5.large");
    },
    DescribeNetworkInterfaces: () => ({ NetworkInterfaces: [{ NetworkInterfaceId: "eni-new", Status: "available" }] }),
    DeleteNetworkInterface: () => ({}),
  });
  await assert.rejects(
    allocEni(ec2, { instanceId: "i-1", subnetId: "subnet-1", securityGroupIds: ["sg-b", "sg-a"], secondaryIpCount: 2 }),
    (err: unknown) => err instanceof AwsApiError && err.code === "AttachmentLimitExceeded" && err.fn === "allocEni",
  );
  assert.deepEqual(sent.map((s) => s.api), ["CreateNetworkInterface", "DescribeInstances", "AttachNetworkInterface", "DescribeNetworkInterfaces", "DeleteNetworkInterface"]);
  const create = sent[0]!.input;
  assert.deepEqual(create.Groups, ["sg-a", "sg-b"]);
  assert.equal(create.SecondaryPrivateIpAddressCount, 2);
  assert.equal(create.Description, "aws-K8S-i-1");
  assert.equal(sent[2]!.input.DeviceIndex, 1, "the lowest free index");
  assert.equal(sent[4]!.input.NetworkInterfaceId, "eni-new");
});

test("allocEni keeps an ENI whose attach reached EC2 although the answer was lost", async () => {
  const { ec2, sent } = scripted({
    CreateNetworkInterface: () => ({ NetworkInterface: { NetworkInterfaceId: "eni-new", MacAddress: "02:00:00:00:00:09" } }),
    DescribeInstances: () => ({ Reservations: [{ Instances: [{ NetworkInterfaces: [{ Attachment: { DeviceIndex: 0, NetworkCardIndex: 0 } }] }] }] }),
    AttachNetworkInterface: () => {
      throw ec2Error("InvalidParameterValue", "Request was malformed in transit");
    },
    DescribeNetworkInterfaces: () => ({
      NetworkInterfaces: [{ NetworkInterfaceId: "eni-new", Status: "in-use", Attachment: { AttachmentId: "eni-attach-1", InstanceId: "i-1", DeviceIndex: 1, NetworkCardIndex: 0, Status: "attached" } }],
    }),
    ModifyNetworkInterfaceAttribute: () => ({}),
  });
  const got = await allocEni(ec2, { instanceId: "i-1", subnetId: "subnet-1", securityGroupIds: ["sg-a"], secondaryIpCount: 1 });
  assert.equal(got.attachmentId, "eni-attach-1");
  assert.equal(got.deviceIndex, 1);
  assert.ok(!sent.some((s) => s.api === "DeleteNetworkInterface"), "an attached ENI is never deleted");
  assert.equal(sent.at(-1)!.api, "ModifyNetworkInterfaceAttribute", "DeleteOnTermination still set");
});

test("leaked-ENI listing pages, honours the grace and tags untagged ENIs instead of deleting them", async () => {
  const clock = new VirtualScheduler({ start: Date.UTC(2024, 5, 1, 12, 0, 0) });
  const now = clock.now();
  const eni = (id: string, createdAt: string | undefined, description = "aws-K8S-i-9") => ({
    NetworkInterfaceId: id,
    Description: description,
    Status: "available",
    TagSet: [{ Key: "node.k8s.amazonaws.com/instance_id", Value: "i-9" }, ...(createdAt === undefined ? [] : [{ Key: "node.k8s.amazonaws.com/createdAt", Value: createdAt }])],
  });
  const { ec2, sent } = scripted(
    {
      DescribeNetworkInterfaces: (input) =>
        input.NextToken === undefined
          ? { NetworkInterfaces: [eni("eni-old", rfc3339(now - 6 * 60_000)), eni("eni-young", rfc3339(now - 4 * 60_000))], NextToken: "p2" }
          : { NetworkInterfaces: [eni("eni-untagged", undefined), eni("eni-other", rfc3339(now - 3600_000), "someone else's")] },
      CreateTags: () => ({}),
    },
    clock,
  );
  const scan = await listLeakedEnis(ec2, { vpcId: "vpc-1", clusterName: "c" });
  assert.deepEqual(scan.leaked.map((e) => e.eniId), ["eni-old"]);
  assert.deepEqual(scan.young, ["eni-young"]);
  assert.deepEqual(scan.taggedNow, ["eni-untagged"]);
  const describes = sent.filter((s) => s.api === "DescribeNetworkInterfaces");
  assert.equal(describes.length, 2);
  assert.equal(describes[1]!.input.NextToken, "p2");
  assert.equal(describes[0]!.input.MaxResults, 1000);
  assert.deepEqual(
    describes[0]!.input.Filters.map((f: { Name: string; Values: string[] }) => `${f.Name}=${f.Values.join(",")}`),
    ["tag-key=node.k8s.amazonaws.com/instance_id", "status=available", "vpc-id=vpc-1", "tag:cluster.k8s.amazonaws.com/name=c"],
  );
  const tag = sent.find((s) => s.api === "CreateTags")!;
  assert.deepEqual(tag.input.Tags, [{ Key: "node.k8s.amazonaws.com/createdAt", Value: "2024-06-01T12:00:00Z" }]);
});

test("freeEni: an ENI detached but not deletable is reported 'detached', not as a failure (its addresses must not serve again)", async () => {
  let describes = 0;
  const { ec2, sent, clock } = scripted({
    DescribeNetworkInterfaces: () => {
      describes++;
      const attached = describes === 1;
      return {
        NetworkInterfaces: [
          {
            NetworkInterfaceId: "eni-x",
            Status: attached ? "in-use" : "available",
            ...(attached ? { Attachment: { AttachmentId: "att-1", InstanceId: "i-1", DeviceIndex: 1, Status: "attached" } } : {}),
          },
        ],
      };
    },
    DetachNetworkInterface: () => ({}),
    DeleteNetworkInterface: () => {
      throw ec2Error("UnauthorizedOperation", "not allowed to delete");
    },
  });
  const done = freeEni(ec2, "eni-x", { instanceId: "i-1" });
  await clock.runUntilIdle();
  assert.equal(await done, "detached");
  assert.deepEqual(sent.map((s) => s.api), ["DescribeNetworkInterfaces", "DetachNetworkInterface", "DescribeNetworkInterfaces", "DeleteNetworkInterface"]);
});

test("freeEni: a failed detach is still an error (the ENI stays on the node)", async () => {
  const { ec2, clock } = scripted({
    DescribeNetworkInterfaces: () => ({
      NetworkInterfaces: [{ NetworkInterfaceId: "eni-x", Status: "in-use", Attachment: { AttachmentId: "att-1", InstanceId: "i-1", DeviceIndex: 1, Status: "attached" } }],
    }),
    DetachNetworkInterface: () => {
      throw ec2Error("UnauthorizedOperation", "not allowed to detach");
    },
  });
  const done = assert.rejects(freeEni(ec2, "eni-x", { instanceId: "i-1" }), (err: unknown) => err instanceof AwsApiError && err.code === "UnauthorizedOperation");
  await clock.runUntilIdle();
  await done;
});
