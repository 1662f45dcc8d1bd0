// The node agent's core: node initialisation, the plugin's allocate/release, and the reconciler that
// keeps the datastore in step with EC2 when ENIs or addresses change behind the agent's back. It is given
// its cloud, host networking and clock (no SDK or kernel here), so it runs against vpcsim, fakes, or AWS.

import { customNetworkingOn, type AgentConfig } from "./config.ts";
import { DatastoreError, type AssignResult, type Datastore, type IPAMKey, type PodMetadata, type ReleaseResult } from "./datastore/datastore.ts";
import { addCidrOnce, NoAddressError, PoolManager, ShuttingDownError, type PoolCloud } from "./pool-manager.ts";
import type { PoolLimits } from "./pool/index.ts";
import { routeTableId } from "../datapath/route-table.ts";
import { initIpv6Node, type Ipv6Cloud, type Ipv6Node } from "./ipv6-node.ts";
import type { Scheduler, Timer } from "../time/scheduler.ts";
import type { InstanceIdentity } from "../aws/imds.ts";
import type { Log } from "../log/log.ts";

/** The instance and the network of its primary ENI: where new ENIs go, and what host networking needs. */
export interface NodeIdentity extends InstanceIdentity {
  subnetCidr: string;
  securityGroupIds: string[];
  vpcCidrs: string[];
}

/** An ENI as instance metadata or EC2 shows it. */
export interface EniView {
  id: string;
  mac: string;
  deviceNumber: number;
  networkCard: number;
  subnetId: string;
  subnetCidr: string;
  primaryIp: string;
  /** Secondary private addresses, without the ENI's primary. */
  secondaryIps: string[];
  /** IPv4 /28 prefixes. */
  prefixes: string[];
}

export interface Ec2EniView extends EniView {
  interfaceType: string; // "interface", "trunk", "efa", "branch", ...
  tags: Record<string, string>;
  /** The instance it is attached to (attached or attaching), if any. */
  attachedTo?: string;
}

export interface TypeLimits {
  enis: number;
  ipv4PerEni: number;
  trunking: boolean;
  maxPods: number;
}

/** The node's EC2 and IMDS: the pool's actions, what init and the reconciler read, and IPv6 nodes' /80. */
export interface AgentCloud extends PoolCloud, Ipv6Cloud {
  identity(): Promise<NodeIdentity>;
  imdsEnis(): Promise<EniView[]>;
  /** EC2's view of these ENIs; ids EC2 does not know are left out. */
  ec2Enis(ids: readonly string[]): Promise<Ec2EniView[]>;
  /** The ENIs EC2 shows attached (or attaching) to this instance, whatever IMDS shows yet. */
  ec2AttachedEnis(): Promise<Ec2EniView[]>;
  /**
   * With subnet discovery: whether pods may take addresses from ENIs in this subnet (not when it is
   * tagged kubernetes.io/role/cni=0 or for another cluster: the reference's IsExcludedForPodIPs).
   * Absent: every subnet is.
   */
  subnetExcludedForPods?(subnetId: string): Promise<boolean>;
  /** Tags an ENI with what is missing or different (the reference's TagENI). */
  tagEni(eniId: string, tags: Record<string, string>): Promise<void>;
  /** ENIs this node's agent created that are attached nowhere (created, then killed before the attach). */
  ec2UnattachedOwnEnis(): Promise<string[]>;
  /** Deletes an ENI that is attached nowhere (gone already is success). */
  deleteEni(eniId: string): Promise<void>;
}

export interface AgentHost {
  setupNode(identity: NodeIdentity, vpcCidrs: readonly string[]): Promise<void>;
  setupEni(eni: EniView): Promise<void>;
  teardownEni(eni: EniView): Promise<void>;
  /** Whether a host veth whose name ends with this hash exists (checkpoint pruning). */
  vethExists(name: string, suffix: string): Promise<boolean>;
}

export interface ReconcileReport {
  checkedEc2: boolean;
  adoptedEnis: string[];
  removedEnis: string[];
  /** ENIs the agent left alone (unmanaged) that are no longer on the instance. */
  removedUnmanagedEnis: string[];
  addedCidrs: string[];
  removedCidrs: string[];
  /** Addresses or ENIs EC2 no longer has that pods still hold; kept until their DEL. */
  keptForPods: string[];
}

