// Test support: hand-built snapshots for exact-plan tests.

import type { CidrSnapshot, EniSnapshot } from "./types.ts";
import { MINUTE, SECOND } from "./simulated-node.test-support.ts";

export const NOW = Date.UTC(2025, 0, 1, 12);

/**
 * `count` /32s on ENI number `eni` (10.0.<eni>.<n>): the first `assigned` held by pods, the next `cooling`
 * released a second ago, the next `cooled` released long ago.
 */
export function ips(eni: number, count: number, assigned = 0, cooling = 0, cooled = 0): CidrSnapshot[] {
  return Array.from({ length: count }, (_, i) => ({
    cidr: `10.0.${eni}.${i + 10}/32`,
    isPrefix: false,
    size: 1,
    assigned: i < assigned ? 1 : 0,
    unassignedAt:
      i >= assigned && i < assigned + cooling
        ? [NOW - SECOND]
        : i >= assigned + cooling && i < assigned + cooling + cooled
          ? [NOW - 10 * MINUTE]
          : [],
  }));
}

/** One /28 per entry of `held` on ENI number `eni` (10.<eni>.<n*16>): that many addresses held. */
export function prefixes(eni: number, held: readonly number[], cooling: readonly number[] = []): CidrSnapshot[] {
  return held.map((assigned, i) => ({
    cidr: `10.${eni}.0.${i * 16}/28`,
    isPrefix: true,
    size: 16,
    assigned,
    unassignedAt: Array.from({ length: cooling[i] ?? 0 }, () => NOW - SECOND),
  }));
}

export function eni(
  id: string,
  deviceNumber: number,
  cidrs: readonly CidrSnapshot[],
  options: Partial<Omit<EniSnapshot, "id" | "deviceNumber" | "cidrs">> = {},
): EniSnapshot {
  return {
    id,
    deviceNumber,
    primary: deviceNumber === 0,
    trunk: false,
    efa: false,
    excluded: false,
    createdAt: NOW - 10 * MINUTE,
    cidrs,
    ...options,
  };
}
