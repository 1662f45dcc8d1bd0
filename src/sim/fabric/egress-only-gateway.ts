// The egress-only internet gateway: the VPC's IPv6 way out, in the gateway namespace beside the
// IPv4 internet gateway (internet-gateway.ts owns the namespace and the link to the router). VPC
// IPv6 addresses are global, so nothing is translated; the gateway is stateful instead: traffic
// the VPC starts goes out and its replies come back, and a connection started from outside is
// dropped (and counted), as on AWS. IPv6 traffic of the IPv4 gateway's own rules does not exist
// (its table is IPv4-only, so its "notrack" leaves IPv6 to conntrack).

import { ipBatch, nftApply, type NftTable } from "./exec.ts";
import {
  EXTERNAL_LINK,
  EXTERNAL6_GATEWAY_ADDRESS,
  EXTERNAL6_PREFIX_LENGTH,
  IGW_EXTERNAL6_LINK,
  IGW_ROUTER_LINK,
  INTERNET_MTU,
  TRANSFER6_IGW_ADDRESS,
  TRANSFER6_ROUTER_ADDRESS,
} from "./addresses.ts";

export const EIGW_TABLE: NftTable = { family: "ip6", name: "vpcsim_eigw" };

function eigwRuleset(): string {
  return `
table ${EIGW_TABLE.family} ${EIGW_TABLE.name} {
  counter unsolicited_inbound {
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${IGW_ROUTER_LINK}" accept
    iifname "${IGW_EXTERNAL6_LINK}" ct state established,related accept
    iifname "${IGW_EXTERNAL6_LINK}" counter name "unsolicited_inbound" drop
  }
}
`;
}

export class EgressOnlyGateway {
  readonly #netns: string;

  /** `netns` is the gateway namespace the internet gateway built. */
  constructor(netns: string) {
    this.#netns = netns;
  }

  /** Its address on the router's link, and the link to the IPv6 external host. */
  async buildLinks(options: { external6Netns: string }): Promise<void> {
    await ipBatch(this.#netns, [
      `addr add ${TRANSFER6_IGW_ADDRESS}/64 dev ${IGW_ROUTER_LINK} nodad`,
      `link add ${IGW_EXTERNAL6_LINK} mtu ${INTERNET_MTU} type veth peer name ${EXTERNAL_LINK} netns ${options.external6Netns} mtu ${INTERNET_MTU}`,
      `link set ${IGW_EXTERNAL6_LINK} up`,
      `addr add ${EXTERNAL6_GATEWAY_ADDRESS}/${EXTERNAL6_PREFIX_LENGTH} dev ${IGW_EXTERNAL6_LINK} nodad`,
    ]);
  }

  async loadRuleset(): Promise<void> {
    await nftApply(this.#netns, eigwRuleset());
  }

  /** Traffic to a VPC IPv6 CIDR (canonical text) goes back to the router. Idempotent. */
  async routeToVpc(cidr6: string): Promise<void> {
    await ipBatch(this.#netns, [`route replace ${cidr6} via ${TRANSFER6_ROUTER_ADDRESS} dev ${IGW_ROUTER_LINK}`]);
  }

  /** Forgets a VPC IPv6 CIDR (disassociated). Idempotent. */
  async unrouteVpc(cidr6: string): Promise<void> {
    await ipBatch(this.#netns, [`route del ${cidr6} via ${TRANSFER6_ROUTER_ADDRESS} dev ${IGW_ROUTER_LINK}`]).catch(() => undefined); // already gone
  }
}
