// The VPC router's namespace: vpcsim's services on its loopback (EC2 API, IMDS, the Kubernetes
// API), each subnet's router address, a blackhole for every VPC CIDR, IPv4 and IPv6 (unassigned VPC
// addresses are dropped here, never sent on to the gateway), the link to the gateways with the
// default routes, and the nftables table of the source/destination check. ENI links hang off it
// (eni-links.ts, eni-delivery.ts, source-dest-check.ts).

import { ipBatch, netnsPathOf, NftCommitter, nftApply, run, sysctlSet } from "./exec.ts";
import {
  EC2_ENDPOINT_ADDRESS,
  IGW_ROUTER_LINK,
  IMDS_ADDRESS,
  KUBERNETES_ENDPOINT_ADDRESS,
  ROUTER_IGW_LINK,
  TRANSFER_IGW_ADDRESS,
  TRANSFER_PREFIX_LENGTH,
  TRANSFER_ROUTER_ADDRESS,
  TRANSFER6_IGW_ADDRESS,
  TRANSFER6_ROUTER_ADDRESS,
} from "./addresses.ts";
import { routerRuleset } from "./source-dest-check.ts";
import { FORWARDING_SYSCTLS, IPV6_FORWARDING_SYSCTLS } from "./kernel-settings.ts";

const COMMAND_TIMEOUT_MS = 30_000;

/** The VPC router namespace of the run with this prefix (the CLI creates it to start the daemon inside). */
export function routerNetnsName(prefix: string): string {
  return `${prefix}router`;
}

export class VpcRouter {
  readonly netns: string;
  readonly netnsPath: string;
  /** Group commit for the router's nftables: the source check of every ENI goes through it. */
  readonly nft: NftCommitter;
  readonly #gateways = new Set<string>();

  constructor(prefix: string) {
    this.netns = routerNetnsName(prefix);
    this.netnsPath = netnsPathOf(this.netns);
    this.nft = new NftCommitter(this.netns);
  }

  /** True if the namespace has nothing in it but a loopback link (nobody has built it yet). */
  async isEmpty(): Promise<boolean> {
    const { stdout } = await run("ip", ["-n", this.netns, "-o", "link", "show"], { timeoutMs: COMMAND_TIMEOUT_MS });
    return stdout.trim().split("\n").every((line) => / lo: /.test(line));
  }

  async setSysctls(): Promise<void> {
    await sysctlSet(this.netns, {
      ...FORWARDING_SYSCTLS,
      ...IPV6_FORWARDING_SYSCTLS,
      // Links get no link-local address of their own making: each ENI link gets its subnet
      // router's (eni-links.ts), the gateway link a fixed one.
      "net.ipv6.conf.default.addr_gen_mode": 1,
      // The router answers ARP for its own addresses (gateways, services) on every ENI link…
      "net.ipv4.conf.all.arp_ignore": 0,
      // …and, by proxy, for any address it routes to another link: the addresses EC2 assigned.
      // Set as the default so every ENI link created later has it.
      "net.ipv4.conf.default.proxy_arp": 1,
    });
  }

  /** Services on lo, and the link to the gateway (its peer goes into the gateway's namespace). */
  async buildLinks(options: { mtu: number; igwNetns: string }): Promise<void> {
    await ipBatch(this.netns, [
      "link set lo up",
      `addr replace ${EC2_ENDPOINT_ADDRESS}/32 dev lo`,
      `addr replace ${KUBERNETES_ENDPOINT_ADDRESS}/32 dev lo`,
      `addr replace ${IMDS_ADDRESS}/32 dev lo`,
      `link add ${ROUTER_IGW_LINK} mtu ${options.mtu} type veth peer name ${IGW_ROUTER_LINK} netns ${options.igwNetns} mtu ${options.mtu}`,
      `link set ${ROUTER_IGW_LINK} up`,
      `addr add ${TRANSFER_ROUTER_ADDRESS}/${TRANSFER_PREFIX_LENGTH} dev ${ROUTER_IGW_LINK}`,
      `addr add ${TRANSFER6_ROUTER_ADDRESS}/64 dev ${ROUTER_IGW_LINK} nodad`,
      `route add default via ${TRANSFER_IGW_ADDRESS} dev ${ROUTER_IGW_LINK}`,
      // IPv6 leaves the VPC through the egress-only gateway, in the same namespace as the IPv4 one.
      `route add ::/0 via ${TRANSFER6_IGW_ADDRESS} dev ${ROUTER_IGW_LINK}`,
    ]);
  }

  async loadRuleset(): Promise<void> {
    await nftApply(this.netns, routerRuleset());
  }

  /** Unassigned addresses of a VPC CIDR (IPv4 or IPv6, canonical text) are dropped here. Idempotent. */
  async blackhole(cidr: string): Promise<void> {
    await ipBatch(this.netns, [`route replace blackhole ${cidr}`]);
  }

  /** Stops dropping a VPC CIDR that is no longer the VPC's (its addresses go to the gateway again). Idempotent. */
  async unBlackhole(cidr: string): Promise<void> {
    await ipBatch(this.netns, [`route del blackhole ${cidr}`]).catch(() => undefined); // already gone
  }

  /** Puts a subnet's router address on lo, so instances in it reach their gateway. Idempotent. */
  async addGateway(gateway: string): Promise<void> {
    if (this.#gateways.has(gateway)) return;
    await ipBatch(this.netns, [`addr replace ${gateway}/32 dev lo`]);
    this.#gateways.add(gateway);
  }

  forget(): void {
    this.#gateways.clear();
  }
}
