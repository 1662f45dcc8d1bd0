// The agent's configuration, read from the environment with aws-node's variable names, defaults and
// meanings. Where aws-node silently falls back to a default on a value it cannot read, or compares
// numbers as strings, we refuse to start instead, naming every bad variable at once: a node that
// runs with a configuration its operator did not write is worse than one that does not start.

import {
  formatBindAddress,
  parseAbsolutePath,
  parseBindAddress,
  parseChoice,
  parseGoInteger,
  parseInteger,
  parseLabelKey,
  parseLogDestination,
  parseTags,
} from "./config-values.ts";
import type { BindAddress, LogDestination, Parsed, Tags } from "./config-values.ts";
import { CONFIG_VARIABLES } from "./config-variables.ts";
import { ConfigReader, type ConfigError, type Env } from "./config-reader.ts";
import type { PoolTargets } from "./pool/types.ts";

export type { BindAddress, LogDestination, Tags } from "./config-values.ts";
export type { ConfigError } from "./config-reader.ts";

export type IpFamily = "ipv4" | "ipv6";
export type RandomizeSnat = "prng" | "hashrandom" | "none";
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";
export type PodSecurityGroupEnforcingMode = "strict" | "standard";

/** The pool's targets as the pool policy takes them (WARM_*_TARGET, MINIMUM_IP_TARGET, MAX_ENI, ...), and the pool manager's timing. */
export type PoolConfig = PoolTargets & {
  readonly manageEnisNonSchedulable: boolean;
  /** Spacing of passes that give addresses or ENIs back (aws-node: 30 s, fixed). */
  readonly shrinkIntervalMs: number;
  /** How long an ADD on an empty pool waits for the growth it triggers before "no address". */
  readonly allocationWaitMs: number;
  /** How long pool growth pauses after an insufficient-address error (aws-node: 120 s, fixed). */
  readonly growthPauseMs: number;
  /** How often ENIs and addresses are compared with instance metadata (aws-node: 60 s). */
  readonly reconcileIntervalMs: number;
};

export type HostNetworkConfig = {
  readonly externalSnat: boolean;
  /** Normalised ("10.0.0.0/16"), host bits cleared, duplicates dropped. */
  readonly excludeSnatCidrs: readonly string[];
  readonly randomizeSnat: RandomizeSnat;
  readonly connmark: number;
  readonly nodePortSupport: boolean;
  readonly externalServiceCidrs: readonly string[];
  readonly eniMtu: number;
  readonly podMtu: number;
  readonly vethPrefix: string;
};

export type EniManagementConfig = {
  /** Effective: also true under ENABLE_IMDS_ONLY_MODE. */
  readonly disableNetworkResourceProvisioning: boolean;
  readonly imdsOnlyMode: boolean;
  /** Effective: also true with IPv6, without provisioning and in IMDS-only mode, as in aws-node. */
  readonly disableLeakedEniCleanup: boolean;
  /** "" = unset. */
  readonly clusterName: string;
  readonly additionalEniTags: Tags;
  readonly manageUntaggedEni: boolean;
  readonly subnetDiscovery: boolean;
  readonly customNetworking: boolean;
  /** AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS: custom networking from subnet and security-group tags, no ENIConfigs. */
  readonly customNetworkingByTags: boolean;
  readonly eniConfigLabelKey: string;
  readonly eniConfigAnnotationKey: string;
  readonly podEni: boolean;
  readonly podSecurityGroupEnforcingMode: PodSecurityGroupEnforcingMode;
};

/** Custom networking in either form (ENIConfigs or tags): the primary ENI carries no pods and max pods loses it. */
export function customNetworkingOn(eni: Pick<EniManagementConfig, "customNetworking" | "customNetworkingByTags">): boolean {
  return eni.customNetworking || eni.customNetworkingByTags;
}

export type PathsConfig = {
  readonly stateDir: string;
  /** The checkpoint file (AWS_VPC_K8S_CNI_BACKING_STORE). */
  readonly backingStore: string;
  readonly socketPath: string;
  readonly socketMode: number;
  readonly cniBinDir: string;
  readonly cniConfDir: string;
};

