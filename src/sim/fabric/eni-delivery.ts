// The VPC router's delivery by assignment: every private address and prefix EC2 assigned to an ENI
// is routed to that ENI's link and nowhere else. Only the ENI's primary address is resolved on the
// link (a permanent neighbour entry with the ENI's MAC); every other destination goes "via" it, so
// the router never ARPs toward an instance and needs one neighbour entry per ENI however many
// addresses it has. What is not assigned falls through to the VPC CIDR's blackhole (vpc-router.ts).

import { ipBatch } from "./exec.ts";
import { canonicalIpv4, kernelForm, parseCidr } from "./ipv4.ts";

/** A destination as stored: "a.b.c.d" for one address, "a.b.c.d/n" for a prefix. */
function destinationOf(text: string): string {
  if (!text.includes("/")) return canonicalIpv4(text);
  return kernelForm(parseCidr(text));
}

/** What an ENI is to be reached at: its primary address (always), its other addresses and its prefixes. */
export function destinationsOf(primaryIp: string, privateIps: readonly string[], prefixes: readonly string[]): Set<string> {
  const destinations = new Set<string>([primaryIp]);
  for (const address of privateIps) destinations.add(canonicalIpv4(address));
  for (const prefix of prefixes) destinations.add(destinationOf(prefix));
  return destinations;
}

function routeTarget(destination: string): string {
  return destination.includes("/") ? destination : `${destination}/32`;
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
  /** Destinations routed to this ENI, as far as known; see #uncertain. */
  #routes = new Set<string>();
  /** A route batch failed part-way: the routes must be rebuilt from scratch on the next change. */
  #uncertain = false;

  constructor(routerNetns: string, link: string, mac: string, primaryIp: string) {
    this.#routerNetns = routerNetns;
    this.#link = link;
    this.#mac = mac;
    this.#primaryIp = primaryIp;
  }

  /**
   * The lines that deliver `destinations` over a link just plugged (they run in the plug's own
   * batch); `plugged` records them once that batch has succeeded.
   */
  plugLines(destinations: ReadonlySet<string>): string[] {
    return [this.#neighbourLine(), ...[...destinations].map((destination) => this.#routeLine(destination))];
  }

  plugged(destinations: ReadonlySet<string>): void {
    this.#routes = new Set(destinations);
  }

  /** Routes exactly `desired` to the link. */
  async apply(desired: ReadonlySet<string>): Promise<void> {
    const lines: string[] = [];
    if (this.#uncertain) {
      // After a partial failure the kernel's state is unknown: rebuild this ENI's routes whole.
      lines.push(`route flush dev ${this.#link}`, this.#neighbourLine());
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

  #neighbourLine(): string {
    return `neigh replace ${this.#primaryIp} lladdr ${this.#mac} dev ${this.#link} nud permanent`;
  }

  #routeLine(destination: string): string {
    if (destination === this.#primaryIp) return `route replace ${destination}/32 dev ${this.#link}`;
    return `route replace ${routeTarget(destination)} via ${this.#primaryIp} dev ${this.#link} onlink`;
  }
}
