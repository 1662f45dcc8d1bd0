// Inside an IPv6 pod (reference §5.3, §5.7): the plain recipe's shape in IPv6. The address as a /128
// and a link-local gateway that is never on any wire, fe80::1, answered by a permanent neighbour
// entry carrying the host veth's MAC, so every packet the pod sends goes to the host end of its veth.
//
//   <ifName>  address <ip>/128 nodad
//   fe80::1 dev <ifName> scope link
//   default via fe80::1 dev <ifName>
//   neighbour fe80::1 lladdr <host veth MAC> PERMANENT
//
// Deviation: the reference adds the address with duplicate address detection and then waits (up to
// 10 s) until it is no longer tentative; an address the agent hands out once from the node's own /80
// cannot be a duplicate, so it is added with nodad and usable at once (aws-node's DAD wait is a known
// cause of slow IPv6 pod starts).

import { parseIpv4Routes } from "../ip.ts";
import { describeRoute, type PodDrift } from "./drift.ts";
import type { StepLine } from "./errors.ts";
import type { PodSideState } from "./pod-side.ts";

/** The IPv6 pod's gateway (the reference's fe80::1 for the first interface). */
export const POD_GATEWAY_V6 = "fe80::1";

/** In the pod's namespace (the batch runs with `ip -6`), after its end of the veth is up. */
export function podSideLinesV6(ifName: string, address: string, hostMac: string): StepLine[] {
  return [
    { step: "pod-gateway-route", line: `route replace ${POD_GATEWAY_V6}/128 dev ${ifName} scope link` },
    { step: "pod-default-route", line: `route replace default via ${POD_GATEWAY_V6} dev ${ifName}` },
    { step: "pod-address", line: `addr add ${address}/128 dev ${ifName} nodad` },
    { step: "pod-neighbour", line: `neigh add ${POD_GATEWAY_V6} lladdr ${hostMac} nud permanent dev ${ifName}` },
  ];
}

/** CHECK of an IPv6 pod's side, from `ip -j -6` reads; `hostMac` undefined when the host veth is missing. */
export function podSideDriftsV6(state: PodSideState, ifName: string, address: string, hostMac: string | undefined): PodDrift[] {
  const drifts: PodDrift[] = [];
  const drift = (item: PodDrift["item"], expected: string, found: string) => drifts.push({ item, expected, found });

  const podAddrInfo = state.addrs.find((entry) => entry["ifname"] === ifName)?.["addr_info"];
  const globals = Array.isArray(podAddrInfo) ? (podAddrInfo as Array<Record<string, unknown>>).filter((info) => info["scope"] !== "link") : [];
  const podAddresses = globals.map((info) => `${String(info["local"])}/${String(info["prefixlen"])}`);
  if (!podAddresses.includes(`${address}/128`)) drift("pod-address", `${address}/128 dev ${ifName}`, podAddresses.join(", ") || "missing");

  const podRoutes = parseIpv4Routes(state.routes);
  const gatewayRoute = podRoutes.find((route) => route.dst === POD_GATEWAY_V6 && route.dev === ifName);
  if (gatewayRoute === undefined || gatewayRoute.gateway !== undefined) {
    drift("pod-gateway-route", `${POD_GATEWAY_V6} dev ${ifName}`, gatewayRoute === undefined ? "missing" : describeRoute(gatewayRoute));
  }
  const defaultRoutes = podRoutes.filter((route) => route.dst === "default");
  if (!defaultRoutes.some((route) => route.gateway === POD_GATEWAY_V6 && route.dev === ifName)) {
    drift("pod-default-route", `default via ${POD_GATEWAY_V6} dev ${ifName}`, defaultRoutes.map(describeRoute).join(", ") || "missing");
  }

  const neighbour = state.neighbours.find((entry) => entry["dst"] === POD_GATEWAY_V6 && entry["dev"] === ifName);
  const neighbourMac = typeof neighbour?.["lladdr"] === "string" ? neighbour["lladdr"].toLowerCase() : undefined;
  const permanent = Array.isArray(neighbour?.["state"]) && (neighbour["state"] as unknown[]).includes("PERMANENT");
  if (neighbour === undefined || !permanent || (hostMac !== undefined && neighbourMac !== hostMac)) {
    drift(
      "neighbour",
      `${POD_GATEWAY_V6} dev ${ifName} lladdr ${hostMac ?? "<host veth MAC>"} PERMANENT`,
      neighbour === undefined ? "missing" : `lladdr ${neighbourMac ?? "none"} ${Array.isArray(neighbour["state"]) ? (neighbour["state"] as unknown[]).join(",") : ""}`.trim(),
    );
  }
  return drifts;
}
