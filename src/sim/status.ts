// The state of a run as the CLI shows it: a JSON document (`vpcsim status --json`) and the same as
// readable tables.

import type { Ec2Api } from "./ec2/api.ts";
import type { NetworkInterface, Tag } from "./ec2/types.ts";

export interface EniStatus {
  id: string;
  deviceIndex: number | null;
  mac: string;
  status: string;
  attachment: string | null;
  sourceDestCheck: boolean;
  subnetId: string;
  description: string;
  privateIps: string[]; // primary first
  ipv4Prefixes: string[];
  ipv6Addresses: string[];
  ipv6Prefixes: string[];
}

export interface InstanceStatus {
  id: string;
  name: string;
  type: string;
  zone: string;
  subnetId: string;
  state: string;
  privateIp: string;
  publicIp: string | null;
  /** The primary ENI's first IPv6 address (IMDS `ipv6`), on a dual-stack instance. */
  ipv6: string | null;
  netns: string;
  enis: EniStatus[];
}

export interface RunStatus {
  run: string;
  profile: string;
  region: string;
  accountId: string;
  endpoints: { ec2: string; imds: string; kubernetes: string; externalHost: string; externalHost6: string };
  vpcs: { id: string; cidrs: string[]; ipv6Cidrs: string[] }[];
  subnets: { id: string; name: string; zone: string; cidr: string; ipv6Cidr: string | null; available: number }[];
  instances: InstanceStatus[];
  availableEnis: EniStatus[];
}

export function nameTag(tags: Tag[]): string {
  return tags.find((t) => t.key === "Name")?.value ?? "";
}

function eniStatus(e: NetworkInterface): EniStatus {
  return {
    id: e.networkInterfaceId,
    deviceIndex: e.attachment?.deviceIndex ?? null,
    mac: e.macAddress,
    status: e.status,
    attachment: e.attachment?.status ?? null,
    sourceDestCheck: e.sourceDestCheck,
    subnetId: e.subnetId,
    description: e.description,
    privateIps: e.privateIps.map((p) => p.address),
    ipv4Prefixes: [...e.ipv4Prefixes],
    ipv6Addresses: [...e.ipv6Addresses],
    ipv6Prefixes: [...e.ipv6Prefixes],
  };
}

export function buildStatus(
  api: Ec2Api,
  run: { name: string; profile: string; region: string; accountId: string; netnsOf: (instanceId: string) => string; endpoints: RunStatus["endpoints"] },
): RunStatus {
  const enis = api.networkInterfaces();
  return {
    run: run.name,
    profile: run.profile,
    region: run.region,
    accountId: run.accountId,
    endpoints: run.endpoints,
    vpcs: api.vpcs().map((v) => ({ id: v.vpcId, cidrs: v.cidrBlocks, ipv6Cidrs: v.ipv6CidrBlocks })),
    subnets: api.subnets().map((s) => ({
      id: s.subnetId,
      name: nameTag(s.tags),
      zone: s.availabilityZone,
      cidr: s.cidrBlock,
      ipv6Cidr: s.ipv6CidrBlock ?? null,
      available: s.availableIpAddressCount,
    })),
    instances: api
      .instances()
      .filter((i) => i.state !== "terminated")
      .map((i) => {
        const mine = enis
          .filter((e) => e.attachment?.instanceId === i.instanceId)
          .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
        const primary = enis.find((e) => e.networkInterfaceId === i.primaryNetworkInterfaceId);
        return {
          id: i.instanceId,
          name: nameTag(i.tags),
          type: i.instanceType,
          zone: i.availabilityZone,
          subnetId: i.subnetId,
          state: i.state,
          privateIp: primary?.privateIps[0]?.address ?? "",
          publicIp: i.publicIpAddress ?? null,
          ipv6: primary?.ipv6Addresses[0] ?? null,
          netns: run.netnsOf(i.instanceId),
          enis: mine.map(eniStatus),
        };
      }),
    availableEnis: enis.filter((e) => e.attachment === undefined).map(eniStatus),
  };
}

/** Plain-text tables for people. */
export function formatStatus(s: RunStatus): string {
  const lines: string[] = [];
  lines.push(`run ${s.run}  profile ${s.profile}  region ${s.region}  account ${s.accountId}`);
  lines.push(
    `EC2 API ${s.endpoints.ec2}  IMDS ${s.endpoints.imds}  Kubernetes API ${s.endpoints.kubernetes}  external hosts ${s.endpoints.externalHost} ${s.endpoints.externalHost6}  (inside instances)`,
  );
  const dualStack = s.vpcs.some((v) => v.ipv6Cidrs.length > 0);
  lines.push("");
  lines.push(table(["VPC", "CIDRS"], s.vpcs.map((v) => [v.id, [...v.cidrs, ...v.ipv6Cidrs].join(",")])));
  lines.push("");
  lines.push(
    table(
      ["SUBNET", "NAME", "ZONE", "CIDR", ...(dualStack ? ["IPV6 CIDR"] : []), "FREE"],
      s.subnets.map((n) => [n.id, n.name, n.zone, n.cidr, ...(dualStack ? [n.ipv6Cidr ?? "-"] : []), String(n.available)]),
    ),
  );
  lines.push("");
  lines.push(
    table(
      ["INSTANCE", "NAME", "TYPE", "ZONE", "STATE", "PRIVATE IP", "PUBLIC IP", ...(dualStack ? ["IPV6"] : []), "NETNS"],
      s.instances.map((i) => [i.id, i.name, i.type, i.zone, i.state, i.privateIp, i.publicIp ?? "-", ...(dualStack ? [i.ipv6 ?? "-"] : []), i.netns]),
    ),
  );
  const eniRows: string[][] = [];
  for (const i of s.instances) {
    for (const e of i.enis) eniRows.push(eniRow(i.name || i.id, e));
  }
  for (const e of s.availableEnis) eniRows.push(eniRow("-", e));
  lines.push("");
  lines.push(table(["ENI", "INSTANCE", "DEV", "MAC", "STATUS", "SRC/DST", "ADDRESSES"], eniRows));
  return lines.join("\n");
}

function eniRow(instance: string, e: EniStatus): string[] {
  const addresses = [...e.privateIps, ...e.ipv4Prefixes, ...e.ipv6Addresses, ...e.ipv6Prefixes];
  const shown = addresses.length > 6 ? [...addresses.slice(0, 6), `(+${addresses.length - 6} more)`] : addresses;
  return [
    e.id,
    instance,
    e.deviceIndex === null ? "-" : `eth${e.deviceIndex}`,
    e.mac,
    e.attachment && e.attachment !== "attached" ? `${e.status}/${e.attachment}` : e.status,
    e.sourceDestCheck ? "on" : "off",
    shown.join(" "),
  ];
}

function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) rows = [header.map(() => "-")];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const fmt = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}
