// vCPU counts estimated from instance-type names. The limits table has no vCPU column, and the one
// use of the count, the max-pods calculator's recommended cap, only asks whether an instance has
// more than 30 vCPUs. EC2 names sizes by vCPU: large = 2, xlarge = 4, Nxlarge = 4N, metal-Nxl = 4N.
// The few types that break that rule near the threshold are listed below; a plain ".metal" has the
// vCPUs of its family's largest size at least; medium and smaller have 1 or 2 (counted as 2).
// When the agent runs on the instance, DescribeInstanceTypes gives the real count; prefer that.

import type { InstanceLimitsTable } from "./instance-limits.ts";

export type VcpuEstimate = { readonly vcpus: number; readonly basis: string };

// Types whose vCPUs are not 4 per "xlarge" and whose estimate would land on the wrong side of 30.
const EXACT: Readonly<Record<string, number>> = { "hs1.8xlarge": 16 };
// Families with simultaneous multithreading off: 2 vCPUs per "xlarge" (hpc7a.12xlarge has 24).
const PER_XLARGE: Readonly<Record<string, number>> = { hpc7a: 2 };

export function estimateVcpus(instanceType: string, table: InstanceLimitsTable): VcpuEstimate | undefined {
  const exact = EXACT[instanceType];
  if (exact !== undefined) return { vcpus: exact, basis: "known exception" };
  const dot = instanceType.indexOf(".");
  if (dot < 0) return undefined;
  const family = instanceType.slice(0, dot);
  const size = instanceType.slice(dot + 1);
  const fromSize = vcpusOfSize(family, size);
  if (fromSize !== undefined) return { vcpus: fromSize, basis: `size "${size}"` };
  if (size !== "metal") return undefined;
  let largest: { vcpus: number; type: string } | undefined;
  for (const other of table.keys()) {
    if (!other.startsWith(`${family}.`) || other === instanceType) continue;
    const vcpus = vcpusOfSize(family, other.slice(dot + 1));
    if (vcpus !== undefined && (largest === undefined || vcpus > largest.vcpus)) largest = { vcpus, type: other };
  }
  return largest === undefined ? undefined : { vcpus: largest.vcpus, basis: `at least those of ${largest.type}, the family's largest size` };
}

function vcpusOfSize(family: string, size: string): number | undefined {
  const perXlarge = PER_XLARGE[family] ?? 4;
  if (size === "nano" || size === "micro" || size === "small" || size === "medium") return 2;
  if (size === "large") return perXlarge / 2;
  const xlarge = /^(\d*)xlarge$/.exec(size) ?? /^metal-(\d+)xl$/.exec(size);
  if (xlarge === null) return undefined;
  return Number(xlarge[1] === "" ? 1 : xlarge[1]) * perXlarge;
}