/** What the conflist chains after vpc-cni (reference §1.3): egress-cni, portmap, bandwidth, tuning. */
export type CniChainConfig = {
  /** ENABLE_V4_EGRESS: IPv4 egress for IPv6 pods (egress-cni's "enabled" on IPv6 nodes). */
  readonly v4Egress: boolean;
  /** ENABLE_V6_EGRESS: IPv6 egress for IPv4 pods (egress-cni's "enabled" on IPv4 nodes, given a node IPv6). */
  readonly v6Egress: boolean;
  readonly bandwidthPlugin: boolean;
  readonly disablePodV6: boolean;
  /** egress-cni's log: AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE on IPv6 nodes, ..._V6_... on IPv4 nodes. */
  readonly egressLogFile: LogDestination;
  /** egress-cni's host-local data directory (VPC_CNI_EGRESS_IPAM_DIR). */
  readonly egressIpamDir: string;
};

export type ObservabilityConfig = {
  /** null when DISABLE_INTROSPECTION. */
  readonly introspectionBind: BindAddress | null;
  /** null when DISABLE_METRICS. */
  readonly metricsBind: BindAddress | null;
  readonly logLevel: LogLevel;
  readonly logFile: LogDestination;
  readonly pluginLogLevel: LogLevel;
  readonly pluginLogFile: LogDestination;
};

export type AgentConfig = {
  readonly ipFamily: IpFamily;
  readonly enableIpv4: boolean;
  readonly enableIpv6: boolean;
  /** "" when MY_NODE_NAME is unset. */
  readonly nodeName: string;
  /** The agent's pod (MY_POD_NAMESPACE, MY_POD_NAME); name "" when unset. */
  readonly pod: { readonly namespace: string; readonly name: string };
  /** CLUSTER_ENDPOINT: the API server's URL instead of the in-cluster service address; "" when unset. */
  readonly clusterEndpoint: string;
  readonly pool: PoolConfig;
  readonly hostNetwork: HostNetworkConfig;
  readonly eni: EniManagementConfig;
  readonly paths: PathsConfig;
  readonly observability: ObservabilityConfig;
  readonly cniChain: CniChainConfig;
};


export type LoadConfigResult =
  | { readonly ok: true; readonly config: AgentConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "fatal"];
const RANDOMIZE_SNAT: readonly RandomizeSnat[] = ["prng", "hashrandom", "none"];
const ENFORCING_MODES: readonly PodSecurityGroupEnforcingMode[] = ["strict", "standard"];
const MTU_MAX = 9001;
const MTU_MIN: Readonly<Record<IpFamily, number>> = { ipv4: 576, ipv6: 1280 };
const CONNMARK_MAX = 2 ** 32 - 1;
// Host veth names are the prefix plus 11 hex characters, and Linux allows 15.
const VETH_PREFIX_MAX = 4;
const RESERVED_VETH_PREFIXES = ["eth", "lo", "vlan"];
// EC2 allows 50 tags per ENI; the agent sets up to 4 of its own (instance_id, createdAt, cluster name, owner).
const MAX_ADDITIONAL_TAGS = 46;
const DEPRECATED_NO_OPS = ["AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER", "ENABLE_NFTABLES"];
// Read by other parts of the system, so not unknown even though this loader ignores them.
// VPC_CNI_AGENT_FROM_SOURCE is bin/vpc-cni-agent's (run src/ instead of the bundle).
const OTHER_OWN_VARIABLES = new Set(["VPC_CNI_VERSION", "VPC_CNI_AGENT_FROM_SOURCE"]);

