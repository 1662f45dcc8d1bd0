// The leaked-ENI sweep end to end on virtual time: the agent's schedules as run() starts them
// (startSchedules, its random jitter and all) against vpcsim's EC2 in process, with EC2's filters,
// tags and throttling. What it deletes and when: an available agent ENI older than 5 minutes within
// the first run (at most 5 minutes after start), a young one and one without createdAt only a run
// later (about an hour on), never an attached ENI or one that is not an agent's, nothing after stop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createEni } from "../src/aws/eni-api.ts";
import { startSchedules } from "../src/agent/schedules.ts";
import { createAgentMetrics } from "../src/agent/observability/metrics.ts";
import { NodeRig } from "./campaign/node-rig.ts";
import { seededRandom } from "../src/sim/ec2/model.test-support.ts";

const MINUTE = 60_000;

test("the leaked-ENI sweep on its schedule against EC2: old leaks within 5 minutes, young and untagged ones an hour later, nothing else, nothing after stop", { timeout: 120_000 }, async () => {
  const rig = new NodeRig({ seed: 5, random: seededRandom(5), sweep: false, env: { WARM_IP_TARGET: "12" } });
  const { model } = rig.ec2;
  const logs: string[] = [];
  try {
    await rig.warm();
    const drive = async <T>(p: Promise<T>): Promise<T> => {
      let done = false;
      const tracked = p.finally(() => (done = true));
      for (let i = 0; !done && i < 6000; i++) await rig.scheduler.advance(100);
      return tracked;
    };
    await drive(rig.start());
    await drive(rig.agent!.pool.runPassNow());

    // Another node of the cluster, dead since it created an ENI (a kill -9 before its attach).
    const other = model.runInstance({ instanceType: "m5.large", subnetId: rig.subnetId });
    const otherEc2 = rig.ec2Of(other.instanceId);
    const create = () => drive(createEni(otherEc2, { instanceId: other.instanceId, subnetId: rig.subnetId, securityGroupIds: [], secondaryIpCount: 2 }));
    const old = await create();
    // An agent's ENI without a createdAt tag (an older agent, or tags lost), and one that is nobody's.
    const untagged = model.createNetworkInterface({ subnetId: rig.subnetId, description: `aws-K8S-${other.instanceId}` });
    model.createTags({ resourceIds: [untagged.networkInterfaceId], tags: [{ key: "node.k8s.amazonaws.com/instance_id", value: other.instanceId }] });
    const foreign = model.createNetworkInterface({ subnetId: rig.subnetId, description: "a database's ENI" });
    await rig.scheduler.advance(10 * MINUTE);
    const attached = rig.datastore!.snapshot().enis.filter((e) => !e.isPrimary).map((e) => e.id);
    assert.ok(attached.length >= 1, "the node has a secondary ENI (WARM_IP_TARGET=12: more than the primary's 9)");

    const schedules = startSchedules({
      config: rig.config,
      datastore: rig.datastore!,
      agent: rig.agent!,
      metrics: createAgentMetrics({ version: "test", processMetrics: false }),
      ec2: rig.agentEc2!,
      vpcId: rig.vpcId,
      scheduler: rig.scheduler,
      log: (level, msg) => logs.push(`${level}: ${msg}`),
    });
    const young = await create();
    const exists = (id: string) => model.networkInterface(id) !== undefined;

    await rig.scheduler.advance(5 * MINUTE);
    assert.equal(exists(old.eniId), false, "an available agent ENI older than 5 minutes goes in the first run");
    assert.equal(exists(young.eniId), true, "one younger than 5 minutes may be being attached: kept");
    assert.equal(exists(untagged.networkInterfaceId), true, "one without createdAt is tagged, not deleted");
    assert.ok(model.networkInterface(untagged.networkInterfaceId)!.tags.some((t) => t.key === "node.k8s.amazonaws.com/createdAt"));

    await rig.scheduler.advance(65 * MINUTE);
    assert.equal(exists(young.eniId), false, "deleted by the next run, an hour on");
    assert.equal(exists(untagged.networkInterfaceId), false);
    assert.equal(exists(foreign.networkInterfaceId), true, "an ENI that is not an agent's is never touched");
    for (const id of attached) assert.equal(model.networkInterface(id)?.attachment?.instanceId, rig.instanceId, `${id} still attached`);
    assert.ok(logs.some((l) => /^info: leaked-ENI clean-up deleted 1 ENIs$/.test(l)), logs.join("\n"));

    schedules.stop();
    const late = await create();
    await rig.scheduler.advance(3 * 60 * MINUTE);
    assert.equal(exists(late.eniId), true, "no run after stop (SIGTERM)");
  } finally {
    await rig.stop();
    rig.dispose();
  }
});
