// One seed of the fault campaign: a node (node-rig.ts) under a random workload of pod ADDs and DELs
// while a random schedule of faults plays: EC2 throttling, 5xx, timeouts, lost responses and slow
// attaches; the agent killed (kill -9) and restarted from its checkpoint; an ENI detached or an
// address unassigned behind its back. Then the faults stop, pending DELs are retried as the kubelet
// does, time passes for the pool, the reconciler and the leaked-ENI sweep, and the invariants are
// checked. Everything comes from the seed, so a failing seed replays exactly.

import { seededRandom } from "../../src/sim/ec2/model.test-support.ts";
import { checkInvariants, type RunningPod } from "./invariants.ts";
import { NodeRig } from "./node-rig.ts";

export interface SeedResult {
  seed: number;
  violations: string[];
  stats: { adds: number; addFailures: number; dels: number; crashes: number; behindBack: number; faults: number; lostResponses: number; running: number };
}

const NAMESPACE = "default";
const STEP_MS_MAX = 3_000;

/** Waits for `p` while virtual time moves on in steps (EC2 latency, backoffs and the budget all wait on it). */
async function drive<T>(rig: NodeRig, p: Promise<T>, stepMs = 100, maxMs = 600_000): Promise<T> {
  let done = false;
  const tracked = p.finally(() => (done = true));
  tracked.catch(() => undefined);
  for (let t = 0; !done && t < maxMs; t += stepMs) await rig.scheduler.advance(stepMs);
  if (!done) throw new Error(`still waiting after ${maxMs} ms of virtual time`);
  return tracked;
}

