// `vpc-cni-agent status`: the running agent's ENIs, addresses and pods as readable tables, from its
// introspection documents (aws-node's /v1/enis shape and our /v1/pool).

interface AddressInfo {
  Address: string;
  IPAMKey: { networkName: string };
  IPAMMetadata: { k8sPodNamespace?: string; k8sPodName?: string };
  AssignedTime: string;
  UnassignedTime: string;
}

interface CidrInfo {
  IsPrefix: boolean;
  IPAddresses: Record<string, AddressInfo>;
}

interface EnisDocument {
  [card: string]: {
    TotalIPs: number;
    AssignedIPs: number;
    ENIs: Record<string, { ID: string; IsPrimary: boolean; DeviceNumber: number; RouteTableID: number; IsExcludedForPodIPs: boolean; AvailableIPv4Cidrs: Record<string, CidrInfo>; IPv6Cidrs?: Record<string, CidrInfo> }>;
  };
}

interface PoolDocument {
  stats: Record<string, number>;
  targets: Record<string, number | boolean | string>;
  lastPlan: { reason?: string } | null;
  /** As /v1/pool serves it (introspection.ts poolDocument): null when growth is not paused. */
  growthPause: { until: string; reason: string } | null;
}

export function formatAgentStatus(enis: EnisDocument, pool: PoolDocument): string {
  const s = pool.stats;
  const lines = [
    `pool: ${s.total} addresses, ${s.assigned} assigned, ${s.available} available, ${s.cooldown} in cooldown` +
      (Number(s.prefixes) > 0 ? `, ${s.prefixes} prefixes (${s.freePrefixes} free)` : "") +
      `, ${s.enis} ENIs; max pods ${pool.targets.maxPods}` +
      (Number(s.waiting) > 0 ? `; ${s.waiting} allocations waiting` : ""),
  ];
  if (pool.growthPause) lines.push(`growth paused until ${pool.growthPause.until}: ${pool.growthPause.reason}`);
  if (pool.lastPlan?.reason) lines.push(`last plan: ${pool.lastPlan.reason}`);
  const eniRows: string[][] = [];
  const podRows: string[][] = [];
  for (const card of Object.values(enis)) {
    for (const eni of Object.values(card.ENIs).sort((a, b) => a.DeviceNumber - b.DeviceNumber)) {
      // An IPv6 node's /80 is in IPv6Cidrs, as aws-node shows it.
      const cidrs = [...Object.entries(eni.AvailableIPv4Cidrs), ...Object.entries(eni.IPv6Cidrs ?? {})];
      let assigned = 0;
      for (const [, c] of cidrs) {
        for (const a of Object.values(c.IPAddresses)) {
          if (a.IPAMKey.networkName === "") continue;
          assigned++;
          podRows.push([`${a.IPAMMetadata.k8sPodNamespace ?? ""}/${a.IPAMMetadata.k8sPodName ?? ""}`, a.Address, eni.ID, a.AssignedTime]);
        }
      }
      const flags = [eni.IsPrimary ? "primary" : "", eni.IsExcludedForPodIPs ? "excluded" : ""].filter(Boolean).join(",");
      eniRows.push([eni.ID, `eth${eni.DeviceNumber}`, String(eni.RouteTableID), String(cidrs.length), String(assigned), flags || "-"]);
    }
  }
  lines.push("", table(["ENI", "DEVICE", "TABLE", "CIDRS", "PODS", "FLAGS"], eniRows));
  lines.push("", table(["POD", "ADDRESS", "ENI", "SINCE"], podRows.sort((a, b) => a[0]!.localeCompare(b[0]!))));
  return lines.join("\n");
}

function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return `${header.join("  ")}\n(none)`;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}
