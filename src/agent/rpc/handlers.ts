// The agent's answers to the plugin's calls (src/ipam-rpc): each call's request goes to the node agent
// in the datastore's terms (an IPAM key and the pod), and what the datastore hands out comes back as the
// call's reply.

import { allocateReply, gcReply, releaseReply, RpcError, type PodAddress } from "../../ipam-rpc/protocol.ts";
import type { AgentConfig } from "../config.ts";
import type { Allocation, Datastore } from "../datastore/datastore.ts";
import type { AgentLifecycle } from "../lifecycle.ts";
import type { NodeAgent } from "../node-agent.ts";
import type { Log } from "../../log/log.ts";
import { NoAddressError, ShuttingDownError } from "../pool-manager.ts";
import type { RequestBudget } from "../../aws/request-budget.ts";
import type { RpcHandlers } from "./server.ts";

export interface AgentRpcHandlerOptions {
  readonly agent: NodeAgent;
  readonly datastore: Datastore;
  readonly config: AgentConfig;
  readonly lifecycle: AgentLifecycle;
  readonly budget: Pick<RequestBudget, "growthPausedUntil" | "growthPauseReason">;
  readonly now: () => number;
  readonly log: Log;
}

export function agentRpcHandlers(o: AgentRpcHandlerOptions): RpcHandlers {
  const { agent, datastore, lifecycle, budget, log } = o;
  const host = o.config.hostNetwork;
  return {
    // CNI STATUS asks this: ready means an ADD can get an address now or by growing the pool.
    health: () => {
      if (lifecycle.status !== "serving") return { serving: false, detail: lifecycle.detail };
      if (datastore.stats().availableIPs > 0) return { serving: true };
      const pausedUntil = budget.growthPausedUntil() ?? 0;
      if (pausedUntil > o.now()) return { serving: false, detail: `no address available and growth is paused: ${budget.growthPauseReason() ?? ""}` };
      const plan = agent.pool.lastPlan;
      if (plan && plan.unmet > 0 && plan.assign.length === 0 && plan.createEnis.length === 0) return { serving: false, detail: `no address available: ${plan.reason}` };
      return { serving: true };
    },
    allocate: async (r) => {
      if (lifecycle.status === "shutting-down") throw new RpcError("shutting-down", "the agent is shutting down");
      try {
        const got = await agent.allocate(
          { networkName: r.networkName, containerID: r.containerId, ifName: r.ifName },
          { k8sPodNamespace: r.podNamespace, k8sPodName: r.podName, k8sPodUID: r.podUid },
        );
        return allocateReply({
          addresses: [podAddress(got)],
          useExternalSnat: host.externalSnat,
          vpcV4Cidrs: [...agent.vpcCidrs, ...host.excludeSnatCidrs],
          vpcV6Cidrs: agent.ipv6?.vpcIpv6Cidrs ?? [],
        });
      } catch (err) {
        if (err instanceof NoAddressError) throw new RpcError("no-address", err.message);
        if (err instanceof ShuttingDownError) throw new RpcError("shutting-down", err.message);
        throw err;
      }
    },
    gc: async (r) => {
      // CNI GC: every allocation of this network the runtime no longer lists is released.
      const valid = new Set(r.validAttachments.map((a) => `${a.containerId}\u0000${a.ifName}`));
      const released = [];
      for (const a of datastore.allocations()) {
        if (a.key.networkName !== r.networkName || valid.has(`${a.key.containerID}\u0000${a.key.ifName}`)) continue;
        const got = agent.release(a.key);
        if (got) released.push(podAddress(got));
      }
      if (released.length > 0) log("info", `GC released ${released.length} allocations of network ${r.networkName}`, { addresses: released.map((a) => a.ipv4Addr || a.ipv6Addr) });
      return gcReply(released);
    },
    release: async (r) => {
      const got = agent.release({ networkName: r.networkName, containerID: r.containerId, ifName: r.ifName });
      return releaseReply({ addresses: got ? [podAddress(got)] : [] });
    },
  };
}

function podAddress(a: Allocation): PodAddress {
  const v6 = a.family === "6";
  return { ipv4Addr: v6 ? "" : a.address, ipv6Addr: v6 ? a.address : "", deviceNumber: a.deviceNumber, routeTableId: a.routeTableId };
}
