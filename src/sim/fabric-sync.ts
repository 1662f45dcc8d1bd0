// Keeps the kernel fabric in step with EC2: each world event becomes fabric work, run in order so
// that, for example, an ENI's routes are never installed before its veth exists. EC2 calls return at
// once, the fabric follows a few milliseconds later, like EC2's own asynchronous data plane.
//
// Work on an ENI or the VPC that fails (a busy netlink, a veth not up yet) is retried with backoff
// (100 ms doubling to 5 s, 10 attempts) from EC2's state at the retry, not the event's: otherwise the
// kernel stayed wrong until the ENI's next change, which may never come. A retry whose reason is gone
// (the ENI detached, deleted or attached again meanwhile) is dropped. An instance's launch is not
// retried here: the daemon's launch sees the failure and terminates the instance.

import type { Ec2Api } from "./ec2/api.ts";
import type { NetworkInterface, WorldEvent } from "./ec2/types.ts";
import type { Fabric } from "./fabric/fabric.ts";

export interface FabricSyncOptions {
  api: Ec2Api;
  fabric: Fabric;
  log: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;
  /** How retries wait; real unref'd timers by default. */
  after?: (ms: number, run: () => void) => void;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
const RETRY_ATTEMPTS = 10;

/** The backoff before retry number `attempt` (1-based). */
export function fabricRetryDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (attempt - 1));
}

const defaultAfter = (ms: number, run: () => void) => void setTimeout(run, ms).unref();

export class FabricSync {
  private readonly options: FabricSyncOptions;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private failures: string[] = [];
  private retrying = 0;
  /** instanceId → the private address its public one is mapped to (EC2's terminate event no longer carries either). */
  private readonly publicMapped = new Map<string, string>();

  constructor(options: FabricSyncOptions) {
    this.options = options;
  }