/** Reads and checks the agent's configuration from `env` (pass process.env); never reads the process. */
export function loadConfig(env: Env): LoadConfigResult {
  const r = new ConfigReader(env);
  const { enableIpv4, enableIpv6, ipFamily } = readAddressFamily(r);
  const logDir = r.read("VPC_CNI_LOG_DIR", parseAbsolutePath);
  const config: AgentConfig = {
    ipFamily,
    enableIpv4,
    enableIpv6,
    nodeName: r.given("MY_NODE_NAME") ?? "",
    pod: { namespace: r.read("MY_POD_NAMESPACE", (t) => parseKubeName(t, 63)), name: r.read("MY_POD_NAME", (t) => parseKubeName(t, 253), "") },
    clusterEndpoint: r.read("CLUSTER_ENDPOINT", parseHttpUrl, ""),
    pool: readPool(r),
    hostNetwork: readHostNetwork(r, ipFamily),
    eni: readEniManagement(r, ipFamily),
    paths: readPaths(r),
    observability: readObservability(r, logDir),
    cniChain: readCniChain(r, ipFamily, logDir),
  };
  checkAcrossVariables(r, config);
  warnAboutUnusedVariables(r, config);
  if (r.errors.length > 0) return { ok: false, errors: r.errors };
  return { ok: true, config: deepFreeze(config), warnings: r.warnings };
}

/** First of all: the MTU range and several defaults depend on it. */
function readAddressFamily(r: ConfigReader): { enableIpv4: boolean; enableIpv6: boolean; ipFamily: IpFamily } {
  const enableIpv4 = r.bool("ENABLE_IPv4");
  const enableIpv6 = r.bool("ENABLE_IPv6");
  if (enableIpv4 === enableIpv6 && r.errors.length === 0) {
    r.refuse("ENABLE_IPv6", enableIpv6 ? "false while ENABLE_IPv4 is true: dual-stack pods are not supported" : "true when ENABLE_IPv4 is false: one address family must be on", [
      { variable: "ENABLE_IPv4", value: String(enableIpv4) },
    ]);
  }
  return { enableIpv4, enableIpv6, ipFamily: enableIpv6 && !enableIpv4 ? "ipv6" : "ipv4" };
}

function readPool(r: ConfigReader): PoolConfig {
  const maxEni = r.read("MAX_ENI", (t) => parseInteger(t, -1, Number.MAX_SAFE_INTEGER, "a whole number ≥ 1, or -1 for the instance type's limit"));
  if (maxEni === 0) r.refuse("MAX_ENI", "a whole number ≥ 1, or -1 for the instance type's limit (0 would leave the node without its primary ENI)");
  return {
    prefixDelegation: r.bool("ENABLE_PREFIX_DELEGATION"),
    warmEniTarget: r.count("WARM_ENI_TARGET", "ENIs"),
    warmIpTarget: r.count("WARM_IP_TARGET", "addresses; 0 = unset"),
    minimumIpTarget: r.count("MINIMUM_IP_TARGET", "addresses; 0 = unset"),
    warmPrefixTarget: r.count("WARM_PREFIX_TARGET", "/28 prefixes"),
    maxEni: maxEni > 0 ? maxEni : null,
    ipCooldownMs: r.count("IP_COOLDOWN_PERIOD", "seconds") * 1000,
    manageEnisNonSchedulable: r.bool("AWS_MANAGE_ENIS_NON_SCHEDULABLE"),
    minEniAgeMs: r.count("VPC_CNI_MIN_ENI_AGE", "seconds") * 1000,
    shrinkIntervalMs: r.count("VPC_CNI_SHRINK_INTERVAL", "seconds") * 1000,
    allocationWaitMs: r.read("VPC_CNI_ALLOCATION_WAIT", (t) => parseInteger(t, 1, 600, "seconds, 1..600")) * 1000,
    growthPauseMs: r.read("VPC_CNI_GROWTH_PAUSE", (t) => parseInteger(t, 1, 3600, "seconds, 1..3600")) * 1000,
    reconcileIntervalMs: r.read("VPC_CNI_RECONCILE_INTERVAL", (t) => parseInteger(t, 1, 3600, "seconds, 1..3600")) * 1000,
  };
}

