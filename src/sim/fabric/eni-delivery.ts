// The VPC router's delivery by assignment: every private address and prefix EC2 assigned to an ENI,
// IPv4 and IPv6, is routed to that ENI's link and nowhere else. The router never asks an instance
// who has an address: each route goes "via" a next hop with a permanent neighbour entry carrying
// the ENI's MAC (IPv4: the ENI's primary address; IPv6: the link-local address of its MAC), so one
// neighbour entry per family serves however many addresses and prefixes the ENI has, and a /80
// behind the node (pods) is delivered as EC2 delivers it, to the ENI, whatever the node does with
// it. What is not assigned falls through to the VPC CIDR's blackhole (vpc-router.ts).

import { ipBatch } from "./exec.ts";
import { canonicalIpv4, kernelForm, parseCidr } from "./ipv4.ts";
import { canonicalIpv6, formatCidr6, isIpv6Text, linkLocalOf, parseCidr6Strict } from "./ipv6.ts";

/** What EC2 has assigned to an ENI, as the fabric is told it. */
export interface EniAddresses {
  primaryIp: string;
  privateIps?: readonly string[] | undefined;
  ipv4Prefixes?: readonly string[] | undefined;
  ipv6Addresses?: readonly string[] | undefined;
  ipv6Prefixes?: readonly string[] | undefined;
}

/**
 * What an ENI is to be reached at: its primary address (always), its other addresses and its
 * prefixes, in canonical text ("a.b.c.d", "a.b.c.d/n", "x::y", "x::/80").
 */
export function destinationsOf(addresses: EniAddresses): Set<string> {
  const destinations = new Set<string>([canonicalIpv4(addresses.primaryIp)]);
  for (const address of addresses.privateIps ?? []) destinations.add(canonicalIpv4(address));
  for (const prefix of addresses.ipv4Prefixes ?? []) destinations.add(kernelForm(parseCidr(prefix)));
  for (const address of addresses.ipv6Addresses ?? []) destinations.add(canonicalIpv6(address));
  for (const prefix of addresses.ipv6Prefixes ?? []) destinations.add(formatCidr6(parseCidr6Strict(prefix)));
  return destinations;
}

function routeTarget(destination: string): string {
  if (destination.includes("/")) return destination;
  return isIpv6Text(destination) ? `${destination}/128` : `${destination}/32`;
}

export function difference<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): T[] {
  return [...a].filter((item) => !b.has(item));
}

/** The routes to one ENI's link in the router namespace. */
export class EniDelivery {
  readonly #routerNetns: string;
  readonly #link: string;
  readonly #mac: string;
  readonly #primaryIp: string;
  readonly #nextHop6: string;
  /** Destinations routed to this ENI, as far as known; see #uncertain. */
  #routes = new Set<string>();
  /** A route batch failed part-way: the routes must be rebuilt from scratch on the next change. */
  #uncertain = false;

  constructor(routerNetns: string, link: string, mac: string, primaryIp: string) {
    this.#routerNetns = routerNetns;
    this.#link = link;
    this.#mac = mac;
    this.#primaryIp = primaryIp;
    this.#nextHop6 = linkLocalOf(mac);
  }

  /**
   * The lines that deliver `destinations` over a link just plugged (they run in the plug's own
   * batch); `plugged` records them once that batch has succeeded.
   */
  plugLines(destinations: ReadonlySet<string>): string[] {
    return [...this.#neighbourLines(), ...[...destinations].map((destination) => this.#routeLine(destination))];
  }

  plugged(destinations: ReadonlySet<string>): void {
    this.#routes = new Set(destinations);
  }

  /** Routes exactly `desired` to the link. */
  async apply(desired: ReadonlySet<string>): Promise<void> {
    const lines: string[] = [];
    if (this.#uncertain) {
      // After a partial failure the kernel's state is unknown: rebuild this ENI's routes whole.
      // A flush takes one family; the IPv6 one spares the kernel's own routes (fe80::/64).
      await ipBatch(this.#routerNetns, [`route flush dev ${this.#link} proto boot`], { ipv6: true });
      lines.push(`route flush dev ${this.#link}`, ...this.#neighbourLines());
      for (const destination of desired) lines.push(this.#routeLine(destination));
    } else {
      for (const destination of difference(this.#routes, desired)) lines.push(`route del ${routeTarget(destination)} dev ${this.#link}`);
      for (const destination of difference(desired, this.#routes)) lines.push(this.#routeLine(destination));
    }
    if (lines.length === 0) return;
    this.#uncertain = true;
    await ipBatch(this.#routerNetns, lines);
    this.#routes = new Set(desired);
    this.#uncertain = false;
  }

  #neighbourLines(): string[] {
    return [
      `neigh replace ${this.#primaryIp} lladdr ${this.#mac} dev ${this.#link} nud permanent`,
      `neigh replace ${this.#nextHop6} lladdr ${this.#mac} dev ${this.#link} nud permanent`,
    ];
  }

  #routeLine(destination: string): string {
    if (destination === this.#primaryIp) return `route replace ${destination}/32 dev ${this.#link}`;
    if (isIpv6Text(destination)) return `route replace ${routeTarget(destination)} via ${this.#nextHop6} dev ${this.#link}`;
    return `route replace ${routeTarget(destination)} via ${this.#primaryIp} dev ${this.#link} onlink`;
  }
}
