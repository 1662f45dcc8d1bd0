// Per secondary ENI host networking (reference §5.2, setupENINetwork plus the from-rule at 32765):
// the ENI's own route table (device number + 1) with the subnet gateway and a default route, the
// kernel's connected route taken out of main so only pod rules steer traffic onto the ENI, and a
// rule sending traffic from the ENI's primary address to its table. Never for the primary ENI.

import { ip, type NetnsOption } from "./exec.ts";
import {
  deleteRoute,
  deleteRule,
  findLinkByMac,
  listIpv4Addresses,
  listIpv4Routes,
  listIpv4Rules,
  listLinks,
  reconcileRules,
  replaceRoute,
  type IpRule,
  type LinkWait,
} from "./ip.ts";
import { DEFAULT_LINK_WAIT, DEFAULT_MTU } from "./node-network.ts";
import { routeTableId } from "./route-table.ts";
import { serialized } from "./serialize.ts";
import { DatapathInputError, parseIpv4Cidr, validateIpv4, validateMac, validateMtu } from "./validate.ts";
import { cidrContains, formatIp, parseIp, type ParsedCidr } from "../net/ip.ts";

/** Reference §5.6: `from <ENI primary IP> lookup <ENI table>`. */
export const ENI_RULE_PRIORITY = 32765;

export { routeTableId } from "./route-table.ts";

/** The VPC router of a subnet: its network address + 1. */
export function subnetGateway(subnet: ParsedCidr): string {
  return formatIp("4", subnet.base + 1n);
}

export interface EniNetworkOptions extends NetnsOption {
  mac: string;
  /** Attachment device index; 0 (the primary ENI) is refused. */
  deviceNumber: number;
  /** Network card index, default 0. */
  networkCard?: number;
  /** The ENI's primary private IPv4. */
  primaryIp: string;
  /** The ENI's subnet CIDR. */
  subnetCidr: string;
  /** AWS_VPC_ENI_MTU, default 9001. */
  mtu?: number;
  linkWait?: LinkWait;
}

export interface EniNetworkResult {
  ifname: string;
  table: number;
  gateway: string;
}

interface ResolvedEni {
  mac: string;
  table: number;
  primaryIp: string;
  subnet: ParsedCidr;
  gateway: string;
}

function resolveEni(options: Omit<EniNetworkOptions, "mtu" | "linkWait">): ResolvedEni {
  if (options.deviceNumber === 0 && (options.networkCard ?? 0) === 0) {
    throw new DatapathInputError("setupEniNetwork must not be called for the primary ENI (device 0 on card 0)");
  }
  const table = routeTableId(options.deviceNumber, options.networkCard ?? 0);
  const primaryIp = validateIpv4(options.primaryIp, "ENI primary IP");
  const subnet = parseIpv4Cidr(options.subnetCidr, "ENI subnet CIDR");
  if (subnet.prefixLength > 30) throw new DatapathInputError(`ENI subnet ${subnet.text} is too small for a gateway (/30 at most)`);
  if (!cidrContains(subnet, parseIp(primaryIp)!)) throw new DatapathInputError(`ENI primary IP ${primaryIp} is not in its subnet ${subnet.text}`);
  return { mac: validateMac(options.mac), table, primaryIp, subnet, gateway: subnetGateway(subnet) };
}

function eniRule(eni: ResolvedEni): Omit<IpRule, "other"> {
  return { priority: ENI_RULE_PRIORITY, table: String(eni.table), not: false, src: eni.primaryIp, srclen: 32 };
}