export interface NodeAgentOptions {
  config: AgentConfig;
  cloud: AgentCloud;
  host: AgentHost;
  datastore: Datastore;
  limits: TypeLimits;
  /**
   * The kubelet's max pods (the Node's status.capacity.pods) once the API server has shown it; until
   * then, and without the API server, limits.maxPods (the instance type's), as aws-node does.
   */
  nodeMaxPods?: () => number | undefined;
  /** The clock and timers of the pool manager and the reconcile interval. */
  scheduler: Scheduler;
  log: Log;
  onError?: (fn: string, err: unknown) => void;
}

const NO_MANAGE_TAG = "node.k8s.amazonaws.com/no_manage";
const INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id";

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly pool: PoolManager;
  #identity: NodeIdentity | undefined;
  #vpcCidrs: string[] = [];
  #unmanaged = new Set<string>();
  #hasTrunk = false;
  #enis = new Map<string, EniView>();
  #reconcileTimer: Timer | undefined;
  #reconciling: Promise<ReconcileReport> | undefined;
  /** ENIs EC2 took off this instance while pods held their addresses: kept in the datastore, never touched in EC2. */
  #goneWithPods = new Set<string>();
  #stopping = false;
  /** Set on IPv6 nodes once initialised. */
  #ipv6: Ipv6Node | undefined;
  lastReconcile: (ReconcileReport & { at: number }) | undefined;

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    const pool = options.config.pool;
    // ENIs the pool creates are remembered with their host details, for the reconciler's teardown.
    const cloud: PoolCloud = {
      assign: (id, r) => options.cloud.assign(id, r),
      // The free CIDRs of an ENI that is no longer this instance's leave the datastore, but EC2 is not
      // asked: the ENI may be another node's by now, and those addresses with it.
      release: async (id, c, p) => (this.#goneWithPods.has(id) ? undefined : options.cloud.release(id, c, p)),
      growthPausedUntil: () => options.cloud.growthPausedUntil(),
      createEni: async (r) => {
        const created = await options.cloud.createEni(r);
        const view: EniView = {
          id: created.eniId,
          mac: created.mac,
          deviceNumber: created.deviceNumber,
          networkCard: 0,
          subnetId: created.subnetId,
          subnetCidr: created.subnetCidr,
          primaryIp: created.primaryIp,
          secondaryIps: [],
          prefixes: [],
        };
        try {
          await options.host.setupEni(view);
        } catch (err) {
          // An ENI the node cannot use is given back rather than left attached and idle.
          await options.cloud.freeEni(created.eniId).catch((e: Error) => options.log("error", `giving back ${created.eniId} after a failed host setup: ${e.message}`));
          throw err;
        }
        this.#enis.set(created.eniId, view);
        return created;
      },
      freeEni: async (id) => {
        const view = this.#enis.get(id);
        // Host teardown only once EC2 has taken the ENI: if freeing fails, the pool puts the ENI back
        // and serves its addresses again, which needs its route table and rule. (The reference, too,
        // deletes the ENI's rules after FreeENI.) An ENI already gone from this instance is not freed
        // in EC2 again: it may be another node's now.
        if (!this.#goneWithPods.has(id)) await options.cloud.freeEni(id);
        this.#goneWithPods.delete(id);
        this.#enis.delete(id);
        if (view) await options.host.teardownEni(view).catch((err: Error) => options.log("warn", `host teardown of ${id}: ${err.message}`));
      },
    };
    this.pool = new PoolManager({
      datastore: options.datastore,
      cloud,
      targets: pool,
      limits: () => this.poolLimits(),
      scheduler: options.scheduler,
      log: options.log,
      shrinkIntervalMs: pool.shrinkIntervalMs,
      growthWaitMs: pool.allocationWaitMs,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  get identity(): NodeIdentity | undefined {
    return this.#identity;
  }

  get vpcCidrs(): readonly string[] {
    return this.#vpcCidrs;
  }

  /** The VPC's CIDRs changed (the CIDR watcher has rebuilt the rules): the plugin's next ADDs get them. */
  setVpcCidrs(cidrs: readonly string[]): void {
    this.#vpcCidrs = [...cidrs];
  }

  /** IPv6 nodes: the /80 pods get addresses from, and the VPC's IPv6 CIDRs; undefined on IPv4 nodes. */
  get ipv6(): Ipv6Node | undefined {
    return this.#ipv6;
  }

  get #isIpv6(): boolean {
    return this.#o.config.ipFamily === "ipv6";
  }

  poolLimits(): PoolLimits {
    return {
      enis: this.#o.limits.enis,
      ipv4PerEni: this.#o.limits.ipv4PerEni,
      maxPods: this.#maxPods(),
      unmanagedEnis: this.#unmanaged.size,
      reserveTrunkSlot: this.#o.config.eni.podEni && this.#o.limits.trunking && !this.#hasTrunk,
    };
  }

  /**
   * Learns the node from IMDS, checks it against EC2, sets up host networking for every managed ENI and
   * fills the datastore. The checkpoint is restored by the caller afterwards (it needs the CIDRs).
   */
  async init(): Promise<void> {
    const { cloud, host, log, config } = this.#o;
    const identity = await cloud.identity();
    this.#identity = identity;
    this.#vpcCidrs = [...identity.vpcCidrs];
    if (this.#isIpv6) return this.#initIpv6(identity);
    const imds = await cloud.imdsEnis();
    // IMDS trails EC2: an ENI attached just before a restart (by the agent that was killed, with pods on
    // it in the checkpoint) may not show there yet. EC2's list of the instance's ENIs is the truth, or the
    // restore would drop those pods and the reconciler later hand their addresses out again.
    const attached = await cloud.ec2AttachedEnis();
    const ec2 = new Map((await cloud.ec2Enis([...new Set([...imds.map((e) => e.id), ...attached.map((e) => e.id)])])).map((e) => [e.id, e]));
    await host.setupNode(identity, this.#vpcCidrs);
    for (const seen of imds) {
      if (!ec2.has(seen.id)) log("warn", `ENI ${seen.id} is in instance metadata but not in EC2; skipped until EC2 shows it`);
    }
    const mine = [...ec2.values()].filter((e) => e.attachedTo === identity.instanceId).sort((a, b) => a.deviceNumber - b.deviceNumber);
    for (const eni of mine) {
      if (!imds.some((e) => e.id === eni.id)) log("info", `ENI ${eni.id} is attached in EC2 but not yet in instance metadata; adopted from EC2`);
      if (eni.subnetCidr === "") {
        log("warn", `ENI ${eni.id} is in a subnet whose CIDR the node has not learnt yet; skipped until instance metadata shows it`);
        continue;
      }
      await this.#adoptEni(eni, identity);
    }
    log("info", `node ${identity.instanceId} (${identity.instanceType}, ${identity.availabilityZone}) initialised`, {
      enis: this.#enis.size,
      unmanaged: [...this.#unmanaged],
      addresses: this.#o.datastore.stats().totalIPs,
      maxPods: this.#maxPods(),
    });
    if (!config.eni.disableNetworkResourceProvisioning) {
      for (const eni of ec2.values()) {
        if (this.#enis.has(eni.id) && eni.tags[INSTANCE_TAG] !== identity.instanceId) {
          await cloud.tagEni(eni.id, { [INSTANCE_TAG]: identity.instanceId }).catch((err: Error) => log("warn", `tagging ${eni.id} failed: ${err.message}`));
        }
      }
      await this.#deleteUnattachedOwnEnis();
    }
  }

  /**
   * An agent killed between CreateNetworkInterface and AttachNetworkInterface (or after a detach whose
   * delete failed) left an ENI with this node's tags attached nowhere: it holds subnet addresses and
   * counts against the account's ENI quota until the 5-minute leaked-ENI sweep, which may be an hour
   * away. They are deleted now (the pool creates what it needs, attached, in its first pass); one that
   * cannot be deleted is left to the sweep.
   */
  async #deleteUnattachedOwnEnis(): Promise<void> {
    const { cloud, log } = this.#o;
    let ids: string[];
    try {
      ids = await cloud.ec2UnattachedOwnEnis();
    } catch (err) {
      log("warn", `looking for this node's unattached ENIs failed (the leaked-ENI sweep takes them later): ${(err as Error).message}`);
      return;
    }
    for (const id of ids) {
      try {
        await cloud.deleteEni(id);
        log("info", `deleted ${id}: created by this node's agent and never attached (it stopped between create and attach)`);
      } catch (err) {
        log("warn", `deleting this node's unattached ENI ${id} failed (the leaked-ENI sweep takes it later): ${(err as Error).message}`);
      }
    }
  }

  /** IPv6 (reference §5.7): the primary ENI and its one /80; no other ENI is looked at or set up. */
  async #initIpv6(identity: NodeIdentity): Promise<void> {
    const { cloud, host, log, config, datastore } = this.#o;
    // The /80 first: a node EC2 will not give one (an IPv4-only subnet) stops with its host untouched.
    this.#ipv6 = await initIpv6Node({ cloud, datastore, identity, log });
    await host.setupNode(identity, this.#vpcCidrs);
    this.#enis.set(identity.primaryEniId, {
      id: identity.primaryEniId,
      mac: identity.primaryMac,
      deviceNumber: 0,
      networkCard: 0,
      subnetId: identity.subnetId,
      subnetCidr: identity.subnetCidr,
      primaryIp: identity.primaryIp,
      secondaryIps: [],
      prefixes: [],
    });
    if (!config.eni.disableNetworkResourceProvisioning) {
      // The reference tags every managed ENI at init, the primary one included.
      await cloud.tagEni(identity.primaryEniId, { [INSTANCE_TAG]: identity.instanceId }).catch((err: Error) => log("warn", `tagging ${identity.primaryEniId} failed: ${err.message}`));
    }
    log("info", `IPv6 node ${identity.instanceId} (${identity.instanceType}, ${identity.availabilityZone}) initialised: pods get addresses from ${this.#ipv6.prefix}, no warm pool`);
  }

  /**
   * Whether the agent manages this ENI's addresses (the reference's rules, §4.2). ENIs on network cards
   * other than 0 are left alone: they are the reference's only with ENABLE_MULTI_NIC (§3.11), which this
   * agent does not implement, and their device numbers and route tables are not card 0's.
   */
  #isManaged(eni: Ec2EniView, identity: NodeIdentity): boolean {
    if (eni.id === identity.primaryEniId) return true;
    if (eni.networkCard > 0) return false;
    if (eni.tags[NO_MANAGE_TAG] === "true") return false;
    if (eni.tags[INSTANCE_TAG] === identity.instanceId) return true;
    return this.#o.config.eni.manageUntaggedEni && eni.tags[INSTANCE_TAG] === undefined;
  }

  async #adoptEni(eni: Ec2EniView, identity: NodeIdentity): Promise<boolean> {
    const { datastore, host } = this.#o;
    if (eni.interfaceType === "trunk") this.#hasTrunk = true;
    if (!this.#isManaged(eni, identity)) {
      this.#unmanaged.add(eni.id);
      return false;
    }
    const isPrimary = eni.id === identity.primaryEniId;
    if (!isPrimary) await host.setupEni(eni);
    const subnetExcluded = (await this.#o.cloud.subnetExcludedForPods?.(eni.subnetId)) ?? false;
    if (subnetExcluded) this.#o.log("info", `ENI ${eni.id} is in subnet ${eni.subnetId}, which is not for pods (kubernetes.io/role/cni=0 or another cluster's): no pod addresses from it`);
    datastore.addEni({
      id: eni.id,
      deviceNumber: eni.deviceNumber,
      routeTableId: routeTableId(eni.deviceNumber, eni.networkCard),
      subnetId: eni.subnetId,
      isPrimary,
      isTrunk: eni.interfaceType === "trunk",
      isEFA: eni.interfaceType === "efa",
      // Custom networking takes pod addresses from ENIConfig subnets only, never from the primary ENI.
      isExcluded: (isPrimary && customNetworkingOn(this.#o.config.eni)) || subnetExcluded,
    });
    for (const ip of eni.secondaryIps) this.#addCidr(eni.id, `${ip}/32`);
    for (const p of eni.prefixes) this.#addCidr(eni.id, p);
    this.#enis.set(eni.id, eni);
    return true;
  }

  #addCidr(eniId: string, cidr: string): boolean {
    return addCidrOnce(this.#o.datastore, eniId, cidr, this.#o.log);
  }

  start(): void {
    // IPv6: no pool loop and no reconcile loop (reference §3.2).
    if (this.#isIpv6) return;
    this.pool.start();
    const every = this.#o.config.pool.reconcileIntervalMs;
    this.#reconcileTimer = this.#o.scheduler.every(
      every,
      () => {
        this.reconcile().catch((err: Error) => {
          this.#o.onError?.("nodeIPPoolReconcile", err);
          this.#o.log("error", `reconcile failed: ${err.message}`);
        });
      },
      { unref: true },
    );
  }

  /** SIGTERM: no EC2 mutation from here on; the datastore (and checkpoint) stay as they are. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#o.scheduler.cancel(this.#reconcileTimer);
    await this.pool.stop();
  }

  /** ADD: an address for the pod (the one it holds already when the ADD is retried). */
  allocate(key: IPAMKey, pod: Pick<PodMetadata, "k8sPodNamespace" | "k8sPodName" | "k8sPodUID">): Promise<AssignResult> {
    if (this.#isIpv6) return new Promise((resolve) => resolve(this.#allocateIpv6(key, { ...pod, interfacesCount: 1 })));
    return this.pool.allocate(key, { ...pod, interfacesCount: 1 }, this.#maxPods());
  }

  /** Straight from the /80: the kubelet's max pods is the only cap (reference §8), nothing waits. */
  #allocateIpv6(key: IPAMKey, pod: PodMetadata): AssignResult {
    if (this.#stopping) throw new ShuttingDownError("the agent is shutting down");
    try {
      return this.#o.datastore.assign(key, pod);
    } catch (err) {
      if (err instanceof DatastoreError && err.code === "no-available-address") throw new NoAddressError(`no address: ${err.message}`);
      throw err;
    }
  }

  #maxPods(): number {
    return this.#o.nodeMaxPods?.() ?? this.#o.limits.maxPods;
  }

  /** Whether EC2 shows a trunk ENI on the node (security groups for pods). */
  get hasTrunk(): boolean {
    return this.#hasTrunk;
  }

  /** DEL: releases the pod's address; an unknown pod is not an error (DEL must be idempotent). */
  release(key: IPAMKey): ReleaseResult | undefined {
    if (this.#isIpv6) return this.#o.datastore.release(key);
    return this.pool.release(key);
  }

  /**
   * Compares the datastore with instance metadata; where they differ, asks EC2 (IMDS lags, so it alone is
   * never trusted) and follows what EC2 says. A pod's address that EC2 no longer has is reported and kept
   * until the pod's DEL, never dropped silently.
   */
  async reconcile(): Promise<ReconcileReport> {
    // One at a time: a slow EC2 must not pile up reconciles behind each other on every interval.
    if (this.#reconciling) return this.#reconciling;
    this.#reconciling = this.#reconcile().finally(() => (this.#reconciling = undefined));
    return this.#reconciling;
  }

  async #reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { checkedEc2: false, adoptedEnis: [], removedEnis: [], removedUnmanagedEnis: [], addedCidrs: [], removedCidrs: [], keptForPods: [] };
    const identity = this.#identity;
    if (!identity || this.#stopping || this.#isIpv6) return report;
    await this.pool.exclusive(async () => {
      const { cloud, datastore, host, log } = this.#o;
      const imds = await cloud.imdsEnis();
      const snapshot = datastore.snapshot();
      const known = new Map(snapshot.enis.map((e) => [e.id, new Set(e.cidrs.map((c) => c.cidr))]));
      const differs =
        imds.some((e) => !this.#unmanaged.has(e.id) && (!known.has(e.id) || !sameSet(known.get(e.id)!, cidrsOf(e)))) ||
        [...known.keys(), ...this.#unmanaged].some((id) => !imds.some((e) => e.id === id));
      if (!differs) return;
      report.checkedEc2 = true;
      const ids = [...new Set([...imds.map((e) => e.id), ...known.keys(), ...this.#unmanaged])];
      const ec2 = new Map((await cloud.ec2Enis(ids)).map((e) => [e.id, e]));
      // An unmanaged ENI that EC2 shows gone from this instance frees its slot for the pool.
      for (const id of [...this.#unmanaged]) {
        if (ec2.get(id)?.attachedTo === identity.instanceId) continue;
        this.#unmanaged.delete(id);
        report.removedUnmanagedEnis.push(id);
        log("info", `unmanaged ENI ${id} is gone from this instance in EC2; its slot is the pool's again`);
      }

      for (const [id, cidrs] of known) {
        const truth = ec2.get(id);
        const eniSnap = snapshot.enis.find((e) => e.id === id)!;
        if (!truth || truth.attachedTo !== identity.instanceId) {
          // A pod may have been given one of its addresses since the snapshot (allocations do not wait
          // for the reconciler): the datastore's refusal is the authority, not the snapshot.
          const inUse = eniSnap.assigned > 0 || !tryRemove(() => datastore.removeEni(id), "eni-in-use");
          if (inUse) {
            datastore.setEniExcluded(id, true);
            this.#goneWithPods.add(id);
            report.keptForPods.push(id);
            log("error", `ENI ${id} was detached or deleted outside the agent while pods use its addresses; kept until their DEL, no new pods get addresses from it`);
            continue;
          }
          this.#goneWithPods.delete(id);
          const view = this.#enis.get(id);
          this.#enis.delete(id);
          if (view && !eniSnap.isPrimary) await host.teardownEni(view).catch((err: Error) => log("warn", `host teardown of ${id}: ${err.message}`));
          report.removedEnis.push(id);
          log("warn", `ENI ${id} is gone from this instance in EC2; removed from the pool`);
          continue;
        }
        // Attached here again: EC2 calls on it are this node's to make once more (it stays excluded).
        this.#goneWithPods.delete(id);
        const wanted = cidrsOf(truth);
        for (const c of wanted) if (!cidrs.has(c) && this.#addCidr(id, c)) report.addedCidrs.push(c);
        for (const c of cidrs) {
          const cs = eniSnap.cidrs.find((x) => x.cidr === c);
          if (wanted.has(c)) {
            // Back in EC2 (an unassignment undone, or IMDS/EC2 lag that made it look gone): it serves again.
            if (cs?.excluded) datastore.setCidrExcluded(id, c, false);
            continue;
          }
          if ((cs && cs.assigned > 0) || !tryRemove(() => datastore.removeCidr(id, c), "cidr-in-use")) {
            // Kept for its pods, but it serves nobody else: EC2 no longer routes it here and may hand it
            // to another ENI or node (for a /28, the pod's 15 neighbours would otherwise still be served).
            datastore.setCidrExcluded(id, c, true);
            report.keptForPods.push(c);
            log("error", `${c} was unassigned from ${id} outside the agent while a pod holds an address in it; kept for that pod until its DEL, no new pods get addresses from it`);
            continue;
          }
          report.removedCidrs.push(c);
        }
      }
      for (const seen of imds) {
        if (known.has(seen.id) || this.#unmanaged.has(seen.id)) continue;
        const truth = ec2.get(seen.id);
        if (!truth || truth.attachedTo !== identity.instanceId) continue;
        if (await this.#adoptEni(truth, identity)) {
          report.adoptedEnis.push(seen.id);
          log("info", `ENI ${seen.id} was attached outside the agent; adopted with ${truth.secondaryIps.length + truth.prefixes.length} CIDRs`);
        }
      }
      if (changed(report)) log("info", "reconciled with EC2", { ...report });
    });
    this.lastReconcile = { ...report, at: this.#o.scheduler.now() };
    if (changed(report)) this.pool.trigger();
    return report;
  }
}

function changed(r: ReconcileReport): boolean {
  return r.addedCidrs.length + r.removedCidrs.length + r.adoptedEnis.length + r.removedEnis.length + r.removedUnmanagedEnis.length > 0;
}

/** Runs a datastore removal; false when the datastore refused it with `code` (taken by a pod meanwhile). */
function tryRemove(remove: () => unknown, code: "eni-in-use" | "cidr-in-use"): boolean {
  try {
    remove();
    return true;
  } catch (err) {
    if (err instanceof DatastoreError && err.code === code) return false;
    throw err;
  }
}

function cidrsOf(e: EniView): Set<string> {
  return new Set([...e.secondaryIps.map((ip) => `${ip}/32`), ...e.prefixes]);
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
