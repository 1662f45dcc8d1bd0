// The internet gateway's namespace: between the VPC router and the external hosts, it maps public
// IPv4 addresses 1:1 to private ones, as AWS's gateway does (IPv6 leaves through the egress-only
// gateway in the same namespace, egress-only-gateway.ts). Stateless rewriting (no conntrack
// NAT) means a mapping change takes effect on the next packet, with no conntrack entries to flush,
// and traffic between two public addresses hairpins correctly. Inbound traffic to an unmapped
// address and outbound traffic from a private address without a public one are dropped and
// counted: that is how a missing SNAT shows up, as on AWS.

import { elementStatement, ipBatch, NftCommitter, nftApply, sysctlSet, type NftTable } from "./exec.ts";
import {
  EXTERNAL_GATEWAY_ADDRESS,
  EXTERNAL_LINK,
  EXTERNAL_PREFIX_LENGTH,
  IGW_EXTERNAL_LINK,
  IGW_ROUTER_LINK,
  INTERNET_MTU,
  TRANSFER_IGW_ADDRESS,
  TRANSFER_PREFIX_LENGTH,
  TRANSFER_ROUTER_ADDRESS,
} from "./addresses.ts";
import { FORWARDING_SYSCTLS, IPV6_FORWARDING_SYSCTLS } from "./kernel-settings.ts";

export const IGW_TABLE: NftTable = { family: "ip", name: "vpcsim_igw" };

function igwRuleset(): string {
  return `
table ${IGW_TABLE.family} ${IGW_TABLE.name} {
  map public_to_private {
    type ipv4_addr : ipv4_addr
  }
  map private_to_public {
    type ipv4_addr : ipv4_addr
  }
  counter unmapped_inbound {
  }
  counter unmapped_outbound {
  }
  chain inbound {
    type filter hook prerouting priority raw; policy accept;
    notrack
    iifname "${IGW_EXTERNAL_LINK}" ip daddr ${EXTERNAL_GATEWAY_ADDRESS} accept
    iifname "${IGW_EXTERNAL_LINK}" ip daddr != @public_to_private counter name "unmapped_inbound" drop
    ip daddr set ip daddr map @public_to_private
  }
  chain outbound {
    type filter hook forward priority filter; policy accept;
    iifname "${IGW_ROUTER_LINK}" ip saddr != @private_to_public counter name "unmapped_outbound" drop
    iifname "${IGW_ROUTER_LINK}" ip saddr set ip saddr map @private_to_public
  }
  chain local_output {
    type filter hook output priority raw; policy accept;
    notrack
  }
}
`;
}

export class InternetGateway {
  readonly netns: string;
  readonly #nft: NftCommitter;
  readonly #publicByPrivate = new Map<string, string>();

  constructor(prefix: string) {
    this.netns = `${prefix}igw`;
    this.#nft = new NftCommitter(this.netns);
  }

  /** The namespace forwards both families: it also hosts the egress-only gateway (IPv6). */
  async setSysctls(): Promise<void> {
    await sysctlSet(this.netns, { ...FORWARDING_SYSCTLS, ...IPV6_FORWARDING_SYSCTLS });
  }

  /** Its side of the router's link (made by the router), and the link to the external host. */
  async buildLinks(options: { externalNetns: string }): Promise<void> {
    await ipBatch(this.netns, [
      "link set lo up",
      `link set ${IGW_ROUTER_LINK} up`,
      `addr add ${TRANSFER_IGW_ADDRESS}/${TRANSFER_PREFIX_LENGTH} dev ${IGW_ROUTER_LINK}`,
      `link add ${IGW_EXTERNAL_LINK} mtu ${INTERNET_MTU} type veth peer name ${EXTERNAL_LINK} netns ${options.externalNetns} mtu ${INTERNET_MTU}`,
      `link set ${IGW_EXTERNAL_LINK} up`,
      `addr add ${EXTERNAL_GATEWAY_ADDRESS}/${EXTERNAL_PREFIX_LENGTH} dev ${IGW_EXTERNAL_LINK}`,
    ]);
  }

  async loadRuleset(): Promise<void> {
    await nftApply(this.netns, igwRuleset());
  }

  /** Traffic to a VPC IPv4 CIDR (canonical text) goes back to the router. Idempotent. */
  async routeToVpc(cidr: string): Promise<void> {
    await ipBatch(this.netns, [`route replace ${cidr} via ${TRANSFER_ROUTER_ADDRESS} dev ${IGW_ROUTER_LINK}`]);
  }

  /** Forgets a VPC CIDR (disassociated). Idempotent. */
  async unrouteVpc(cidr: string): Promise<void> {
    await ipBatch(this.netns, [`route del ${cidr} via ${TRANSFER_ROUTER_ADDRESS} dev ${IGW_ROUTER_LINK}`]).catch(() => undefined); // already gone
  }

  /**
   * Maps a public address 1:1 to a private one (undefined removes the mapping). A public address
   * moves if it was mapped to another private address (as an Elastic IP re-association does).
   * The caller serialises calls.
   */
  async setPublicAddress(privateIp: string, publicIp: string | undefined): Promise<void> {
    if (this.#publicByPrivate.get(privateIp) === publicIp) return;
    const unmap = new Map<string, string>(); // private → public
    const old = this.#publicByPrivate.get(privateIp);
    if (old !== undefined) unmap.set(privateIp, old);
    if (publicIp !== undefined) {
      for (const [otherPrivate, otherPublic] of this.#publicByPrivate) {
        if (otherPublic === publicIp) unmap.set(otherPrivate, otherPublic);
      }
    }
    let script =
      elementStatement("delete", IGW_TABLE, "private_to_public", [...unmap.keys()]) +
      elementStatement("delete", IGW_TABLE, "public_to_private", [...unmap.values()]);
    if (publicIp !== undefined) {
      script +=
        elementStatement("add", IGW_TABLE, "private_to_public", [`${privateIp} : ${publicIp}`]) +
        elementStatement("add", IGW_TABLE, "public_to_private", [`${publicIp} : ${privateIp}`]);
    }
    await this.#nft.apply(script);
    for (const key of unmap.keys()) this.#publicByPrivate.delete(key);
    if (publicIp !== undefined) this.#publicByPrivate.set(privateIp, publicIp);
  }

  /** Public address mappings, private → public. */
  get publicAddresses(): ReadonlyMap<string, string> {
    return new Map(this.#publicByPrivate);
  }

  forget(): void {
    this.#publicByPrivate.clear();
  }
}
