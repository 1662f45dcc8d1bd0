// The agent's environment variables: name, default and meaning. The loader takes every default from
// this table (parsing the text below with the variable's own parser), so what `--help` prints is what
// the agent does. Defaults written as "$NAME..." are derived from another variable by the loader.

export type ConfigVariable = {
  readonly name: string;
  readonly default: string;
  readonly meaning: string;
  /** "reference": same name and meaning as in aws-node; "vpc-cni": ours. */
  readonly origin: "reference" | "vpc-cni";
};

const ref = (name: string, defaultText: string, meaning: string): ConfigVariable => ({ name, default: defaultText, meaning, origin: "reference" });
const own = (name: string, defaultText: string, meaning: string): ConfigVariable => ({ name, default: defaultText, meaning, origin: "vpc-cni" });

export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze([
  // Warm pool
  ref("WARM_ENI_TARGET", "1", "Keep this many ENIs' worth of free addresses. Ignored when WARM_IP_TARGET or MINIMUM_IP_TARGET is >0, and with prefix delegation."),
  ref("WARM_IP_TARGET", "0", "Free addresses to keep (0 = unset). Overrides WARM_ENI_TARGET and WARM_PREFIX_TARGET."),
  ref("MINIMUM_IP_TARGET", "0", "Floor on the total number of addresses (0 = unset). With it set and WARM_IP_TARGET unset, the warm-IP target is 0."),
  ref("WARM_PREFIX_TARGET", "1", "Prefix delegation only: free /28 prefixes to keep. The default is the aws-node manifest's (its code's is 0)."),
  ref("ENABLE_PREFIX_DELEGATION", "false", "Assign /28 prefixes to ENIs instead of secondary addresses (Nitro and bare-metal instances). Needs WARM_PREFIX_TARGET, WARM_IP_TARGET or MINIMUM_IP_TARGET >0."),
  ref("MAX_ENI", "-1", "Use at most this many ENIs (including the primary); -1 = the instance type's limit."),
  ref("IP_COOLDOWN_PERIOD", "30", "Seconds after a pod's deletion before its address is reused or returned to EC2."),
  own("VPC_CNI_MIN_ENI_AGE", "60", "Seconds an ENI stays attached at least before it may be freed (aws-node's fixed minENILifeTime)."),
  own("VPC_CNI_SHRINK_INTERVAL", "30", "Seconds between pool passes that give addresses or ENIs back to EC2, against assign/unassign churn (aws-node: 30, fixed)."),
  own("VPC_CNI_ALLOCATION_WAIT", "20", "Seconds an ADD on an empty pool waits for the growth it triggers before it answers 'no address' (aws-node fails at once)."),
  own("VPC_CNI_GROWTH_PAUSE", "120", "Seconds pool growth pauses after EC2 says the subnet is out of addresses (InsufficientFreeAddressesInSubnet, InsufficientCidrBlocks); allocations the pool cannot serve meanwhile get 'no address' at once (aws-node: 120, fixed)."),
  own("VPC_CNI_RECONCILE_INTERVAL", "60", "Seconds between comparisons of the agent's ENIs and addresses with instance metadata and EC2 (aws-node: 60)."),
  ref("AWS_MANAGE_ENIS_NON_SCHEDULABLE", "false", "If false, a node tainted node.kubernetes.io/unschedulable:NoSchedule gets no ENI or address changes."),
  // EC2 resources
  ref("DISABLE_NETWORK_RESOURCE_PROVISIONING", "false", "Make no EC2 changes (no tagging, no pool growth or shrink); use the ENIs and addresses already on the node."),
  ref("ENABLE_IMDS_ONLY_MODE", "false", "Read ENIs from instance metadata only; implies DISABLE_NETWORK_RESOURCE_PROVISIONING and DISABLE_LEAKED_ENI_CLEANUP."),
  ref("DISABLE_LEAKED_ENI_CLEANUP", "false", "Do not delete leaked ENIs (also off with IPv6, DISABLE_NETWORK_RESOURCE_PROVISIONING and ENABLE_IMDS_ONLY_MODE)."),
  ref("CLUSTER_NAME", "", "Cluster name: tags cluster.k8s.amazonaws.com/name and eks:eni:owner on new ENIs; scopes leaked-ENI clean-up and subnet discovery."),
  ref("ADDITIONAL_ENI_TAGS", "{}", 'JSON object of extra tags for new ENIs, e.g. {"team":"net"}. Keys containing k8s.amazonaws.com or starting with aws: are refused.'),
  ref("MANAGE_UNTAGGED_ENI", "true", "If false, ENIs without this node's node.k8s.amazonaws.com/instance_id tag are left alone."),
  ref("ENABLE_SUBNET_DISCOVERY", "true", "Choose the subnet of new ENIs among subnets tagged kubernetes.io/role/cni in the node's VPC and zone."),
  // Custom networking and security groups for pods
  ref("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false", "Create secondary ENIs in the subnet and security groups of the node's ENIConfig; the primary ENI gets no pod addresses."),
  own("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_BY_TAGS", "false", "Custom networking with no ENIConfigs: secondary ENIs go to the subnets of the node's zone tagged kubernetes.io/role/cni (most free addresses first) with the security groups tagged kubernetes.io/role/cni (else the primary ENI's); the primary ENI gets no pod addresses. Excludes AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG."),
  ref("ENI_CONFIG_LABEL_DEF", "k8s.amazonaws.com/eniConfig", "Node label holding the ENIConfig name (e.g. topology.kubernetes.io/zone)."),
  ref("ENI_CONFIG_ANNOTATION_DEF", "k8s.amazonaws.com/eniConfig", "Node annotation holding the ENIConfig name."),
  ref("ENABLE_POD_ENI", "false", "Security groups for pods: advertise the SecurityGroupsForPods feature on the node's CNINode."),
  ref("POD_SECURITY_GROUP_ENFORCING_MODE", "strict", "strict or standard: how traffic of pods with their own security groups is routed."),
  // Address family
  ref("ENABLE_IPv4", "true", "IPv4 pods. Exactly one of ENABLE_IPv4 and ENABLE_IPv6 must be true (aws-node's code defaults this to false; its manifest to true)."),
  ref("ENABLE_IPv6", "false", "IPv6 pods: one /80 prefix on the primary ENI, no warm pool, no further ENIs. Needs ENABLE_PREFIX_DELEGATION=true, ENABLE_IPv4=false and a Nitro or bare-metal instance; no custom networking."),
  ref("ENABLE_V4_EGRESS", "true", "IPv6 nodes: egress-cni gives each pod an IPv4 address from 169.254.172.0/22 and SNATs its IPv4 traffic to the node's IPv4 address."),
  ref("ENABLE_V6_EGRESS", "false", "IPv4 nodes: egress-cni gives each pod an IPv6 address from fd00::ac:00/118 and SNATs its IPv6 traffic to the node's IPv6 address (a node without one gets it disabled, with a warning)."),
  // The conflist's chain
  ref("ENABLE_BANDWIDTH_PLUGIN", "false", "Chain the bandwidth plugin (kubernetes.io/ingress-bandwidth and egress-bandwidth) after portmap."),
  own("VPC_CNI_EGRESS_IPAM_DIR", "/run/cni/v6pd/egress-v4-ipam (IPv6) or /run/cni/v4pd/egress-v6-ipam (IPv4)", "egress-cni's address allocator directory (the conflist's ipam.dataDir); aws-node's fixed paths by default. Give each node its own when several share a machine."),
  ref("DISABLE_POD_V6", "false", "Chain the tuning plugin to turn IPv6 off in every pod's namespace."),
  // Host networking
  ref("AWS_VPC_K8S_CNI_EXTERNALSNAT", "false", "If true, the node does not SNAT pod traffic leaving the VPC (a NAT gateway does)."),
  ref("AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS", "", "Comma-separated IPv4 CIDRs that pod traffic reaches without SNAT, like the VPC's own CIDRs."),
  ref("AWS_VPC_K8S_CNI_RANDOMIZESNAT", "prng", "Source-port randomisation of the SNAT rule: prng (--random-fully), hashrandom (--random) or none."),
  ref("AWS_VPC_K8S_CNI_CONNMARK", "0x80", "Connection mark for traffic that must leave through the primary ENI; 1..0xffffffff, decimal, 0x hex or 0 octal."),
  ref("AWS_VPC_CNI_NODE_PORT_SUPPORT", "true", "Mark NodePort connections arriving on the primary ENI so pods' replies leave the same way."),
  ref("AWS_EXTERNAL_SERVICE_CIDRS", "", "Comma-separated IPv4 CIDRs always routed through the main table (ip rule priority 1535)."),
  ref("AWS_VPC_ENI_MTU", "9001", "MTU of the ENI links: 576..9001 (IPv4) or 1280..9001 (IPv6)."),
  ref("POD_MTU", "$AWS_VPC_ENI_MTU", "MTU of pod interfaces; same range as AWS_VPC_ENI_MTU."),
  ref("AWS_VPC_K8S_CNI_VETHPREFIX", "eni", "Prefix of host-side pod veth names: 1..4 characters (letters, digits, _ . -), not eth, lo or vlan."),
  // Files, sockets, endpoints
  ref("AWS_VPC_K8S_CNI_BACKING_STORE", "$VPC_CNI_STATE_DIR/ipam.json", "Checkpoint file of the address assignments."),
  own("VPC_CNI_STATE_DIR", "/var/run/aws-node", "Directory of the agent's run-time state; moves the checkpoint and the socket unless they are set themselves. Give each agent its own to run several on one machine."),
  own("VPC_CNI_SOCKET", "$VPC_CNI_STATE_DIR/ipamd.sock", "Unix socket on which the agent serves the CNI plugin."),
  own("VPC_CNI_SOCKET_MODE", "0600", "File mode of that socket, in octal."),
  own("VPC_CNI_BIN_DIR", "/opt/cni/bin", "CNI plugin directory the plugin is installed into (HOST_CNI_BIN_PATH is read too if this is unset)."),
  own("VPC_CNI_CONF_DIR", "/etc/cni/net.d", "CNI configuration directory the conflist is written to (HOST_CNI_CONFDIR_PATH is read too if this is unset)."),
  ref("HOST_CNI_BIN_PATH", "$VPC_CNI_BIN_DIR", "aws-node's name for the CNI plugin directory; VPC_CNI_BIN_DIR wins if both are set."),
  ref("HOST_CNI_CONFDIR_PATH", "$VPC_CNI_CONF_DIR", "aws-node's name for the CNI configuration directory; VPC_CNI_CONF_DIR wins if both are set."),
  ref("INTROSPECTION_BIND_ADDRESS", "127.0.0.1:61679", "Listen address of the introspection HTTP endpoints: HOST:PORT or unix:/path."),
  ref("DISABLE_INTROSPECTION", "false", "Turn off the introspection endpoints."),
  own("VPC_CNI_METRICS_BIND_ADDRESS", ":61678", "Listen address of the Prometheus metrics (aws-node always uses :61678, every interface): HOST:PORT, :PORT or unix:/path."),
  ref("DISABLE_METRICS", "false", "Turn off the metrics endpoint."),
  // Logs
  own("VPC_CNI_LOG_DIR", "/var/log/aws-routed-eni", "Directory of the default log files."),
  ref("AWS_VPC_K8S_CNI_LOGLEVEL", "Debug", "Agent log level: debug, info, warn, error or fatal (any case)."),
  ref("AWS_VPC_K8S_CNI_LOG_FILE", "$VPC_CNI_LOG_DIR/ipamd.log", "Agent log: stdout, stderr or an absolute file path."),
  ref("AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "Debug", "Plugin log level: debug, info, warn, error or fatal (any case)."),
  ref("AWS_VPC_K8S_PLUGIN_LOG_FILE", "$VPC_CNI_LOG_DIR/plugin.log", "Plugin log: stderr or an absolute file path (not stdout, which carries the CNI protocol)."),
  ref("AWS_VPC_K8S_EGRESS_V4_PLUGIN_LOG_FILE", "$VPC_CNI_LOG_DIR/egress-v4-plugin.log", "egress-cni's log on IPv6 nodes: stderr or an absolute file path."),
  ref("AWS_VPC_K8S_EGRESS_V6_PLUGIN_LOG_FILE", "$VPC_CNI_LOG_DIR/egress-v6-plugin.log", "egress-cni's log on IPv4 nodes with ENABLE_V6_EGRESS: stderr or an absolute file path."),
  // Kubernetes
  ref("MY_NODE_NAME", "", "This node's Kubernetes name (downward API); without it the agent runs without the Kubernetes API."),
  ref("MY_POD_NAME", "", "The agent's own pod (downward API): its events (MissingIAMPermissions, address exhaustion) are about it."),
  own("MY_POD_NAMESPACE", "kube-system", "The namespace of that pod (downward API)."),
  ref("CLUSTER_ENDPOINT", "", "The API server's URL, used instead of the in-cluster service address (e.g. before kube-proxy has programmed it). The API is reached through KUBECONFIG when set, else the pod's service account."),
]);

const BY_NAME = new Map(CONFIG_VARIABLES.map((variable) => [variable.name, variable]));

export function configVariable(name: string): ConfigVariable {
  const variable = BY_NAME.get(name);
  if (variable === undefined) throw new Error(`internal: ${name} is not in CONFIG_VARIABLES`);
  return variable;
}

/** The table `vpc-cni-agent --help` prints, wrapped to `width` columns. */
export function formatConfigHelp(width = 100): string {
  const nameWidth = Math.max(...CONFIG_VARIABLES.map((v) => v.name.length));
  const indent = " ".repeat(nameWidth + 2);
  const lines = ["Environment variables (default in brackets; * = vpc-cni's own, not in aws-node):", ""];
  for (const variable of CONFIG_VARIABLES) {
    const text = `${variable.meaning} [${variable.default === "" ? "unset" : variable.default}]${variable.origin === "vpc-cni" ? " *" : ""}`;
    const wrapped = wrap(text, Math.max(30, width - indent.length));
    wrapped.forEach((line, i) => lines.push(`${i === 0 ? variable.name.padEnd(nameWidth + 2) : indent}${line}`));
  }
  return lines.join("\n") + "\n";
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
