// The node agent's host networking: node-level setup, per-ENI setup, and reading the state back.
export { setupNodeNetwork, updateVpcCidrs, HOST_RULE_PRIORITY, EXTERNAL_SERVICE_RULE_PRIORITY, DEFAULT_CONNMARK, DEFAULT_MTU } from "./node-network.ts";
export type { NodeNetworkOptions, NodeNetworkResult } from "./node-network.ts";
export { ensureNodeSysctls, ensureSysctl } from "./node-sysctls.ts";
export { setupEniNetwork, teardownEniNetwork, routeTableId, subnetGateway, ENI_RULE_PRIORITY } from "./eni-network.ts";
export type { EniNetworkOptions, EniNetworkResult, EniTeardownOptions } from "./eni-network.ts";
export { readNodeNetworkState, filterOurIptables } from "./state.ts";
export type { NodeNetworkState } from "./state.ts";
export { SNAT_CHAIN, CONNMARK_CHAIN } from "./snat-layout.ts";
export type { RandomizeSnat } from "./snat-layout.ts";
export { DatapathCommandError } from "./exec.ts";
export { DatapathInputError } from "./validate.ts";
export { LinkNotFoundError } from "./ip.ts";
export type { LinkWait } from "./ip.ts";
