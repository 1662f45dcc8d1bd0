import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import { actionOf, ec2Context } from "./ec2-client.ts";
import { RequestBudget } from "./request-budget.ts";
import { describeInstanceLimits } from "./instance-type-info.ts";

function client(answer: unknown) {
  const sent: { action: string; input: unknown }[] = [];
  return {
    sent,
    send: async (command: { input: unknown }) => {
      sent.push({ action: actionOf(command), input: command.input });
      return { $metadata: { httpStatusCode: 200 }, ...(answer as object) };
    },
  };
}

test("an instance type the table lacks is read from DescribeInstanceTypes, with the default card's ENIs", async () => {
  const c = client({
    InstanceTypes: [
      {
        InstanceType: "c9gn.48xlarge",
        Hypervisor: "nitro",
        BareMetal: false,
        NetworkInfo: {
          MaximumNetworkInterfaces: 16,
          MaximumNetworkCards: 2,
          DefaultNetworkCardIndex: 0,
          Ipv4AddressesPerInterface: 50,
          NetworkCards: [
            { NetworkCardIndex: 0, MaximumNetworkInterfaces: 8 },
            { NetworkCardIndex: 1, MaximumNetworkInterfaces: 8 },
          ],
        },
      },
    ],
  });
  const clock = new VirtualScheduler();
  const limits = await describeInstanceLimits(ec2Context(c, new RequestBudget({ clock }), { clock }), "c9gn.48xlarge");
  assert.deepEqual(c.sent, [{ action: "DescribeInstanceTypes", input: { InstanceTypes: ["c9gn.48xlarge"] } }]);
  assert.equal(limits?.enis, 8, "the default card's, not the instance-wide 16");
  assert.equal(limits?.enisAllCards, 16);
  assert.equal(limits?.ipv4PerEni, 50);
  assert.equal(limits?.hypervisor, "nitro");
  assert.equal(limits?.trunking, false);
});

test("a type EC2 does not describe gives undefined", async () => {
  const clock = new VirtualScheduler();
  assert.equal(await describeInstanceLimits(ec2Context(client({ InstanceTypes: [] }), new RequestBudget({ clock }), { clock }), "x9.huge"), undefined);
});