function readHostNetwork(r: ConfigReader, ipFamily: IpFamily): HostNetworkConfig {
  const mtuAllowed = `a whole number ${MTU_MIN[ipFamily]}..${MTU_MAX} (the ${ipFamily === "ipv6" ? "IPv6" : "IPv4"} range)`;
  const mtu = (text: string) => parseInteger(text, MTU_MIN[ipFamily], MTU_MAX, mtuAllowed);
  const eniMtu = r.read("AWS_VPC_ENI_MTU", mtu);
  return {
    externalSnat: r.bool("AWS_VPC_K8S_CNI_EXTERNALSNAT"),
    excludeSnatCidrs: r.cidrs("AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS"),
    randomizeSnat: r.read("AWS_VPC_K8S_CNI_RANDOMIZESNAT", (t) => parseChoice(t, RANDOMIZE_SNAT)),
    connmark: r.read("AWS_VPC_K8S_CNI_CONNMARK", parseConnmark),
    nodePortSupport: r.bool("AWS_VPC_CNI_NODE_PORT_SUPPORT"),
    externalServiceCidrs: r.cidrs("AWS_EXTERNAL_SERVICE_CIDRS"),
    eniMtu,
    podMtu: r.read("POD_MTU", mtu, eniMtu),
    vethPrefix: r.read("AWS_VPC_K8S_CNI_VETHPREFIX", parseVethPrefix),
  };
}

function readEniManagement(r: ConfigReader, ipFamily: IpFamily): EniManagementConfig {
  const imdsOnlyMode = r.bool("ENABLE_IMDS_ONLY_MODE");
  const noProvisioning = r.bool("DISABLE_NETWORK_RESOURCE_PROVISIONING") || imdsOnlyMode;
  const disableLeakedEniCleanup = r.bool("DISABLE_LEAKED_ENI_CLEANUP") || noProvisioning || ipFamily === "ipv6";
  return {
    disableNetworkResourceProvisioning: noProvisioning,
    imdsOnlyMode,
    disableLeakedEniCleanup,
    clusterName: r.read("CLUSTER_NAME", parseClusterName, ""),
    additionalEniTags: r.read("ADDITIONAL_ENI_TAGS", (t) => parseTags(t, MAX_ADDITIONAL_TAGS)),
    manageUntaggedEni: r.bool("MANAGE_UNTAGGED_ENI"),
    subnetDiscovery: r.bool("ENABLE_SUBNET_DISCOVERY"),
    customNetworking: r.bool("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"),
    customNetworkingByTags: r.bool("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS"),
    eniConfigLabelKey: r.read("ENI_CONFIG_LABEL_DEF", parseLabelKey),
    eniConfigAnnotationKey: r.read("ENI_CONFIG_ANNOTATION_DEF", parseLabelKey),
    podEni: r.bool("ENABLE_POD_ENI"),
    podSecurityGroupEnforcingMode: r.read("POD_SECURITY_GROUP_ENFORCING_MODE", (t) => parseChoice(t, ENFORCING_MODES)),
  };
}

function readPaths(r: ConfigReader): PathsConfig {
  const stateDir = r.read("VPC_CNI_STATE_DIR", parseAbsolutePath);
  // aws-node's names for the same directories; "" when unset or refused.
  const hostBinDir = r.read("HOST_CNI_BIN_PATH", parseAbsolutePath, "") || undefined;
  const hostConfDir = r.read("HOST_CNI_CONFDIR_PATH", parseAbsolutePath, "") || undefined;
  const cniBinDir = r.read("VPC_CNI_BIN_DIR", parseAbsolutePath, r.isSet("VPC_CNI_BIN_DIR") ? undefined : hostBinDir);
  const cniConfDir = r.read("VPC_CNI_CONF_DIR", parseAbsolutePath, r.isSet("VPC_CNI_CONF_DIR") ? undefined : hostConfDir);
  if (hostBinDir !== undefined && hostBinDir !== cniBinDir) r.warnings.push(`HOST_CNI_BIN_PATH ignored: VPC_CNI_BIN_DIR=${cniBinDir} is set`);
  if (hostConfDir !== undefined && hostConfDir !== cniConfDir) r.warnings.push(`HOST_CNI_CONFDIR_PATH ignored: VPC_CNI_CONF_DIR=${cniConfDir} is set`);
  return {
    stateDir,
    backingStore: r.read("AWS_VPC_K8S_CNI_BACKING_STORE", parseAbsolutePath, `${stateDir}/ipam.json`),
    socketPath: r.read("VPC_CNI_SOCKET", parseAbsolutePath, `${stateDir}/ipamd.sock`),
    socketMode: r.read("VPC_CNI_SOCKET_MODE", parseFileMode),
    cniBinDir,
    cniConfDir,
  };
}

