// The warm-pool policy: pure decisions over a snapshot of the node's ENIs. The agent builds the snapshot
// from its datastore, performs the plan against EC2 and asks again; nothing here does I/O or reads a clock.

export type {
  AddressRequest,
  AssignAction,
  CidrSnapshot,
  CreateEniAction,
  EniSnapshot,
  PoolLimits,
  PoolPlan,
  PoolSnapshot,
  PoolStats,
  PoolTargets,
  ReleaseAction,
  TargetMode,
} from "./types.ts";
export { planPool, isPlanEmpty } from "./plan.ts";
export { poolStats, coolingAddresses, isCidrReleasable } from "./stats.ts";
export { eniFillOrder, cidrFillOrder, compareFullestFirst, type FillOrderKey } from "./order.ts";
export { derivedLimits, targetMode, IPS_PER_PREFIX, type DerivedLimits } from "./targets.ts";
export { hasRoomForEni } from "./grow.ts";
