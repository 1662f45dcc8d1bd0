// The agent's host networking, from its configuration: node-level rules and chains, per-ENI tables,
// and the link check the checkpoint restore uses. Runs in the agent's own network namespace.

import type { AgentConfig } from "./config.ts";
import type { AgentHost, EniView, NodeIdentity } from "./node-agent.ts";
import { setupEniNetwork, setupNodeNetwork, teardownEniNetwork, updateVpcCidrs, type LinkWait } from "../datapath/index.ts";
import { listLinks } from "../datapath/ip.ts";

/** An attached ENI shows up on the node within seconds; the reference waits 5 x 3 s. Poll faster. */
const ENI_LINK_WAIT: LinkWait = { attempts: 60, intervalMs: 250 };

/** The agent's host, plus what the VPC-CIDR watcher needs: the SNAT and connmark rules rebuilt for a new CIDR set. */
export interface NodeHost extends AgentHost {
  updateVpcCidrs(identity: NodeIdentity, vpcCidrs: readonly string[]): Promise<void>;
}

export function makeHost(config: AgentConfig): NodeHost {
  const net = config.hostNetwork;
  const nodeOptions = (identity: NodeIdentity, vpcCidrs: readonly string[]) => ({
    primaryMac: identity.primaryMac,
    primaryIp: identity.primaryIp,
    vpcCidrs,
    mtu: net.eniMtu,
    externalSnat: net.externalSnat,
    excludeSnatCidrs: net.excludeSnatCidrs,
    randomizeSnat: net.randomizeSnat,
    connmark: net.connmark,
    nodePortSupport: net.nodePortSupport,
    externalServiceCidrs: net.externalServiceCidrs,
    vethPrefix: net.vethPrefix,
    ipv6: config.ipFamily === "ipv6",
    // Without a node IPv6 address the conflist disables IPv6 egress; the node is set up for it anyway.
    v6Egress: config.ipFamily === "ipv4" && config.cniChain.v6Egress,
  });
  return {
    async setupNode(identity: NodeIdentity, vpcCidrs: readonly string[]) {
      await setupNodeNetwork(nodeOptions(identity, vpcCidrs));
    },
    async updateVpcCidrs(identity: NodeIdentity, vpcCidrs: readonly string[]) {
      await updateVpcCidrs(nodeOptions(identity, vpcCidrs));
    },
    async setupEni(eni: EniView) {
      await setupEniNetwork({
        mac: eni.mac,
        deviceNumber: eni.deviceNumber,
        networkCard: eni.networkCard,
        primaryIp: eni.primaryIp,
        subnetCidr: eni.subnetCidr,
        mtu: net.eniMtu,
        linkWait: ENI_LINK_WAIT,
      });
    },
    async teardownEni(eni: EniView) {
      await teardownEniNetwork({ mac: eni.mac, deviceNumber: eni.deviceNumber, networkCard: eni.networkCard, primaryIp: eni.primaryIp, subnetCidr: eni.subnetCidr });
    },
    async vethExists(_name: string, suffix: string) {
      // As the reference: any link ending in the pod's hash counts, whatever its prefix, so changing
      // AWS_VPC_K8S_CNI_VETHPREFIX does not prune every pod.
      return (await listLinks({})).some((l) => l.ifname.endsWith(suffix));
    },
  };
}
