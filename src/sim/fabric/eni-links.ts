// ENI hot-plug: each attached ENI is a veth pair between the VPC router and the instance, created
// inside the router namespace with its peer moved straight into the instance's as eth<device index>
// with the ENI's MAC (never through the root namespace). The router side is named after the ENI and
// is the subnet router as the instance sees it.

import { createHash } from "node:crypto";
import { run } from "./exec.ts";
import { deleteLinks } from "./cleanup.ts";
import { subnetRouterLinkLocal, subnetRouterMac } from "./addresses.ts";

/** Prefix of every router-side ENI veth; the source check applies to exactly these links. */
export const ENI_LINK_PREFIX = "v";

const COMMAND_TIMEOUT_MS = 30_000;

/** The router-side link names in use, so that two ENIs never share one. */
export class EniLinkNames {
  readonly #owners = new Map<string, string>(); // router-side link → eniId

  /**
   * The router-side link of an ENI: "v" + the id's last 14 hex digits (15 characters, the kernel's
   * limit), so an operator can tell which ENI a link serves. Two ENIs whose ids end alike fall back
   * to a hash of the id.
   */
  nameFor(eniId: string): string {
    const tail = eniId.replace(/^eni-/, "").toLowerCase().replace(/[^a-z0-9]/g, "").slice(-14);
    let name = `${ENI_LINK_PREFIX}${tail}`;
    const owner = this.#owners.get(name);
    if (tail.length < 4 || (owner !== undefined && owner !== eniId)) {
      name = `${ENI_LINK_PREFIX}${createHash("sha256").update(eniId).digest("hex").slice(0, 14)}`;
      const hashedOwner = this.#owners.get(name);
      if (hashedOwner !== undefined && hashedOwner !== eniId) throw new Error(`link name collision between ${eniId} and ${hashedOwner}`);
    }
    return name;
  }

  claim(link: string, eniId: string): void {
    this.#owners.set(link, eniId);
  }

  release(link: string): void {
    this.#owners.delete(link);
  }

  clear(): void {
    this.#owners.clear();
  }
}

/**
 * The `ip -batch` lines (run in the router) that plug an ENI into an instance, router side up. The
 * router side carries the subnet router's MAC and, as its only IPv6 address, the link-local of that
 * MAC: the address instances use as their IPv6 default gateway, answered by the kernel's own
 * neighbour discovery.
 */
export function plugLines(plug: { link: string; mtu: number; instanceNetns: string; deviceIndex: number; mac: string; subnetCidr: string }): string[] {
  return [
    `link add ${plug.link} address ${subnetRouterMac(plug.subnetCidr)} mtu ${plug.mtu} type veth peer name eth${plug.deviceIndex} netns ${plug.instanceNetns} address ${plug.mac} mtu ${plug.mtu}`,
    // Answer proxied ARP at once; the kernel's default holds replies back up to 0.8 s.
    `ntable change name arp_cache dev ${plug.link} proxy_delay 0`,
    `addr add ${subnetRouterLinkLocal(plug.subnetCidr)}/64 dev ${plug.link} nodad`,
    `link set ${plug.link} up`,
  ];
}

/** Unplugs an ENI: the veth pair goes, and with it every route through it. */
export async function unplug(routerNetns: string, link: string): Promise<void> {
  await deleteLinks(routerNetns, [link]);
}

export async function linkExists(netns: string, link: string): Promise<boolean> {
  try {
    await run("ip", ["-n", netns, "link", "show", "dev", link], { timeoutMs: COMMAND_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}