function readObservability(r: ConfigReader, logDir: string): ObservabilityConfig {
  const introspectionBind = r.read("INTROSPECTION_BIND_ADDRESS", parseBindAddress);
  const metricsBind = r.read("VPC_CNI_METRICS_BIND_ADDRESS", parseBindAddress);
  return {
    introspectionBind: r.bool("DISABLE_INTROSPECTION") ? null : introspectionBind,
    metricsBind: r.bool("DISABLE_METRICS") ? null : metricsBind,
    logLevel: r.read("AWS_VPC_K8S_CNI_LOGLEVEL", (t) => parseChoice(t, LOG_LEVELS)),
    logFile: r.read("AWS_VPC_K8S_CNI_LOG_FILE", (t) => parseLogDestination(t, true), { kind: "file", path: `${logDir}/ipamd.log` }),
    pluginLogLevel: r.read("AWS_VPC_K8S_PLUGIN_LOG_LEVEL", (t) => parseChoice(t, LOG_LEVELS)),
    pluginLogFile: r.read("AWS_VPC_K8S_PLUGIN_LOG_FILE", (t) => parseLogDestination(t, false), { kind: "file", path: `${logDir}/plugin.log` }),
  };
}

function readCniChain(r: ConfigReader, ipFamily: IpFamily, logDir: string): CniChainConfig {
  const v4Log = r.read("AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE", (t) => parseLogDestination(t, false), { kind: "file", path: `${logDir}/egress-v4-plugin.log` });
  const v6Log = r.read("AWS_VPC_K8S_EGRESS_V6_PLUGIN_LOG_FILE", (t) => parseLogDestination(t, false), { kind: "file", path: `${logDir}/egress-v6-plugin.log` });
  return {
    v4Egress: r.bool("ENABLE_V4_EGRESS"),
    v6Egress: r.bool("ENABLE_V6_EGRESS"),
    bandwidthPlugin: r.bool("ENABLE_BANDWIDTH_PLUGIN"),
    disablePodV6: r.bool("DISABLE_POD_V6"),
    egressLogFile: ipFamily === "ipv6" ? v4Log : v6Log,
    egressIpamDir: r.read("VPC_CNI_EGRESS_IPAM_DIR", parseAbsolutePath, ipFamily === "ipv6" ? "/run/cni/v6pd/egress-v4-ipam" : "/run/cni/v4pd/egress-v6-ipam"),
  };
}

