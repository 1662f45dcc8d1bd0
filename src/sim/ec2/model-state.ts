// The EC2 model's state: every resource's record in creation order, the world's settings, and the
// lookups that fail with EC2's error codes. Each resource's rules live in a file of their own
// (vpcs.ts, cidr-blocks.ts, security-groups.ts, instances.ts, network-interfaces.ts,
// private-ip-addresses.ts, ipv6-addresses.ts, tagging.ts) as functions over this state; model.ts is the one face they show.
// Nothing outside src/sim/ec2 imports this file: callers reach the state only through Ec2Model,
// which hands out copies.

import {
  Ec2Error,
  type AttachTimings,
  type Clock,
  type Instance,
  type InstanceTypeInfo,
  type NetworkInterface,
  type SecurityGroup,
  type Subnet,
  type Vpc,
  type WorldEvent,
} from "./types.ts";
import { malformed, notFound } from "./errors.ts";
import { IdFactory, isWellFormedId, randomHex, type IdPrefix } from "./ids.ts";
import type { Cidr4 } from "../ipv4.ts";
import type { Cidr6 } from "../ipv6.ts";
import type { SubnetPool } from "./subnet-pool.ts";

export interface Ec2ModelOptions {
  clock: Clock;
  /** Read at each attach/detach; fault injection may change it while the model runs. */
  timings: AttachTimings;
  instanceTypes: Map<string, InstanceTypeInfo>;
  accountId: string;
  region: string;
  onEvent?: (e: WorldEvent) => void;
  /** Source of randomness for ids, MACs and address choice; seed it for a reproducible world. */
  random?: () => number;
}

export interface VpcRecord {
  seq: number;
  vpc: Vpc;
  cidrs: Cidr4[]; // the associated IPv4 CIDRs: subnets must lie in one
  cidrs6: Cidr6[]; // the associated IPv6 /56s
  defaultGroupId: string;
}

export interface SubnetRecord {
  seq: number;
  subnet: Subnet;
  pool: SubnetPool;
}

export interface GroupRecord {
  seq: number;
  group: SecurityGroup;
}

export interface InstanceRecord {
  seq: number;
  instance: Instance;
}

export interface EniRecord {
  seq: number;
  eni: NetworkInterface;
}

export class ModelState {
  readonly clock: Clock;
  readonly timings: AttachTimings;
  readonly instanceTypes: Map<string, InstanceTypeInfo>;
  readonly accountId: string;
  readonly region: string;
  readonly random: () => number;
  readonly ids: IdFactory;
  readonly defaultImageId: string;
  readonly #onEvent: (e: WorldEvent) => void;

  // Maps keep insertion order, which is creation order: Describe* pages rely on it.
  readonly vpcs = new Map<string, VpcRecord>();
  readonly subnets = new Map<string, SubnetRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  readonly enis = new Map<string, EniRecord>();
  readonly attachments = new Map<string, string>(); // attachment id -> ENI id
  readonly publicIps = new Set<number>();
  #seq = 0;

  constructor(options: Ec2ModelOptions) {
    this.clock = options.clock;
    this.timings = options.timings;
    this.instanceTypes = options.instanceTypes;
    this.accountId = options.accountId;
    this.region = options.region;
    this.#onEvent = options.onEvent ?? (() => {});
    this.random = options.random ?? Math.random;
    this.ids = new IdFactory(this.random);
    this.defaultImageId = `ami-${randomHex(this.random, 17)}`;
  }

  nextSeq(): number {
    return this.#seq++;
  }

  emit(event: WorldEvent): void {
    this.#onEvent(event);
  }

  /** Looks a record up by id: malformed ids and unknown ids fail with the kind's own codes. */
  lookup<R>(kind: IdPrefix, map: Map<string, R>, id: string): R {
    if (!isWellFormedId(kind, id)) throw malformed(kind, id);
    const record = map.get(id);
    if (!record) throw notFound(kind, id);
    return record;
  }

  vpcRecord(id: string): VpcRecord {
    return this.lookup("vpc", this.vpcs, id);
  }

  subnetRecord(id: string): SubnetRecord {
    return this.lookup("subnet", this.subnets, id);
  }

  instanceRecord(id: string): InstanceRecord {
    return this.lookup("i", this.instances, id);
  }

  eniRecord(id: string): EniRecord {
    return this.lookup("eni", this.enis, id);
  }

  eniByAttachment(attachmentId: string): NetworkInterface {
    if (!isWellFormedId("eni-attach", attachmentId)) throw malformed("eni-attach", attachmentId);
    const eniId = this.attachments.get(attachmentId);
    const record = eniId === undefined ? undefined : this.enis.get(eniId);
    if (!record) throw notFound("eni-attach", attachmentId);
    return record.eni;
  }

  typeOf(instance: Instance): InstanceTypeInfo {
    const type = this.instanceTypes.get(instance.instanceType);
    if (!type) throw new Ec2Error("InternalError", `Unknown instance type ${instance.instanceType}`, 500);
    return type;
  }

  /** The instance type limiting an ENI's addresses, if it is attached (in any attachment state). */
  attachedType(eni: NetworkInterface): InstanceTypeInfo | undefined {
    const instanceId = eni.attachment?.instanceId;
    const record = instanceId === undefined ? undefined : this.instances.get(instanceId);
    return record && this.typeOf(record.instance);
  }

  enisOfInstance(instanceId: string): NetworkInterface[] {
    return [...this.enis.values()].map((r) => r.eni).filter((eni) => eni.attachment?.instanceId === instanceId);
  }
}