/** Sets up (or converges) one secondary ENI. Idempotent; the link may take a bounded while to appear. */
export async function setupEniNetwork(options: EniNetworkOptions): Promise<EniNetworkResult> {
  const eni = resolveEni(options);
  const mtu = validateMtu(options.mtu ?? DEFAULT_MTU);
  const target: NetnsOption = { netns: options.netns };
  return serialized(options.netns, async () => {
    const link = await findLinkByMac(target, eni.mac, options.linkWait ?? DEFAULT_LINK_WAIT);
    const dev = link.ifname;
    if (link.mtu !== mtu || !link.flags.includes("UP")) {
      await ip(target, ["link", "set", "dev", dev, "mtu", String(mtu), "up"]);
    }

    // Exactly one global IPv4 address, the ENI's primary one. Unlike the reference (delete all, add),
    // a correct address is kept so a restart does not disturb traffic from it.
    let present = false;
    for (const address of await listIpv4Addresses(target, dev)) {
      if (address.scope !== "global") continue;
      if (address.local === eni.primaryIp && address.prefixlen === eni.subnet.prefixLength) present = true;
      else await ip(target, ["addr", "del", `${address.local}/${address.prefixlen}`, "dev", dev]);
    }
    if (!present) await ip(target, ["addr", "add", `${eni.primaryIp}/${eni.subnet.prefixLength}`, "dev", dev]);

    // The ENI's table holds exactly: `<gw> dev ethN scope link` and `default via <gw> dev ethN`.
    const table = String(eni.table);
    for (const route of await listIpv4Routes(target)) {
      if (route.table !== table) continue;
      const isGw = route.dst === eni.gateway && route.dev === dev && route.gateway === undefined && route.scope === "link";
      const isDefault = route.dst === "default" && route.dev === dev && route.gateway === eni.gateway;
      if (!isGw && !isDefault) {
        await deleteRoute(target, [route.dst, ...(route.dev === undefined ? [] : ["dev", route.dev]), "table", table]);
      }
    }
    await replaceRoute(target, [`${eni.gateway}/32`, "dev", dev, "scope", "link", "table", table]);
    await replaceRoute(target, ["default", "via", eni.gateway, "dev", dev, "table", table]);

    // Without the connected route in main, traffic to the subnet uses the primary ENI unless a pod
    // rule picks this ENI's table.
    await deleteRoute(target, [eni.subnet.text, "dev", dev, "src", eni.primaryIp, "scope", "link", "table", "main"]);

    await reconcileRules(
      target,
      (rule) => rule.priority === ENI_RULE_PRIORITY && rule.src === eni.primaryIp && rule.srclen === 32,
      [eniRule(eni)],
    );
    return { ifname: dev, table: eni.table, gateway: eni.gateway };
  });
}

export type EniTeardownOptions = Omit<EniNetworkOptions, "mtu" | "linkWait">;

/**
 * Removes what setupEniNetwork added: the from-rule, the ENI table's routes and the address. The
 * link's MTU and up state are left as they are (they are the link's, and it goes with the detach).
 * A link already gone (ENI detached) is fine: its routes and address went with it.
 */
export async function teardownEniNetwork(options: EniTeardownOptions): Promise<void> {
  const eni = resolveEni(options);
  const target: NetnsOption = { netns: options.netns };
  return serialized(options.netns, async () => {
    for (const rule of await listIpv4Rules(target)) {
      if (rule.priority === ENI_RULE_PRIORITY && rule.src === eni.primaryIp && rule.srclen === 32 && rule.table === String(eni.table)) {
        await deleteRule(target, rule);
      }
    }
    const link = (await listLinks(target)).find((candidate) => candidate.address === eni.mac);
    if (link === undefined) return;
    const table = String(eni.table);
    for (const route of await listIpv4Routes(target)) {
      if (route.table === table && route.dev === link.ifname) {
        await deleteRoute(target, [route.dst, "dev", link.ifname, "table", table]);
      }
    }
    const addresses = await listIpv4Addresses(target, link.ifname);
    if (addresses.some((address) => address.local === eni.primaryIp && address.prefixlen === eni.subnet.prefixLength)) {
      await ip(target, ["addr", "del", `${eni.primaryIp}/${eni.subnet.prefixLength}`, "dev", link.ifname]);
    }
  });
}
