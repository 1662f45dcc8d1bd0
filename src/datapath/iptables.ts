// iptables access through iptables-save (read) and iptables-restore --noflush (write). A restore
// script is applied by the kernel as one transaction per table, so a rebuild of our chains never
// leaves a moment with the SNAT chain half written; --noflush keeps everyone else's rules.

import { inNetns, type NetnsOption } from "./exec.ts";

export type IptablesTable = "nat" | "mangle" | "filter";

export interface SavedRule {
  chain: string;
  /** The rule as iptables-save prints it after `-A CHAIN `. */
  spec: string;
}

export interface SavedTable {
  /** Chain names in iptables-save order (built-ins first). */
  chains: string[];
  rules: SavedRule[];
}

/** Parses iptables-save output into tables; comment and COMMIT lines are dropped. */
export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let current: SavedTable | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) {
      current = { chains: [], rules: [] };
      tables.set(line.slice(1).trim(), current);
    } else if (current === undefined || line.startsWith("#") || line.trim() === "" || line === "COMMIT") {
      continue;
    } else if (line.startsWith(":")) {
      const name = line.slice(1).split(" ")[0];
      if (name !== undefined) current.chains.push(name);
    } else if (line.startsWith("-A ")) {
      const rest = line.slice(3);
      const space = rest.indexOf(" ");
      current.rules.push(space < 0 ? { chain: rest, spec: "" } : { chain: rest.slice(0, space), spec: rest.slice(space + 1) });
    }
  }
  return tables;
}

/** Which tool family: iptables (IPv4, the default) or ip6tables (IPv6). */
export type IptablesFamily = "4" | "6";
const tool = (name: "save" | "restore", family: IptablesFamily) => `${family === "6" ? "ip6tables" : "iptables"}-${name}`;

export async function iptablesSave(target: NetnsOption, table: IptablesTable, family: IptablesFamily = "4"): Promise<SavedTable> {
  const { stdout } = await inNetns(target, tool("save", family), ["-t", table]);
  return parseIptablesSave(stdout).get(table) ?? { chains: [], rules: [] };
}

/** Applies a restore script (one `*table … COMMIT` block) without flushing what it does not name. */
export async function iptablesRestore(target: NetnsOption, script: string, family: IptablesFamily = "4"): Promise<void> {
  if (script.trim() === "") return;
  await inNetns(target, tool("restore", family), ["--noflush", "--wait"], { input: script });
}

const randomFullyCache = new Map<string, boolean>();

/**
 * Whether iptables knows `--random-fully` (1.6.2 and later, the check go-iptables makes for the
 * reference); without it the reference falls back to `--random`.
 */
export async function iptablesHasRandomFully(target: NetnsOption): Promise<boolean> {
  const key = target.netns ?? "";
  const cached = randomFullyCache.get(key);
  if (cached !== undefined) return cached;
  const { stdout } = await inNetns(target, "iptables", ["--version"]);
  const match = /v(\d+)\.(\d+)\.(\d+)/.exec(stdout);
  const version = match === null ? [0, 0, 0] : [Number(match[1]), Number(match[2]), Number(match[3])];
  const [major = 0, minor = 0, patch = 0] = version;
  const result = major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 2)));
  randomFullyCache.set(key, result);
  return result;
}
