// What CHECK reports: each part of a pod's wiring that differs from what ADD installs, in the order
// a reader follows the path of a packet, from the pod's interface out to the host's rules.

/** Every item CHECK looks at, in the order drifts are listed. */
const DRIFT_ITEMS = ["pod-interface", "pod-address", "pod-gateway-route", "pod-default-route", "host-veth", "neighbour", "host-route", "to-rule", "from-rule"] as const;

export type PodDriftItem = (typeof DRIFT_ITEMS)[number];

export interface PodDrift {
  item: PodDriftItem;
  /** What setupPodNetwork installs, in `ip` terms. */
  expected: string;
  /** What is there instead ("missing" when nothing is). */
  found: string;
}

export function inDriftOrder(drifts: readonly PodDrift[]): PodDrift[] {
  return [...drifts].sort((a, b) => DRIFT_ITEMS.indexOf(a.item) - DRIFT_ITEMS.indexOf(b.item));
}

/** `ip -j` flags of a link (UP, LOWER_UP, …). */
export function linkFlags(entry: Record<string, unknown> | undefined): string[] {
  return Array.isArray(entry?.["flags"]) ? (entry["flags"] as unknown[]).map(String) : [];
}

export function describeRoute(route: { dst: string; gateway?: string; dev?: string; scope?: string }): string {
  return [route.dst, route.gateway === undefined ? "" : `via ${route.gateway}`, route.dev === undefined ? "" : `dev ${route.dev}`, route.scope === undefined ? "" : `scope ${route.scope}`]
    .filter((part) => part !== "")
    .join(" ");
}
