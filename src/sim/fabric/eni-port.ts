// One ENI as the VPC router holds it: the veth it is plugged in by (eni-links.ts), the routes that
// deliver its addresses (eni-delivery.ts) and its entries in the source/destination check
// (source-dest-check.ts), changed together and in the order that never opens a gap: an address
// becomes a usable source no earlier than it is delivered, and stops being one no later.

import { CommandError, ipBatch } from "./exec.ts";
import { linkExists, plugLines, unplug } from "./eni-links.ts";
import { EniDelivery } from "./eni-delivery.ts";
import { EniSourceCheck } from "./source-dest-check.ts";
import type { VpcRouter } from "./vpc-router.ts";

export interface EniPlug {
  eniId: string;
  link: string; // router-side veth name (EniLinkNames)
  mac: string;
  primaryIp: string;
  subnetCidr: string; // canonical
  mtu: number;
  instanceId: string;
  instanceNetns: string;
  deviceIndex: number;
  destinations: ReadonlySet<string>;
  sourceDestCheck: boolean;
}

function isMissingDevice(error: unknown): boolean {
  return error instanceof CommandError && /Cannot find device|does not exist|No such device/.test(error.stderr);
}

export class EniPort {
  readonly eniId: string;
  readonly link: string;
  readonly primaryIp: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  readonly #routerNetns: string;
  readonly #delivery: EniDelivery;
  readonly #check: EniSourceCheck;

  private constructor(router: VpcRouter, plug: EniPlug) {
    this.eniId = plug.eniId;
    this.link = plug.link;
    this.primaryIp = plug.primaryIp;
    this.instanceId = plug.instanceId;
    this.deviceIndex = plug.deviceIndex;
    this.#routerNetns = router.netns;
    this.#delivery = new EniDelivery(router.netns, plug.link, plug.mac, plug.primaryIp);
    this.#check = new EniSourceCheck(router.nft, plug.link);
  }

  /**
   * Hot-plugs the ENI into its instance (as eth<deviceIndex>) and delivers its destinations: the
   * link and its routes in one batch, then its sources. On failure nothing of it is left.
   */
  static async plug(router: VpcRouter, plug: EniPlug): Promise<EniPort> {
    const port = new EniPort(router, plug);
    try {
      await ipBatch(router.netns, [...plugLines(plug), ...port.#delivery.plugLines(plug.destinations)]);
      port.#delivery.plugged(plug.destinations);
      await port.#check.plug(plug.destinations, plug.sourceDestCheck);
    } catch (error) {
      await unplug(router.netns, plug.link).catch(() => {});
      throw error;
    }
    return port;
  }

  /**
   * Delivers exactly `desired` and accepts them as sources. False if the link is gone: the
   * instance's namespace vanished under us, taking the veth pair with it.
   */
  async deliver(desired: ReadonlySet<string>): Promise<boolean> {
    try {
      // Sources first: an address stops being usable before it stops being delivered (for
      // additions the order does not matter).
      await this.#check.apply(desired);
      await this.#delivery.apply(desired);
      return true;
    } catch (error) {
      if (isMissingDevice(error) && !(await linkExists(this.#routerNetns, this.link))) return false;
      throw error;
    }
  }

  setSourceDestCheck(enabled: boolean): Promise<void> {
    return this.#check.setEnabled(enabled);
  }

  /** Stops accepting its sources first, then removes the link (which takes its routes along). */
  async unplug(): Promise<void> {
    await this.#check.unplug();
    await unplug(this.#routerNetns, this.link);
  }
}
