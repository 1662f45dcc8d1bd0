// What the introspection endpoints show, built from the datastore, the agent and its configuration.

import type { AgentConfig } from "./config.ts";
import type { Datastore } from "./datastore/datastore.ts";
import type { NodeAgent } from "./node-agent.ts";
import type { AgentLifecycle } from "./lifecycle.ts";
import type { IntrospectionSource, JsonValue } from "./observability/introspection.ts";
import type { RequestBudget } from "../aws/request-budget.ts";
import type { CidrSnapshot } from "./datastore/datastore.ts";

/** One CIDR as /v1/enis shows it. */
function cidrView(c: CidrSnapshot) {
  return {
    cidr: c.cidr,
    isPrefix: c.isPrefix,
    addresses: c.addresses.map((a) => ({
      address: a.address,
      networkName: a.key?.networkName ?? "",
      podNamespace: a.metadata?.k8sPodNamespace ?? "",
      podName: a.metadata?.k8sPodName ?? "",
      interfacesCount: a.metadata?.interfacesCount ?? 0,
      assignedAt: a.assignedAtNs === undefined ? null : Number(a.assignedAtNs / 1_000_000n),
      unassignedAt: a.releasedAtMs ?? null,
    })),
  };
}

export function introspectionSource(o: {
  config: AgentConfig;
  datastore: Datastore;
  agent: NodeAgent;
  budget: RequestBudget;
  version: string;
  lifecycle: AgentLifecycle;
  now: () => number;
  /** The node's ENIConfig name from the API server; null while the Node is unknown (then 404, as aws-node). */
  eniConfigName?: () => string | null;
}): IntrospectionSource {
  const { config, datastore, agent, budget } = o;
  let lastPlanAt: number | null = null;
  let lastPlan: unknown;
  return {
    networkCards() {
      const snap = datastore.snapshot();
      return [
        {
          networkCard: 0,
          totalIps: snap.stats.totalIPs,
          assignedIps: snap.stats.assignedIPs,
          enis: snap.enis.map((e) => ({
            id: e.id,
            isPrimary: e.isPrimary,
            isTrunk: e.isTrunk,
            isEfa: e.isEFA,
            deviceNumber: e.deviceNumber,
            routeTableId: e.routeTableId,
            subnetId: e.subnetId,
            isExcludedForPodIps: e.isExcluded,
            // The reference's ENI keeps IPv6 prefixes apart (IPv6Cidrs): an IPv6 node's /80 is there.
            ipv4Cidrs: e.cidrs.filter((c) => c.family === "4").map(cidrView),
            ipv6Cidrs: e.cidrs.filter((c) => c.family === "6").map(cidrView),
          })),
        },
      ];
    },
    eniConfigName: () => o.eniConfigName?.() ?? null,
    networkUtilsSettings: () => config.hostNetwork,
    ipamdSettings: () => ({
      warmIpTarget: config.pool.warmIpTarget,
      warmEniTarget: config.pool.warmEniTarget,
      customNetworking: config.eni.customNetworking,
      manageEnisNonSchedulable: config.pool.manageEnisNonSchedulable,
      subnetDiscovery: config.eni.subnetDiscovery,
    }),
    pool() {
      const snap = datastore.snapshot();
      const plan = agent.pool.lastPlan;
      if (plan !== lastPlan) {
        lastPlan = plan;
        lastPlanAt = o.now();
      }
      const limits = agent.poolLimits();
      const targets = agent.pool.targets;
      return {
        stats: {
          total: snap.stats.totalIPs,
          assigned: snap.stats.assignedIPs,
          cooldown: snap.stats.cooldownIPs,
          available: snap.stats.availableIPs,
          prefixes: snap.stats.totalPrefixes,
          freePrefixes: snap.stats.freePrefixes,
          enis: snap.enis.length,
          waiting: agent.pool.waiting,
        },
        // The pool's own targets (what every pass plans for), in the units aws-node's variables use.
        targets: {
          prefixDelegation: targets.prefixDelegation,
          warmEniTarget: targets.warmEniTarget,
          warmIpTarget: targets.warmIpTarget,
          minimumIpTarget: targets.minimumIpTarget,
          warmPrefixTarget: targets.warmPrefixTarget,
          maxEni: targets.maxEni ?? -1,
          ipCooldownSeconds: targets.ipCooldownMs / 1000,
          instanceEnis: limits.enis,
          ipv4PerEni: limits.ipv4PerEni,
          maxPods: limits.maxPods,
          unmanagedEnis: limits.unmanagedEnis,
        },
        lastPlan: plan === undefined ? null : (JSON.parse(JSON.stringify(plan)) as JsonValue),
        lastPlanAt: plan === undefined ? null : lastPlanAt,
        growthPausedUntil: budget.growthPausedUntil() ?? null,
        growthPauseReason: budget.growthPauseReason() ?? "",
      };
    },
    health() {
      const h = o.lifecycle;
      return { status: h.status, detail: h.detail, version: o.version, startedAt: h.startedAt, checks: {} };
    },
  };
}
