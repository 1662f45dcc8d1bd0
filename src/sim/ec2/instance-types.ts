// Loads the instance-type limits table (data/instance-types.tsv) into the map the model takes.
// Columns are looked up by header name, so reordering or adding columns does not break loading.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { InstanceTypeInfo } from "./types.ts";

export const DEFAULT_INSTANCE_TYPES_PATH = resolve(import.meta.dirname, "../../../data/instance-types.tsv");

const REQUIRED_COLUMNS = [
  "instance_type",
  "enis",
  "ipv4_per_eni",
  "hypervisor",
  "bare_metal",
  "default_card",
  "network_cards",
  "enis_all_cards",
  "trunking",
  "branch_enis",
] as const;

type Column = (typeof REQUIRED_COLUMNS)[number];

export function loadInstanceTypes(path: string = DEFAULT_INSTANCE_TYPES_PATH): Map<string, InstanceTypeInfo> {
  return parseInstanceTypes(readFileSync(path, "utf8"), path);
}

/** Parses the TSV text; `source` names it in error messages. */
export function parseInstanceTypes(text: string, source = "instance types"): Map<string, InstanceTypeInfo> {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const header = lines.shift();
  if (header === undefined) throw new Error(`${source}: no header line`);
  const names = header.split("\t");
  const index = {} as Record<Column, number>;
  for (const column of REQUIRED_COLUMNS) {
    const at = names.indexOf(column);
    if (at < 0) throw new Error(`${source}: missing column ${column}`);
    index[column] = at;
  }
  const types = new Map<string, InstanceTypeInfo>();
  lines.forEach((line, n) => {
    const cells = line.split("\t");
    const cell = (column: Column): string => {
      const value = cells[index[column]];
      if (value === undefined) throw new Error(`${source}: data line ${n + 1} has no ${column}`);
      return value.trim();
    };
    const int = (column: Column): number => {
      const value = Number(cell(column));
      if (!Number.isInteger(value) || value < 0) throw new Error(`${source}: data line ${n + 1}: bad ${column}`);
      return value;
    };
    const ipv4PerEni = int("ipv4_per_eni");
    const hypervisor = cell("hypervisor");
    const info: InstanceTypeInfo = {
      instanceType: cell("instance_type"),
      maxEnis: int("enis"),
      ipv4PerEni,
      ipv6PerEni: ipv4PerEni, // EC2 documents the same per-ENI limit for IPv6 as for IPv4
      // Bare-metal types report no hypervisor; the table spells that "unknown".
      hypervisor: hypervisor === "unknown" ? "" : hypervisor,
      bareMetal: cell("bare_metal") === "true",
      defaultNetworkCardIndex: int("default_card"),
      networkCards: int("network_cards"),
      maxEnisAllCards: int("enis_all_cards"),
      trunking: cell("trunking") === "true",
      branchEnis: int("branch_enis"),
    };
    types.set(info.instanceType, info);
  });
  return types;
}
