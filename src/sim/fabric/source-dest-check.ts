// EC2's source/destination check in the VPC router: a packet an ENI sends from an address EC2 has
// not assigned to it is dropped (and counted), unless the ENI's check is off. The allowed sources
// are the ENI's delivered destinations (eni-delivery.ts), IPv4 and IPv6, kept in two nftables sets
// of one inet table; each change is one transaction, so an update is atomic and costs the same
// however many ENIs exist.

import { elementStatement, type NftCommitter, type NftTable } from "./exec.ts";
import { difference } from "./eni-delivery.ts";
import { ENI_LINK_PREFIX } from "./eni-links.ts";
import { isIpv6Text } from "./ipv6.ts";

export const ROUTER_TABLE: NftTable = { family: "inet", name: "vpcsim" };

/**
 * The check hooks prerouting (not forward) so that it also guards traffic to the router itself:
 * IMDS tells instances apart by source address, so a spoofed source must not reach it either. It
 * matches links by name prefix rather than by a membership set, so an ENI veth is checked from the
 * moment it exists: until its addresses are added it can send nothing, which fails closed.
 *
 * Link-scoped IPv6 passes: neighbour discovery from an instance's link-local address (or from the
 * unspecified address, while it checks for duplicates) to the router or a link multicast group.
 * The kernel never forwards a link-local source off its link, so this opens no way out.
 */
export function routerRuleset(): string {
  return `
table ${ROUTER_TABLE.family} ${ROUTER_TABLE.name} {
  set eni_sources {
    type ifname . ipv4_addr
    flags interval
  }
  set eni_sources6 {
    type ifname . ipv6_addr
    flags interval
  }
  set unchecked_enis {
    type ifname
  }
  counter spoofed_sources {
  }
  chain source_dest_check {
    type filter hook prerouting priority raw; policy accept;
    iifname != "${ENI_LINK_PREFIX}*" accept
    iifname @unchecked_enis accept
    iifname . ip saddr @eni_sources accept
    iifname . ip6 saddr @eni_sources6 accept
    ip6 saddr { ::, fe80::/10 } ip6 daddr { fe80::/10, ff02::/16 } accept
    counter name "spoofed_sources" drop
  }
}
`;
}

/** One ENI's entries in the check: the sources it may use, and whether its check is off. */
export class EniSourceCheck {
  readonly #nft: NftCommitter;
  readonly #link: string;
  /** Sources in the sets, exactly (nft transactions are all-or-nothing). */
  readonly #sources = new Set<string>();
  #enabled = true;

  constructor(nft: NftCommitter, link: string) {
    this.#nft = nft;
    this.#link = link;
  }

  /** Lets a newly plugged ENI send from `sources`, with the check on or off. */
  async plug(sources: ReadonlySet<string>, enabled: boolean): Promise<void> {
    await this.#nft.apply(
      this.#statements("add", [...sources]) + (enabled ? "" : elementStatement("add", ROUTER_TABLE, "unchecked_enis", [`"${this.#link}"`])),
    );
    for (const source of sources) this.#sources.add(source);
    this.#enabled = enabled;
  }

  /** Allows exactly `desired`. */
  async apply(desired: ReadonlySet<string>): Promise<void> {
    const remove = difference(this.#sources, desired);
    const add = difference(desired, this.#sources);
    await this.#nft.apply(this.#statements("delete", remove) + this.#statements("add", add));
    for (const source of remove) this.#sources.delete(source);
    for (const source of add) this.#sources.add(source);
  }

  async setEnabled(enabled: boolean): Promise<void> {
    if (this.#enabled === enabled) return;
    await this.#nft.apply(elementStatement(enabled ? "delete" : "add", ROUTER_TABLE, "unchecked_enis", [`"${this.#link}"`]));
    this.#enabled = enabled;
  }

  /** Removes every entry of the ENI (before its link goes, so it stops sending first). */
  async unplug(): Promise<void> {
    await this.#nft.apply(
      this.#statements("delete", [...this.#sources]) +
        (this.#enabled ? "" : elementStatement("delete", ROUTER_TABLE, "unchecked_enis", [`"${this.#link}"`])),
    );
    this.#sources.clear();
  }

  /** The statements for both sets: each source goes to the set of its family. */
  #statements(verb: "add" | "delete", sources: readonly string[]): string {
    const element = (source: string) => `"${this.#link}" . ${source}`;
    const v6 = sources.filter(isIpv6Text);
    const v4 = sources.filter((source) => !isIpv6Text(source));
    return elementStatement(verb, ROUTER_TABLE, "eni_sources", v4.map(element)) + elementStatement(verb, ROUTER_TABLE, "eni_sources6", v6.map(element));
  }
}
