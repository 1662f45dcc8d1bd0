// One node in process on virtual time: vpcsim's EC2 (src/sim/ec2/in-process.ts: the model, its Query
// handler, throttling and faults, reached by the real SDK), instance metadata read off the model, the
// agent's real NodeAgent with makeAwsCloud, datastore and checkpoint file, the leaked-ENI schedule,
// and a host stand-in whose pod veths are the pods the workload has running. `crash()` is a kill -9:
// the incarnation's timers stop, its EC2 requests already sent still reach EC2 but their answers go
// nowhere, and it never writes the checkpoint again; `start()` brings up the next one from the file.

import { mkdtempSync, rmSync } from "node:fs";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type AgentConfig } from "../../src/agent/config.ts";
import { CheckpointFile } from "../../src/agent/datastore/checkpoint.ts";
import { Datastore } from "../../src/agent/datastore/datastore.ts";
import { restoreCheckpoint } from "../../src/agent/datastore/restore.ts";
import { makeAwsCloud } from "../../src/agent/aws-cloud.ts";
import { NodeAgent, type AgentHost, type EniView } from "../../src/agent/node-agent.ts";
import { scheduleLeakedEniCleanup, type Schedules } from "../../src/agent/schedules.ts";
import { ec2Context, type Ec2 } from "../../src/aws/ec2-client.ts";
import { cleanUpLeakedEnis } from "../../src/aws/eni-api.ts";
import type { Imds, ImdsEni, InstanceIdentity } from "../../src/aws/imds.ts";
import { loadInstanceLimits } from "../../src/aws/instance-limits.ts";
import { RequestBudget } from "../../src/aws/request-budget.ts";
import { podHostVethName } from "../../src/datapath/veth-name.ts";
import { InProcessEc2 } from "../../src/sim/ec2/in-process.ts";
import { VirtualScheduler } from "../../src/time/virtual-scheduler.ts";
import type { Log } from "../../src/log/log.ts";

export const INSTANCE_TYPE = "m5.large";

/** Instance metadata as vpcsim's IMDS shows it: the attached ENIs of the instance, from the model. */
function modelImds(ec2: InProcessEc2, instanceId: string): Imds {
  const view = (): { identity: InstanceIdentity; enis: ImdsEni[] } => {
    const instance = ec2.model.instance(instanceId);
    if (!instance) throw new Error(`IMDS: no instance ${instanceId}`);
    const primary = ec2.model.networkInterface(instance.primaryNetworkInterfaceId)!;
    const vpc = ec2.model.vpc(primary.vpcId)!;
    const enis = ec2.model
      .networkInterfaces()
      .filter((e) => e.attachment?.instanceId === instanceId && e.attachment.status === "attached")
      .map((e): ImdsEni => {
        const subnet = ec2.model.subnet(e.subnetId)!;
        return {
          mac: e.macAddress,
          eniId: e.networkInterfaceId,
          deviceNumber: e.networkInterfaceId === primary.networkInterfaceId ? 0 : e.attachment!.deviceIndex,
          networkCard: e.attachment!.networkCardIndex,
          primary: e.networkInterfaceId === primary.networkInterfaceId,
          subnetId: e.subnetId,
          subnetCidr: subnet.cidrBlock,
          vpcId: e.vpcId,
          ipv4s: e.privateIps.map((p) => p.address),
          ipv4Prefixes: [...e.ipv4Prefixes],
          securityGroupIds: [...e.groupIds],
          vpcIpv4Cidrs: [vpc.cidrBlock],
        };
      });
    return {
      identity: {
        instanceId,
        instanceType: instance.instanceType,
        availabilityZone: primary.availabilityZone,
        region: ec2.region,
        primaryMac: primary.macAddress,
        primaryIp: primary.privateIps[0]!.address,
        primaryEniId: primary.networkInterfaceId,
        subnetId: primary.subnetId,
        vpcId: primary.vpcId,
        accountId: undefined,
      },
      enis,
    };
  };
  return {
    identity: async () => view().identity,
    region: async () => ec2.region,
    eni: async (mac: string) => {
      const found = view().enis.find((e) => e.mac === mac);
      if (!found) throw new Error(`IMDS: no ENI with MAC ${mac}`);
      return found;
    },
    enis: async () => view().enis,
  } as unknown as Imds;
}