export async function runSeed(seed: number, o: { steps?: number } = {}): Promise<SeedResult> {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const warmIp = pick([1, 2, 3, 5]);
  const minIp = pick([0, 0, 5, 12]);
  // A third of the seeds run prefix delegation (WARM_PREFIX_TARGET=1).
  const prefixDelegation = process.env["CAMPAIGN_NO_PD"] === undefined && random() < 1 / 3;
  const rig = new NodeRig({
    seed,
    random,
    env: prefixDelegation
      ? { ENABLE_PREFIX_DELEGATION: "true", WARM_PREFIX_TARGET: "1", WARM_ENI_TARGET: "0", IP_COOLDOWN_PERIOD: "5" }
      : { WARM_IP_TARGET: String(warmIp), MINIMUM_IP_TARGET: String(minIp), IP_COOLDOWN_PERIOD: "5", WARM_ENI_TARGET: "0" },
  });
  const stats = { adds: 0, addFailures: 0, dels: 0, crashes: 0, behindBack: 0, faults: 0, lostResponses: 0, running: 0 };
  const running = new Map<string, RunningPod>(); // by pod name
  const pendingDels: { pod: RunningPod }[] = [];
  const adding = new Set<string>();
  const behindBack = { addresses: new Set<string>(), enis: new Set<string>() };
  const flushDels = () => {
    const agent = rig.agent;
    if (!agent) return;
    for (const d of pendingDels.splice(0)) {
      try {
        agent.release({ networkName: "aws-cni", containerID: d.pod.containerID, ifName: "eth0" });
      } catch {
        pendingDels.push(d);
        return;
      }
    }
  };
  let attempt = 0;
  const inFlight = new Set<Promise<unknown>>();
  try {
    await rig.warm();
    await drive(rig, rig.start());
    const steps = o.steps ?? 60;
    const pods = Array.from({ length: 24 }, (_, i) => `pod-${i}`);
    let downUntil: number | undefined;

    for (let step = 0; step < steps; step++) {
      await rig.scheduler.advance(Math.floor(random() * STEP_MS_MAX));
      // The agent restarts when its down time is over (the kubelet restarting aws-node).
      if (downUntil !== undefined && rig.scheduler.now() >= downUntil) {
        downUntil = undefined;
        await drive(rig, rig.start()).catch(() => {
          // Its initialisation failed (EC2 faults): it exits, and is started again later.
          downUntil = rig.scheduler.now() + 5_000 + Math.floor(random() * 10_000);
        });
      }
      flushDels();
      const roll = random();
      if (roll < 0.05 && rig.agent) {
        rig.log("warn", "campaign: kill -9");
        rig.crash();
        stats.crashes++;
        downUntil = rig.scheduler.now() + Math.floor(random() * 10_000);
      } else if (roll < 0.2) {
        stats.faults++;
        const kind = pick(["throttle", "error", "timeout", "lost", "slow-attach", "clear"] as const);
        if (kind === "lost") rig.ec2.lostResponseProbability = random() * 0.3;
        else if (kind === "slow-attach") rig.ec2.timings.attachMs = Math.floor(random() * 8_000);
        else if (kind === "clear") {
          rig.ec2.faults.clear();
          rig.ec2.lostResponseProbability = 0;
          rig.ec2.timings.attachMs = 0;
        } else {
          const action = pick(["*", "CreateNetworkInterface", "AttachNetworkInterface", "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "DescribeNetworkInterfaces", "DeleteNetworkInterface", "DetachNetworkInterface"]);
          rig.ec2.faults.add({ action, kind, probability: 0.2 + random() * 0.6, count: 1 + Math.floor(random() * 6), ...(kind === "timeout" ? { ms: 1_000 + Math.floor(random() * 9_000) } : {}) });
        }
      } else if (roll < 0.25 && rig.datastore) {
        // Behind the agent's back: an ENI without pods detached, or a free address unassigned.
        const snap = rig.datastore.snapshot();
        const idle = snap.enis.filter((e) => !e.isPrimary && e.assigned === 0);
        const free = snap.enis.flatMap((e) => e.cidrs.filter((c) => c.assigned === 0 && !c.isPrefix).map((c) => ({ eni: e.id, ip: c.cidr.replace(/\/32$/, "") })));
        try {
          if (idle.length > 0 && random() < 0.4) {
            const eni = rig.ec2.model.networkInterface(pick(idle).id);
            if (eni?.attachment) {
              rig.log("warn", `campaign: detaching ${eni.networkInterfaceId} behind the agent's back`);
              rig.ec2.model.detachNetworkInterface({ attachmentId: eni.attachment.attachmentId });
              behindBack.enis.add(eni.networkInterfaceId);
            }
          } else if (free.length > 0) {
            const f = pick(free);
            rig.log("warn", `campaign: unassigning ${f.ip} from ${f.eni} behind the agent's back`);
            rig.ec2.model.unassignPrivateIpAddresses({ networkInterfaceId: f.eni, privateIpAddresses: [f.ip] });
            behindBack.addresses.add(f.ip);
          }
          stats.behindBack++;
        } catch {
          // EC2 refused (already detaching, address gone): nothing was changed.
        }
      } else {
        // The workload: ADD a pod that is not running, or DEL one that is.
        const name = pick(pods);
        const pod = running.get(name);
        if (pod) {
          running.delete(name);
          rig.host.veths.delete(rig.vethOf(NAMESPACE, name));
          stats.dels++;
          // The plugin's DEL removes the veth whether or not the agent answers (it works from
          // prevResult); the release is the agent's when it is up, else its restore prunes it.
          try {
            rig.agent?.release({ networkName: "aws-cni", containerID: pod.containerID, ifName: "eth0" });
          } catch {
            pendingDels.push({ pod });
          }
        } else if (!adding.has(name) && !pendingDels.some((d) => d.pod.name === name)) {
          const agent = rig.agent;
          stats.adds++;
          const p: RunningPod = { namespace: NAMESPACE, name, containerID: `c-${name}-${attempt++}` };
          if (!agent) {
            stats.addFailures++;
            continue;
          }
          adding.add(name);
          const add = agent
            .allocate({ networkName: "aws-cni", containerID: p.containerID, ifName: "eth0" }, { k8sPodNamespace: NAMESPACE, k8sPodName: name, k8sPodUID: `uid-${p.containerID}` })
            .then(
              (r) => {
                if (rig.agent !== agent) throw new Error("the agent that answered was killed");
                rig.log("info", `campaign: ${name} (${p.containerID}) runs with ${r.address}`);
                // The plugin wires the pod: its veth exists from here on.
                rig.host.veths.add(rig.vethOf(NAMESPACE, name));
                running.set(name, { ...p, address: r.address, eniId: r.eniId });
              },
              (err: unknown) => {
                throw err;
              },
            )
            .catch(() => {
              stats.addFailures++;
              // A failed ADD is followed by the runtime's DEL for the same container.
              pendingDels.push({ pod: p });
            });
          inFlight.add(add);
          void add.finally(() => {
            inFlight.delete(add);
            adding.delete(name);
          });
        }
      }
    }

    // Settle: no more faults, the agent up, every outstanding ADD answered and every DEL done.
    rig.ec2.faults.clear();
    rig.ec2.lostResponseProbability = 0;
    rig.ec2.timings.attachMs = 0;
    for (let tries = 0; !rig.agent && tries < 5; tries++) await drive(rig, rig.start()).catch(() => rig.scheduler.advance(10_000));
    // ADDs that a dead agent will never answer count as failed (the kubelet's timeout).
    await drive(rig, Promise.race([Promise.all([...inFlight]), rig.scheduler.sleep(120_000)]));
    flushDels();
    await rig.scheduler.advance(30 * 60_000);
    await drive(rig, rig.agent!.reconcile());
    await drive(rig, rig.agent!.pool.runPassNow());
    // The leaked-ENI sweep: at most an hour plus 5 minutes away.
    await rig.scheduler.advance(70 * 60_000);
    await drive(rig, rig.agent!.pool.runPassNow());
    stats.lostResponses = [...rig.ec2.lost.values()].reduce((a, b) => a + b, 0);
    stats.running = running.size;
    const violations = checkInvariants(rig, [...running.values()], prefixDelegation ? { warmPrefix: 1 } : { warmIp, minIp }, behindBack);
    return { seed, violations, stats };
  } catch (err) {
    return { seed, violations: [`the run failed: ${(err as Error).stack ?? (err as Error).message}`], stats };
  } finally {
    await rig.stop();
    rig.dispose();
  }
}
