// One pod's datapath (reference §5.3 ADD, §5.4 DEL, plus a CHECK the reference lacks), built from the
// parts every pod recipe shares (namespaces.ts: where the commands run; veth.ts: the pair) and the
// plain recipe's two sides (pod-side.ts: the /32 and the 169.254.1.1 gateway; host-routes.ts: the main
// route, rules 512 and 1536). Branch-ENI pods (a vlan on the trunk, a table per vlan) and IPv6 pods
// (the fe80::1 gateway) get their sides beside these.
//
// Bundled into the plugin, which runs once per pod: imports only node:* and src/datapath, does
// nothing at load, and spends process spawns sparingly.

export { setupPodNetwork, type PodNetworkOptions, type PodNetworkResult } from "./setup.ts";
export { teardownPodNetwork, type PodTeardownOptions } from "./teardown.ts";
export { checkPodNetwork, type PodCheckOptions } from "./check.ts";
export type { PodDrift, PodDriftItem } from "./drift.ts";
export { NetnsNotFoundError, PodAddressInUseError, PodNetworkError, type PodNetworkStep } from "./errors.ts";