/** Host networking stand-in: ENI setups recorded, pod veths are the running pods'. */
class RigHost implements AgentHost {
  readonly veths = new Set<string>();
  readonly enis = new Set<string>();
  async setupNode() {}
  async setupEni(e: EniView) {
    this.enis.add(e.id);
  }
  async teardownEni(e: EniView) {
    this.enis.delete(e.id);
  }
  async vethExists(name: string) {
    return this.veths.has(name);
  }
}

interface Incarnation {
  agent: NodeAgent;
  datastore: Datastore;
  sweep: Schedules | undefined;
  ec2: Ec2;
  dead: boolean;
}

export interface NodeRigOptions {
  seed: number;
  random: () => number;
  env?: Record<string, string>;
  /** EC2 token buckets; default on. */
  throttle?: boolean;
  /** Runs the leaked-ENI sweep with each agent (default true; false for a test that wires its own). */
  sweep?: boolean;
  log?: Log;
}

export class NodeRig {
  readonly scheduler = new VirtualScheduler({ start: Date.UTC(2026, 0, 1), settleTurns: 8 });
  readonly ec2: InProcessEc2;
  readonly instanceId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly config: AgentConfig;
  readonly host = new RigHost();
  readonly stateDir = mkdtempSync(join(tmpdir(), "vpc-cni-campaign-"));
  readonly checkpoint: CheckpointFile;
  readonly log: Log;
  #current: Incarnation | undefined;
  readonly #sweep: boolean;
  readonly #random: () => number;
  /** One SDK client for every incarnation, its configuration resolved before the run (see warm()). */
  readonly #client: ReturnType<InProcessEc2["clientFor"]>;
  restarts = 0;

  constructor(o: NodeRigOptions) {
    this.ec2 = new InProcessEc2({ scheduler: this.scheduler, random: o.random, throttle: o.throttle ?? true });
    const vpc = this.ec2.model.createVpc({ cidrBlock: "10.0.0.0/16" });
    const subnet = this.ec2.model.createSubnet({ vpcId: vpc.vpcId, cidrBlock: "10.0.0.0/20", availabilityZone: "us-east-1a" });
    const instance = this.ec2.model.runInstance({ instanceType: INSTANCE_TYPE, subnetId: subnet.subnetId });
    this.vpcId = vpc.vpcId;
    this.subnetId = subnet.subnetId;
    this.instanceId = instance.instanceId;
    const loaded = loadConfig({ AWS_REGION: "us-east-1", VPC_CNI_STATE_DIR: this.stateDir, ...o.env });
    if (!loaded.ok) throw new Error(`campaign configuration refused: ${JSON.stringify(loaded.errors)}`);
    this.config = loaded.config;
    this.checkpoint = new CheckpointFile(join(this.stateDir, "ipam.json"));
    this.#random = o.random;
    this.#sweep = o.sweep ?? true;
    this.#client = this.ec2.clientFor(this.instanceId);
    this.log =
      o.log ??
      (process.env["CAMPAIGN_DEBUG"]
        ? (level, msg, fields) => process.stderr.write(`${new Date(this.scheduler.now()).toISOString()} ${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`)
        : () => undefined);
  }

  get agent(): NodeAgent | undefined {
    return this.#current?.dead === false ? this.#current.agent : undefined;
  }

  get datastore(): Datastore | undefined {
    return this.#current?.dead === false ? this.#current.datastore : undefined;
  }

  /** The pod's host veth name (what the restore looks for). */
  vethOf(namespace: string, name: string): string {
    return podHostVethName(this.config.hostNetwork.vethPrefix, namespace, name);
  }

