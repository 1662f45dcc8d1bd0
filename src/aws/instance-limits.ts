// The agent's table of instance-type networking limits, from data/instance-types.tsv. vpcsim loads
// the same file with its own code: the agent and the emulator share no model of EC2, so a mistake in
// one shows up as a disagreement with the other instead of cancelling out.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export type Hypervisor = "nitro" | "xen" | "unknown";

export type InstanceLimits = {
  readonly instanceType: string;
  /** ENIs on the default network card: the ones the agent manages. */
  readonly enis: number;
  /** IPv4 addresses (or /28 prefixes) per ENI, the ENI's primary address included. */
  readonly ipv4PerEni: number;
  readonly hypervisor: Hypervisor;
  readonly bareMetal: boolean;
  readonly defaultNetworkCard: number;
  readonly networkCards: number;
  readonly enisAllCards: number;
  /** Can carry a trunk ENI for security groups per pod. */
  readonly trunking: boolean;
  readonly branchEnis: number;
};

export type InstanceLimitsTable = ReadonlyMap<string, InstanceLimits>;

export const DEFAULT_INSTANCE_LIMITS_PATH = resolve(import.meta.dirname, "../../data/instance-types.tsv");

const COLUMNS = ["instance_type", "enis", "ipv4_per_eni", "hypervisor", "bare_metal", "default_card", "network_cards", "enis_all_cards", "trunking", "branch_enis"] as const;
type Column = (typeof COLUMNS)[number];

/**
 * Parses the table's text. Columns are found by their header names; lines starting with "#" and
 * blank lines are skipped. A malformed line throws with its line number: the table ships with the
 * agent, so a bad row is a build mistake, not something to run around.
 */
export function parseInstanceLimits(text: string, source = "instance-types.tsv"): InstanceLimitsTable {
  const table = new Map<string, InstanceLimits>();
  let at: Record<Column, number> | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = line.split("\t");
    const where = `${source}:${i + 1}`;
    if (at === undefined) {
      at = headerPositions(fields, where);
      continue;
    }
    const columns = at;
    const field = (column: Column): string => {
      const value = fields[columns[column]];
      if (value === undefined) throw new Error(`${where}: no ${column} field`);
      return value.trim();
    };
    const count = (column: Column, min: number): number => {
      const value = field(column);
      if (!/^\d+$/.test(value) || Number(value) < min) throw new Error(`${where}: ${column} ${JSON.stringify(value)} is not a whole number ≥ ${min}`);
      return Number(value);
    };
    const flag = (column: Column): boolean => {
      const value = field(column);
      if (value !== "true" && value !== "false") throw new Error(`${where}: ${column} ${JSON.stringify(value)} is not true or false`);
      return value === "true";
    };
    const instanceType = field("instance_type");
    if (!/^[a-z0-9-]+\.[a-z0-9-]+$/.test(instanceType)) throw new Error(`${where}: ${JSON.stringify(instanceType)} is not an instance type name`);
    if (table.has(instanceType)) throw new Error(`${where}: ${instanceType} is listed twice`);
    table.set(
      instanceType,
      Object.freeze({
        instanceType,
        enis: count("enis", 1),
        ipv4PerEni: count("ipv4_per_eni", 1),
        hypervisor: hypervisor(field("hypervisor"), where),
        bareMetal: flag("bare_metal"),
        defaultNetworkCard: count("default_card", 0),
        networkCards: count("network_cards", 1),
        enisAllCards: count("enis_all_cards", 1),
        trunking: flag("trunking"),
        branchEnis: count("branch_enis", 0),
      }),
    );
  }
  if (at === undefined) throw new Error(`${source}: no header line`);
  return table;
}

function headerPositions(names: readonly string[], where: string): Record<Column, number> {
  const positions = {} as Record<Column, number>;
  for (const column of COLUMNS) {
    const position = names.indexOf(column);
    if (position < 0) throw new Error(`${where}: the header has no ${column} column`);
    positions[column] = position;
  }
  return positions;
}

function hypervisor(value: string, where: string): Hypervisor {
  // EC2 leaves the hypervisor out for most bare-metal types; the table then has "unknown" or nothing.
  if (value === "" || value === "unknown") return "unknown";
  if (value === "nitro" || value === "xen") return value;
  throw new Error(`${where}: hypervisor ${JSON.stringify(value)} is not nitro, xen or unknown`);
}

const loaded = new Map<string, InstanceLimitsTable>();

/** The table in `path` (the one shipped with the agent by default), read once per process. */
export function loadInstanceLimits(path: string = DEFAULT_INSTANCE_LIMITS_PATH): InstanceLimitsTable {
  let table = loaded.get(path);
  if (table === undefined) {
    table = parseInstanceLimits(readFileSync(path, "utf8"), path);
    loaded.set(path, table);
  }
  return table;
}
