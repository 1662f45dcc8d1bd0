// IMDS is eventually consistent with EC2: a change made through the EC2 API shows up in the
// instance's metadata some time later (field-facts §3.2: seconds, with long tails). The view keeps,
// per instance, the tree as EC2 had it at the last change and publishes each new tree after the
// profile's lag, in order, so a reader sees the past, never a mix of past and future.

import type { Ec2Api } from "../ec2/api.ts";
import type { Clock, NetworkInterface, WorldEvent } from "../ec2/types.ts";
import { buildMetadataTree, type InstanceDocument, type MetadataNode } from "./metadata-tree.ts";

export interface ImdsViewOptions {
  api: Ec2Api;
  account: InstanceDocument;
  clock: Clock;
  /** Read at each change, so a fault or profile switch takes effect at once. */
  lagMs: () => number;
}

export class ImdsView {
  private readonly options: ImdsViewOptions;
  private readonly published = new Map<string, MetadataNode>();
  // A sequence per instance so that a tree published late never overwrites a newer one.
  private readonly sequence = new Map<string, number>();
  // The sequence of the tree on show. A newer change does not cancel an older one still under
  // way (changes closer together than the lag would otherwise keep IMDS at its old state forever).
  private readonly shown = new Map<string, number>();

  constructor(options: ImdsViewOptions) {
    this.options = options;
  }

  tree(instanceId: string): MetadataNode | undefined {
    return this.published.get(instanceId);
  }

  /** Feed every EC2 world event here. */
  onEvent(event: WorldEvent): void {
    // A freshly booted instance finds its metadata ready; only later changes lag.
    const lag = event.kind === "instance-launched" ? 0 : this.options.lagMs();
    for (const instanceId of this.instancesOf(event)) this.refresh(instanceId, lag);
  }

  /** Rebuilds every instance's tree at once (used at start-up). */
  refreshAll(): void {
    for (const instance of this.options.api.instances()) this.refresh(instance.instanceId, 0);
  }

  private refresh(instanceId: string, lagMs: number): void {
    const tree = buildMetadataTree(this.options.api, instanceId, this.options.account);
    const seq = (this.sequence.get(instanceId) ?? 0) + 1;
    this.sequence.set(instanceId, seq);
    const publish = () => {
      if ((this.shown.get(instanceId) ?? 0) >= seq) return;
      this.shown.set(instanceId, seq);
      if (tree === undefined) this.published.delete(instanceId);
      else this.published.set(instanceId, tree);
    };
    if (lagMs <= 0) publish();
    else this.options.clock.after(lagMs, publish);
  }

  /** The instances whose metadata an event changes. */
  private instancesOf(event: WorldEvent): string[] {
    switch (event.kind) {
      case "instance-launched":
      case "instance-terminated":
        return [event.instance.instanceId];
      case "eni-attached":
      case "eni-detached":
        return [event.instanceId];
      case "eni-addresses-changed":
      case "eni-changed":
      case "eni-deleted":
        return event.eni.attachment ? [event.eni.attachment.instanceId] : [];
      case "vpc-cidr-associated":
      case "vpc-cidr-disassociated":
        // Every ENI shows its VPC's CIDR blocks.
        return this.instancesWithEnisWhere((eni) => eni.vpcId === event.vpc.vpcId);
      case "subnet-deleted":
        return []; // no ENI is in a subnet EC2 lets be deleted
      case "subnet-cidr-associated":
        return this.instancesWithEnisWhere((eni) => eni.subnetId === event.subnet.subnetId);
    }
  }

  private instancesWithEnisWhere(test: (eni: NetworkInterface) => boolean): string[] {
    const ids = new Set<string>();
    for (const eni of this.options.api.networkInterfaces()) {
      if (eni.attachment !== undefined && test(eni)) ids.add(eni.attachment.instanceId);
    }
    return [...ids];
  }
}
