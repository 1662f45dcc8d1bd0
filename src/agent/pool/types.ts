// The warm-pool policy's vocabulary: a plain snapshot of the node's ENIs going in, a plan of EC2 actions
// coming out. Nothing here knows about AWS clients, Kubernetes or clocks, so the datastore can build a
// snapshot cheaply and tests can simulate EC2 by applying plans by hand.

/** One secondary /32 or /28 prefix on an ENI, as the datastore sees it. */
export interface CidrSnapshot {
  /** "10.0.1.5/32" for a secondary address, "10.0.2.0/28" for a prefix. */
  readonly cidr: string;
  readonly isPrefix: boolean;
  /** Addresses in the CIDR: 1 for a /32, 16 for a /28. */
  readonly size: number;
  /** Addresses held by pods. */
  readonly assigned: number;
  /**
   * Unassign times (ms since the epoch) of the addresses that are free now and were held by a pod before.
   * Addresses never assigned are left out; entries older than the cooldown may be left out too. The policy
   * counts those with `now - t < ipCooldownMs` as in cooldown.
   */
  readonly unassignedAt: readonly number[];
}

export interface EniSnapshot {
  readonly id: string;
  readonly deviceNumber: number;
  readonly primary: boolean;
  readonly trunk: boolean;
  readonly efa: boolean;
  /**
   * No pod addresses come from it (subnet tagged `kubernetes.io/role/cni=0`, or the primary ENI under custom
   * networking). It still occupies an ENI slot but is left out of the pool statistics.
   */
  readonly excluded: boolean;
  /** ms since the epoch; ENIs younger than `minEniAgeMs` are never freed. */
  readonly createdAt: number;
  readonly cidrs: readonly CidrSnapshot[];
}

/** The managed ENIs of one network card. Unmanaged ENIs are not listed; `PoolLimits` counts them. */
export interface PoolSnapshot {
  readonly enis: readonly EniSnapshot[];
  /**
   * Pod allocations waiting because no address was available. They count as already assigned, so one plan
   * covers all of them plus the warm target (concurrent demand becomes one EC2 request per ENI).
   */
  readonly waiting?: number;
}

/** The reference's target variables, already validated, plus the timing constants (the agent's PoolConfig is these and more). */
export interface PoolTargets {
  /** ENABLE_PREFIX_DELEGATION: grow with /28 prefixes instead of /32 secondary addresses. */
  readonly prefixDelegation: boolean;
  /** WARM_ENI_TARGET (default 1); used only without WARM_IP_TARGET/MINIMUM_IP_TARGET and outside PD. */
  readonly warmEniTarget: number;
  /** WARM_IP_TARGET; 0 = unset. */
  readonly warmIpTarget: number;
  /** MINIMUM_IP_TARGET; 0 = unset. */
  readonly minimumIpTarget: number;
  /** WARM_PREFIX_TARGET; PD only, used without WARM_IP_TARGET/MINIMUM_IP_TARGET. */
  readonly warmPrefixTarget: number;
  /** MAX_ENI; null (unset, or -1) and values below 1 mean "no cap beyond the instance's limit". */
  readonly maxEni: number | null;
  /** IP_COOLDOWN_PERIOD in ms: a released pod address is neither reused, counted as available nor returned. */
  readonly ipCooldownMs: number;
  /** Minimum age before an ENI may be freed (the reference's minENILifeTime, 1 min). */
  readonly minEniAgeMs: number;
}

/** What the instance (and the rest of the node) allows. */
export interface PoolLimits {
  /** Instance ENI limit on this card (instance-types.tsv `enis`). */
  readonly enis: number;
  /** IPv4 addresses per ENI including its primary address (instance-types.tsv `ipv4_per_eni`). */
  readonly ipv4PerEni: number;
  /** Kubelet's max pods; the pool never grows past it. Use Infinity for no cap. */
  readonly maxPods: number;
  /** ENIs attached to the instance on this card that the agent does not manage. */
  readonly unmanagedEnis: number;
  /** Keep one ENI slot for a trunk ENI (security groups for pods) while the snapshot has none. */
  readonly reserveTrunkSlot: boolean;
}

/** Exactly one of the two counts is set, as in EC2's AssignPrivateIpAddresses/CreateNetworkInterface. */
export type AddressRequest =
  | { readonly ipCount: number; readonly prefixCount?: undefined }
  | { readonly prefixCount: number; readonly ipCount?: undefined };

export type AssignAction = AddressRequest & { readonly eniId: string };

export type CreateEniAction = AddressRequest;

/** CIDRs to give back with one UnassignPrivateIpAddresses call: all /32s or all /28s. */
export interface ReleaseAction {
  readonly eniId: string;
  readonly prefixes: boolean;
  readonly cidrs: readonly string[];
}

/**
 * Which of the reference's target rules drives the decision.
 * - `warm-ip`: WARM_IP_TARGET and/or MINIMUM_IP_TARGET set (either mode).
 * - `warm-eni`: secondary-address mode with only WARM_ENI_TARGET.
 * - `warm-prefix`: PD with only WARM_PREFIX_TARGET.
 */
export type TargetMode = "warm-ip" | "warm-eni" | "warm-prefix";

export interface PoolStats {
  /** Addresses in the active mode's CIDRs on ENIs that are not excluded. */
  readonly total: number;
  readonly assigned: number;
  /** Free addresses still inside IP_COOLDOWN_PERIOD. */
  readonly cooldown: number;
  /** Free addresses a pod could get right now: total - assigned - cooldown. */
  readonly available: number;
  /** Active prefixes (0 outside PD). */
  readonly prefixes: number;
  /** Prefixes with no assigned and no cooling address: whole /28s that could be released. */
  readonly freePrefixes: number;
  /** Managed ENIs in the snapshot, excluded ones included (they hold a slot). */
  readonly enis: number;
}

export interface PoolPlan {
  readonly mode: TargetMode;
  /** The snapshot's statistics (waiting allocations not included). */
  readonly stats: PoolStats;
  /** Addresses missing to meet the targets (after the max-pods cap), before this plan. */
  readonly short: number;
  /** Units above target before this plan: addresses, or prefixes in PD. */
  readonly over: number;
  /** Addresses still missing if the whole plan succeeds (the ENI limit stopped growth). */
  readonly unmet: number;
  readonly assign: readonly AssignAction[];
  readonly createEnis: readonly CreateEniAction[];
  /** Perform before `assign`: it may free slots but the plan does not count on that. */
  readonly release: readonly ReleaseAction[];
  readonly freeEnis: readonly string[];
  /** One line for the log: why this plan, with the numbers behind it. */
  readonly reason: string;
}