  /** An EC2 context for another caller in the account (another node's agent), on the rig's clock. */
  ec2Of(instanceId: string): Ec2 {
    return ec2Context(this.ec2.clientFor(instanceId), new RequestBudget({ clock: this.scheduler, random: this.#random }), { clock: this.scheduler, random: this.#jitter });
  }

  /** The current agent's EC2 context (what main hands its schedules). */
  get agentEc2(): Ec2 | undefined {
    return this.#current?.dead === false ? this.#current.ec2 : undefined;
  }

  /** The EC2 context of one incarnation: once it is dead, answers go nowhere. */
  #ec2For(inc: { dead: boolean }): Ec2 {
    const client = this.#client;
    const send = client.send.bind(client) as (c: unknown) => Promise<unknown>;
    const gated = {
      send: (command: unknown) => {
        if (inc.dead) return new Promise<never>(() => undefined);
        return send(command).then(
          (out) => (inc.dead ? new Promise<never>(() => undefined) : out),
          (err: unknown) => (inc.dead ? new Promise<never>(() => undefined) : Promise.reject(err)),
        );
      },
    };
    const budget = new RequestBudget({ growthPauseMs: this.config.pool.growthPauseMs, clock: this.scheduler, random: this.#random });
    return ec2Context(gated as never, budget, { clock: this.scheduler, random: this.#jitter });
  }

  readonly #jitter = (): number => 0.5;

  /**
   * The SDK resolves parts of its configuration (shared config files, defaults mode) with real I/O on
   * a client's first request; done once here, on real time, so that the run itself depends on virtual
   * time and the seed alone.
   */
  async warm(): Promise<void> {
    await this.#client.send(new DescribeInstancesCommand({ InstanceIds: [this.instanceId] }));
  }

  /** Starts an agent: the datastore on the checkpoint, node init, restore, the pool and the sweep. */
  async start(): Promise<void> {
    if (this.agent) throw new Error("an agent is running");
    const inc = { dead: false } as Incarnation;
    const checkpoint = this.checkpoint;
    const datastore = new Datastore({
      now: this.scheduler.now,
      cooldownMs: this.config.pool.ipCooldownMs,
      prefixDelegation: this.config.pool.prefixDelegation,
      persist: (d) => {
        if (inc.dead) throw new Error("killed");
        checkpoint.write(d);
      },
    });
    const ec2 = this.#ec2For(inc);
    const limits = loadInstanceLimits().get(INSTANCE_TYPE)!;
    const agent = new NodeAgent({
      config: this.config,
      cloud: makeAwsCloud({ ec2, imds: modelImds(this.ec2, this.instanceId), config: this.config, log: this.log }),
      host: this.host,
      datastore,
      limits: { enis: limits.enis, ipv4PerEni: limits.ipv4PerEni, trunking: limits.trunking, maxPods: 29 },
      scheduler: this.scheduler,
      log: this.log,
    });
    inc.agent = agent;
    inc.datastore = datastore;
    inc.ec2 = ec2;
    this.#current = inc;
    try {
      await this.#bringUp(inc, checkpoint);
    } catch (err) {
      // run() exits when the node's initialisation fails; the kubelet starts it again later.
      this.crash();
      throw err;
    }
  }

  async #bringUp(inc: Incarnation, checkpoint: CheckpointFile): Promise<void> {
    const { agent, datastore, ec2 } = inc;
    await agent.init();
    const restored = await restoreCheckpoint(datastore, checkpoint, { hostLinkExists: (name) => this.host.veths.has(name), vethPrefix: this.config.hostNetwork.vethPrefix });
    this.log("info", "checkpoint restored", {
      adopted: restored.adopted.length,
      pruned: restored.pruned.map((p) => `${p.address} (${p.entry.containerID})`),
      dropped: restored.dropped.map((d) => `${d.address} (${d.entry.containerID}): ${d.reason}`),
    });
    if (inc.dead) return;
    agent.start();
    if (this.#sweep && !this.config.eni.disableLeakedEniCleanup) {
      inc.sweep = scheduleLeakedEniCleanup({ scheduler: this.scheduler, log: this.log, jitter: (max) => Math.floor(this.#random() * max), cleanUp: () => cleanUpLeakedEnis(ec2, { vpcId: this.vpcId }) });
    }
  }

  /** kill -9. */
  crash(): void {
    const inc = this.#current;
    if (!inc || inc.dead) return;
    inc.dead = true;
    inc.sweep?.stop();
    // Cancels its timers (synchronously); what it awaits never comes back.
    void inc.agent.stop();
    this.restarts++;
  }

  /** Stops the agent as SIGTERM does (the end of a run). */
  async stop(): Promise<void> {
    const inc = this.#current;
    if (!inc || inc.dead) return;
    inc.sweep?.stop();
    inc.dead = true;
    void inc.agent.stop();
  }

  dispose(): void {
    this.crash();
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}
