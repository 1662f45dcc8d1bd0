// Inside the pod (reference §5.3): the address as a /32 and a gateway that is never on any wire, the
// link-local 169.254.1.1, answered by a permanent neighbour entry carrying the host veth's MAC. So
// every packet the pod sends goes to the host end of its veth, whatever its destination.
//
//   <ifName>  address <ip>/32
//   169.254.1.1 dev <ifName> scope link
//   default via 169.254.1.1 dev <ifName>
//   neighbour 169.254.1.1 lladdr <host veth MAC> PERMANENT

import { parseIpv4Routes } from "../ip.ts";
import { describeRoute, type PodDrift } from "./drift.ts";
import type { StepLine } from "./errors.ts";

/** The pod's gateway: never on any wire, answered by the permanent neighbour entry. */
export const POD_GATEWAY = "169.254.1.1";

/** In the pod's namespace, after its end of the veth is up. */
export function podSideLines(ifName: string, address: string, hostMac: string): StepLine[] {
  return [
    { step: "pod-gateway-route", line: `route replace ${POD_GATEWAY}/32 dev ${ifName} scope link` },
    { step: "pod-default-route", line: `route replace default via ${POD_GATEWAY} dev ${ifName}` },
    { step: "pod-address", line: `addr add ${address}/32 dev ${ifName}` },
    { step: "pod-neighbour", line: `neigh add ${POD_GATEWAY} lladdr ${hostMac} nud permanent dev ${ifName}` },
  ];
}

export interface PodSideState {
  /** `ip -j -4 addr show`, `route show table main` and `neigh show` in the pod. */
  addrs: ReadonlyArray<Record<string, unknown>>;
  routes: ReadonlyArray<Record<string, unknown>>;
  neighbours: ReadonlyArray<Record<string, unknown>>;
}

/** CHECK of the pod side; `hostMac` undefined when the host veth is missing (reported apart). */
export function podSideDrifts(state: PodSideState, ifName: string, address: string, hostMac: string | undefined): PodDrift[] {
  const drifts: PodDrift[] = [];
  const drift = (item: PodDrift["item"], expected: string, found: string) => drifts.push({ item, expected, found });

  const podAddrInfo = state.addrs.find((entry) => entry["ifname"] === ifName)?.["addr_info"];
  const podAddresses = Array.isArray(podAddrInfo) ? (podAddrInfo as Array<Record<string, unknown>>).map((info) => `${String(info["local"])}/${String(info["prefixlen"])}`) : [];
  if (!podAddresses.includes(`${address}/32`)) drift("pod-address", `${address}/32 dev ${ifName}`, podAddresses.join(", ") || "missing");

  const podRoutes = parseIpv4Routes(state.routes);
  const gatewayRoute = podRoutes.find((route) => route.dst === POD_GATEWAY && route.dev === ifName);
  if (gatewayRoute === undefined || gatewayRoute.gateway !== undefined || gatewayRoute.scope !== "link") {
    drift("pod-gateway-route", `${POD_GATEWAY} dev ${ifName} scope link`, gatewayRoute === undefined ? "missing" : describeRoute(gatewayRoute));
  }
  const defaultRoutes = podRoutes.filter((route) => route.dst === "default");
  if (!defaultRoutes.some((route) => route.gateway === POD_GATEWAY && route.dev === ifName)) {
    drift("pod-default-route", `default via ${POD_GATEWAY} dev ${ifName}`, defaultRoutes.map(describeRoute).join(", ") || "missing");
  }

  const neighbour = state.neighbours.find((entry) => entry["dst"] === POD_GATEWAY && entry["dev"] === ifName);
  const neighbourMac = typeof neighbour?.["lladdr"] === "string" ? neighbour["lladdr"].toLowerCase() : undefined;
  const permanent = Array.isArray(neighbour?.["state"]) && (neighbour["state"] as unknown[]).includes("PERMANENT");
  const wantedMac = hostMac ?? "<host veth MAC>";
  if (neighbour === undefined || !permanent || (hostMac !== undefined && neighbourMac !== hostMac)) {
    drift(
      "neighbour",
      `${POD_GATEWAY} dev ${ifName} lladdr ${wantedMac} PERMANENT`,
      neighbour === undefined ? "missing" : `lladdr ${neighbourMac ?? "none"} ${Array.isArray(neighbour["state"]) ? (neighbour["state"] as unknown[]).join(",") : ""}`.trim(),
    );
  }
  return drifts;
}