  /** Resolves once everything queued so far is applied to the kernel (or failed; retries wait on their timer). */
  async settled(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  /** Failed work waiting for its retry. */
  get retriesPending(): number {
    return this.retrying;
  }

  /** Fabric errors since the last call (they are also logged). */
  takeFailures(): string[] {
    const f = this.failures;
    this.failures = [];
    return f;
  }

  onEvent(event: WorldEvent): void {
    this.enqueue(event, 0);
  }

  private enqueue(event: WorldEvent, attempt: number): void {
    if (attempt > 0 && !this.stillWanted(event)) return;
    const work = this.workFor(event);
    if (!work) return;
    this.pending++;
    this.tail = this.tail
      .then(work)
      .then(
        () => {
          if (attempt > 0) this.options.log("info", `fabric: ${event.kind}: applied on retry ${attempt}`);
        },
        (err: Error) => {
          const retry = attempt + 1;
          const retried = retriable(event) && retry <= RETRY_ATTEMPTS;
          const message = `fabric: ${event.kind}: ${err.message}${retried ? ` (retry ${retry} in ${fabricRetryDelayMs(retry)} ms)` : attempt > 0 ? " (giving up)" : ""}`;
          this.failures.push(message);
          this.options.log("error", message);
          if (!retried) return;
          this.retrying++;
          (this.options.after ?? defaultAfter)(fabricRetryDelayMs(retry), () => {
            this.retrying--;
            this.enqueue(event, retry);
          });
        },
      )
      .finally(() => {
        this.pending--;
      });
  }

  /** Whether a failed event's work still has a reason to be done, by EC2's state now. */
  private stillWanted(event: WorldEvent): boolean {
    const { api } = this.options;
    switch (event.kind) {
      case "eni-attached": {
        const now = api.networkInterface(event.eni.networkInterfaceId);
        return now?.attachment?.instanceId === event.instanceId && now.attachment.status === "attached";
      }
      case "eni-detached": {
        const now = api.networkInterface(event.eni.networkInterfaceId);
        return now?.attachment === undefined || now.attachment.status === "detached";
      }
      case "eni-addresses-changed":
      case "eni-changed":
        return api.networkInterface(event.eni.networkInterfaceId) !== undefined;
      default:
        return true;
    }
  }

  private workFor(event: WorldEvent): (() => Promise<void>) | undefined {
    const { fabric, api } = this.options;
    switch (event.kind) {
      case "instance-launched": {
        const instance = event.instance;
        const eni = api.networkInterface(instance.primaryNetworkInterfaceId);
        if (!eni) return undefined;
        if (instance.publicIpAddress) this.publicMapped.set(instance.instanceId, eni.privateIps[0]!.address);
        return async () => {
          await fabric.addInstance({ instanceId: instance.instanceId, primaryEni: this.eniSpec(eni) });
          await fabric.setEniAddresses(addressesOf(eni));
          if (instance.publicIpAddress) {
            await fabric.setPublicAddress({ privateIp: eni.privateIps[0]!.address, publicIp: instance.publicIpAddress });
          }
        };
      }
      case "instance-terminated": {
        const instance = event.instance;
        // The event's instance has lost its public address already, and its primary ENI may be
        // deleted: the mapping to remove is the one made at launch.
        const privateIp = this.publicMapped.get(instance.instanceId);
        this.publicMapped.delete(instance.instanceId);
        return async () => {
          if (privateIp !== undefined) await fabric.setPublicAddress({ privateIp, publicIp: undefined });
          await fabric.removeInstance({ instanceId: instance.instanceId });
        };
      }
      case "eni-attached": {
        // The primary ENI comes up with its instance.
        if (event.deviceIndex === 0) return undefined;
        const eni = event.eni;
        return async () => {
          await fabric.attachEni({ instanceId: event.instanceId, deviceIndex: event.deviceIndex, ...this.eniSpec(eni) });
          // Addresses and the check may have changed while the attachment was in progress.
          const now = api.networkInterface(eni.networkInterfaceId) ?? eni;
          await fabric.setEniAddresses(addressesOf(now));
          if (!now.sourceDestCheck) await fabric.setSourceDestCheck({ eniId: now.networkInterfaceId, enabled: false });
        };
      }
      case "eni-detached":
        if (event.deviceIndex === 0) return undefined;
        return () => fabric.detachEni({ eniId: event.eni.networkInterfaceId });
      // Not gated on the attachment state: a detaching ENI is still plugged in until its detach
      // completes, and what it loses meanwhile must stop being delivered now. The fabric ignores
      // ENIs it has no veth for (attaching ones get their addresses when the attach completes).
      // EC2's state when the work runs (a retry must not put back what a later change took away).
      case "eni-addresses-changed": {
        const eni = event.eni;
        return () => fabric.setEniAddresses(addressesOf(api.networkInterface(eni.networkInterfaceId) ?? eni));
      }
      case "eni-changed": {
        const eni = event.eni;
        return () => {
          const now = api.networkInterface(eni.networkInterfaceId) ?? eni;
          return fabric.setSourceDestCheck({ eniId: now.networkInterfaceId, enabled: now.sourceDestCheck });
        };
      }
      case "eni-deleted":
        return undefined;
      case "vpc-cidr-associated":
        return () => fabric.addVpcCidr(event.cidr);
      case "vpc-cidr-disassociated":
        return () => fabric.removeVpcCidr(event.cidr);
      // A subnet's router address on the router's lo is harmless once no ENI is in it.
      case "subnet-deleted":
        return undefined;
      // A subnet's /64 needs nothing in the router: IPv6 is delivered per address and prefix.
      case "subnet-cidr-associated":
        return undefined;
    }
  }

  private eniSpec(eni: NetworkInterface) {
    const subnet = this.options.api.subnet(eni.subnetId);
    if (!subnet) throw new Error(`ENI ${eni.networkInterfaceId} is in unknown subnet ${eni.subnetId}`);
    return {
      eniId: eni.networkInterfaceId,
      mac: eni.macAddress,
      primaryIp: eni.privateIps[0]!.address,
      subnetCidr: subnet.cidrBlock,
      // A primary ENI's IPv6 addresses are on eth0 from boot, as an AMI's DHCPv6 client leaves them.
      ipv6Addresses: [...eni.ipv6Addresses],
    };
  }
}

/** ENI and VPC work is retried; an instance's launch and termination are the daemon's to handle. */
function retriable(event: WorldEvent): boolean {
  return event.kind !== "instance-launched" && event.kind !== "instance-terminated";
}

function addressesOf(eni: NetworkInterface) {
  return {
    eniId: eni.networkInterfaceId,
    privateIps: eni.privateIps.map((p) => p.address),
    ipv4Prefixes: [...eni.ipv4Prefixes],
    ipv6Addresses: [...eni.ipv6Addresses],
    ipv6Prefixes: [...eni.ipv6Prefixes],
  };
}