/** Rules that tie variables together, judged on their effective values. */
function checkAcrossVariables(r: ConfigReader, config: AgentConfig): void {
  const { ipFamily, enableIpv4, enableIpv6, pool, eni, paths, observability } = config;
  const shown = (name: string, value: number | boolean | string) => ({ variable: name, value: String(value) });
  // A rule over a variable already refused would judge its default, not what the operator wrote.
  const refused = new Set(r.errors.map((e) => e.variable));
  const allAccepted = (...names: string[]) => names.every((name) => !refused.has(name));
  if (
    ipFamily === "ipv4" &&
    allAccepted("ENABLE_PREFIX_DELEGATION", "WARM_PREFIX_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "ENABLE_IPv4", "ENABLE_IPv6") &&
    pool.prefixDelegation && pool.warmIpTarget === 0 && pool.warmPrefixTarget === 0 && pool.minimumIpTarget === 0) {
    // aws-node compares these as strings ("00" passes, "-1" fails); here they are numbers.
    r.refuse("ENABLE_PREFIX_DELEGATION", "true only with WARM_PREFIX_TARGET, WARM_IP_TARGET or MINIMUM_IP_TARGET above 0: with all three 0 the pool would never grow", [
      shown("WARM_PREFIX_TARGET", pool.warmPrefixTarget),
      shown("WARM_IP_TARGET", pool.warmIpTarget),
      shown("MINIMUM_IP_TARGET", pool.minimumIpTarget),
    ]);
  }
  if (enableIpv6 && !enableIpv4 && allAccepted("ENABLE_IPv4", "ENABLE_IPv6")) {
    if (!pool.prefixDelegation) r.refuse("ENABLE_PREFIX_DELEGATION", "true when ENABLE_IPv6 is true: IPv6 pods get addresses from /80 prefixes", [shown("ENABLE_IPv6", true)]);
    if (eni.customNetworking) r.refuse("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false when ENABLE_IPv6 is true: custom networking is IPv4 only", [shown("ENABLE_IPv6", true)]);
    if (eni.customNetworkingByTags) r.refuse("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS", "false when ENABLE_IPv6 is true: custom networking is IPv4 only", [shown("ENABLE_IPv6", true)]);
  }
  if (eni.customNetworking && eni.customNetworkingByTags && allAccepted("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS")) {
    r.refuse("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS", "false when AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG is true: ENIConfigs or tags choose the pods' subnets, not both", [shown("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", true)]);
  }
  const introspection = observability.introspectionBind;
  const metrics = observability.metricsBind;
  if (introspection !== null && metrics !== null && sameListener(introspection, metrics)) {
    r.refuse("VPC_CNI_METRICS_BIND_ADDRESS", "an address other than the introspection endpoint's", [
      shown("INTROSPECTION_BIND_ADDRESS", formatBindAddress(introspection)),
    ]);
  }
  const files = [
    ["AWS_VPC_K8S_CNI_BACKING_STORE", paths.backingStore],
    ["VPC_CNI_SOCKET", paths.socketPath],
  ] as const;
  const socketFile = introspection?.kind === "unix" ? introspection.path : undefined;
  if (paths.backingStore === paths.socketPath) r.refuse(files[1][0], "a path other than the checkpoint's", [shown(files[0][0], files[0][1])]);
  if (socketFile !== undefined && (socketFile === paths.socketPath || socketFile === paths.backingStore)) {
    r.refuse("INTROSPECTION_BIND_ADDRESS", "a unix socket path other than the RPC socket's and the checkpoint's", [shown(files[1][0], files[1][1])]);
  }
}

/** Variables that are set but have no effect with the others, or that the agent does not know. */
function warnAboutUnusedVariables(r: ConfigReader, config: AgentConfig): void {
  const { pool, hostNetwork, eni } = config;
  const targets = pool.warmIpTarget > 0 || pool.minimumIpTarget > 0;
  if (config.ipFamily === "ipv6") {
    const poolVariables = ["WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET", "MAX_ENI"].filter((name) => r.isSet(name));
    if (poolVariables.length > 0) r.warnings.push(`${poolVariables.join(", ")} ${poolVariables.length === 1 ? "has" : "have"} no effect with ENABLE_IPv6: one /80 on the primary ENI serves every pod, there is no warm pool`);
  } else {
    if (r.isSet("WARM_ENI_TARGET") && (targets || pool.prefixDelegation)) {
      r.warnings.push(`WARM_ENI_TARGET has no effect ${targets ? "while WARM_IP_TARGET or MINIMUM_IP_TARGET is set" : "with prefix delegation"}`);
    }
    if (r.isSet("WARM_PREFIX_TARGET") && !pool.prefixDelegation) r.warnings.push("WARM_PREFIX_TARGET has no effect without ENABLE_PREFIX_DELEGATION");
    else if (r.isSet("WARM_PREFIX_TARGET") && targets) r.warnings.push("WARM_PREFIX_TARGET has no effect while WARM_IP_TARGET or MINIMUM_IP_TARGET is set");
  }
  if (hostNetwork.externalSnat && hostNetwork.excludeSnatCidrs.length > 0) r.warnings.push("AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS has no effect with AWS_VPC_K8S_CNI_EXTERNALSNAT=true");
  if (hostNetwork.podMtu > hostNetwork.eniMtu) r.warnings.push(`POD_MTU ${hostNetwork.podMtu} is above AWS_VPC_ENI_MTU ${hostNetwork.eniMtu}: pods' large packets will be dropped or fragmented`);
  if (config.ipFamily === "ipv6" && r.isSet("ENABLE_V6_EGRESS")) r.warnings.push("ENABLE_V6_EGRESS has no effect on IPv6 nodes (IPv6 is the pods' own family)");
  if (config.ipFamily === "ipv4" && r.isSet("ENABLE_V4_EGRESS")) r.warnings.push("ENABLE_V4_EGRESS has no effect on IPv4 nodes (IPv4 is the pods' own family)");
  if (eni.imdsOnlyMode) r.warnings.push("ENABLE_IMDS_ONLY_MODE: no EC2 changes and no leaked-ENI clean-up");
  for (const name of DEPRECATED_NO_OPS) if (r.isSet(name)) r.warnings.push(`${name} is deprecated and has no effect`);
  const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
  for (const name of Object.keys(r.env)) {
    if (name.startsWith("VPC_CNI_") && !known.has(name) && !OTHER_OWN_VARIABLES.has(name)) r.warnings.push(`${name} is not a variable vpc-cni-agent knows; ignored`);
  }
}

function parseConnmark(text: string): Parsed<number> {
  const value = parseGoInteger(text);
  if (value === undefined || value < 1 || value > CONNMARK_MAX) return { ok: false, allowed: "an integer 1..0xffffffff, in decimal, 0x hex or 0 octal (e.g. 0x80)" };
  return { ok: true, value };
}

function parseVethPrefix(text: string): Parsed<string> {
  const allowed = `1..${VETH_PREFIX_MAX} characters among letters, digits, "_", "." and "-", other than ${RESERVED_VETH_PREFIXES.join(", ")}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(text) || text.length > VETH_PREFIX_MAX || RESERVED_VETH_PREFIXES.includes(text)) return { ok: false, allowed };
  return { ok: true, value: text };
}

function parseFileMode(text: string): Parsed<number> {
  if (!/^0?[0-7]{3}$/.test(text)) return { ok: false, allowed: 'an octal file mode such as "0600" or "0660"' };
  return { ok: true, value: Number.parseInt(text, 8) };
}

function parseClusterName(text: string): Parsed<string> {
  // It becomes part of a subnet tag key (cni.networking.k8s.aws/cluster/<name>), which EC2 caps at
  // 128 characters; EKS names are 1..100 of these characters.
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(text)) return { ok: false, allowed: 'a cluster name: 1..100 letters, digits, "-" or "_", starting with a letter or digit' };
  return { ok: true, value: text };
}

function sameListener(a: BindAddress, b: BindAddress): boolean {
  if (a.kind === "unix" || b.kind === "unix") return a.kind === b.kind && formatBindAddress(a) === formatBindAddress(b);
  if (a.port !== b.port) return false;
  // An all-interfaces listener takes the port on every address.
  const wildcard = (host: string) => host === "" || host === "0.0.0.0" || host === "::";
  return a.host === b.host || wildcard(a.host) || wildcard(b.host);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** One message for every refused variable, for the log line and the exit message at start-up. */
export function formatConfigErrors(errors: readonly ConfigError[]): string {
  const lines = errors.map((error) => {
    const others = error.with === undefined || error.with.length === 0 ? "" : ` (with ${error.with.map((w) => `${w.variable}=${JSON.stringify(w.value)}`).join(", ")})`;
    const given = error.value === "" ? "unset" : JSON.stringify(error.value);
    return `  ${error.variable}=${given}${others}: allowed: ${error.allowed}`;
  });
  const count = errors.length === 1 ? "1 variable" : `${errors.length} variables`;
  return `invalid configuration, ${count} refused:\n${lines.join("\n")}`;
}

/** A Kubernetes object name: lowercase letters, digits, '-' and (for subdomains) '.', starting and ending alphanumeric. */
function parseKubeName(text: string, max: 63 | 253): Parsed<string> {
  const label = max === 63 ? /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/ : /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
  if (text.length <= max && label.test(text)) return { ok: true, value: text };
  return { ok: false, allowed: `a Kubernetes name (lowercase letters, digits${max === 253 ? ", '.'" : ""} and '-', at most ${max} characters)` };
}

function parseHttpUrl(text: string): Parsed<string> {
  try {
    const url = new URL(text);
    if ((url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "") return { ok: true, value: text.replace(/\/+$/, "") };
  } catch {
    // not a URL
  }
  return { ok: false, allowed: "an http(s) URL, e.g. https://ABCD.gr7.us-east-1.eks.amazonaws.com" };
}
