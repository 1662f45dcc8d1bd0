// The seeded fault campaign (issue 10): the agent's pool manager, datastore and checkpoint against
// vpcsim's EC2 model in process on virtual time, under random schedules of EC2 throttling, 5xx,
// timeouts, lost responses and slow attaches, kill -9 and restart from the checkpoint, and ENIs
// detached or addresses unassigned behind its back; after it settles, the invariants of
// test/campaign/invariants.ts. Seeded and repeatable: every failing seed is printed with the command
// that replays it alone (with the agent's log).
//
//   ./node_modules/.bin/node --test test/fault-campaign.test.ts           CI's fixed seeds (1..50)
//   ./node_modules/.bin/node test/fault-campaign.test.ts --seeds 500      seeds 1..500 (or CAMPAIGN_SEEDS=500)
//   CAMPAIGN_SEED=17 CAMPAIGN_DEBUG=1 ./node_modules/.bin/node --test test/fault-campaign.test.ts

import { test } from "node:test";
import assert from "node:assert/strict";
import { runSeed } from "./campaign/campaign.ts";
import { checkInvariants } from "./campaign/invariants.ts";
import { NodeRig } from "./campaign/node-rig.ts";
import { seededRandom } from "../src/sim/ec2/model.test-support.ts";

const CI_SEEDS = 50;

function seedsToRun(): number[] {
  const one = process.env["CAMPAIGN_SEED"];
  if (one !== undefined && one !== "") {
    const n = Number(one);
    if (!Number.isSafeInteger(n)) throw new Error(`CAMPAIGN_SEED must be a whole number, not ${JSON.stringify(one)}`);
    return [n];
  }
  const i = process.argv.indexOf("--seeds");
  const text = i >= 0 ? process.argv[i + 1] : process.env["CAMPAIGN_SEEDS"];
  const count = text === undefined || text === "" ? CI_SEEDS : Number(text);
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--seeds / CAMPAIGN_SEEDS must be a whole number ≥ 1, not ${JSON.stringify(text)}`);
  return Array.from({ length: count }, (_, k) => k + 1);
}

test("fault campaign: every seed settles with the invariants holding", { timeout: 15 * 60_000 }, async () => {
  const seeds = seedsToRun();
  const failed: string[] = [];
  const totals = { adds: 0, addFailures: 0, dels: 0, crashes: 0, behindBack: 0, faults: 0, lostResponses: 0 };
  for (const seed of seeds) {
    const r = await runSeed(seed);
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
    if (r.violations.length > 0) {
      failed.push(
        `seed ${seed}: ${r.violations.length} violation(s)\n    ${r.violations.join("\n    ")}\n` +
          `  replay: CAMPAIGN_SEED=${seed} CAMPAIGN_DEBUG=1 ./node_modules/.bin/node --test test/fault-campaign.test.ts`,
      );
    }
  }
  process.stdout.write(`# fault campaign: ${seeds.length} seeds, ${JSON.stringify(totals)}\n`);
  assert.deepEqual(failed, [], `\n${failed.join("\n")}`);
});

test("fault campaign: the same seed gives the same run", async () => {
  const a = await runSeed(7);
  const b = await runSeed(7);
  assert.deepEqual(a, b);
  assert.ok(a.stats.adds > 10 && a.stats.faults > 0, JSON.stringify(a.stats));
});

test("fault campaign: the invariants catch what they are for", async () => {
  const rig = new NodeRig({ seed: 1, random: seededRandom(1), env: { WARM_IP_TARGET: "2", WARM_ENI_TARGET: "0" } });
  try {
    await rig.warm();
    const started = rig.start();
    await rig.scheduler.advance(1_000);
    await started;
    const agent = rig.agent!;
    const pod = { namespace: "default", name: "p", containerID: "c-p" };
    const got = agent.allocate({ networkName: "aws-cni", containerID: pod.containerID, ifName: "eth0" }, { k8sPodNamespace: "default", k8sPodName: "p", k8sPodUID: "u" });
    await rig.scheduler.advance(1_000);
    const r = await got;
    await rig.scheduler.advance(10_000);
    assert.deepEqual(checkInvariants(rig, [{ ...pod, address: r.address }], { warmIp: 2 }), []);
    // Addresses EC2 gave the ENI that the agent does not know: leaked.
    const eni = rig.datastore!.snapshot().enis[0]!;
    const [extra] = rig.ec2.model.assignPrivateIpAddresses({ networkInterfaceId: eni.id, secondaryPrivateIpAddressCount: 1 }).assignedPrivateIpAddresses;
    // A pod the agent forgot, and one it holds that is not running.
    const violations = checkInvariants(rig, [{ namespace: "default", name: "q", containerID: "c-q" }], { warmIp: 2 });
    assert.deepEqual(violations, [
      "running pod default/q (c-q) has no address in the datastore",
      `${r.address} is held for c-p (p), which is not running`,
      `${extra}/32 is on ${eni.id} in EC2 but not in the datastore (leaked)`,
    ]);
  } finally {
    await rig.stop();
    rig.dispose();
  }
});
