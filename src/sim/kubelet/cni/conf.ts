// Network configuration as containerd's CRI loads it: go-cni picks the lexically first file with
// extension .conf, .conflist or .json in the conf dir (a .conf becomes a one-plugin list), and libcni
// parses it. The error texts are libcni's and go-cni's, so a node's status reads as on a real node.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { goMarshal } from "./go-json.ts";
import { compareCniVersions, LIBCNI_CURRENT } from "./version.ts";

type Obj = Record<string, unknown>;

/** One plugin entry of a list: its decoded object and the bytes libcni keeps for it (Go-marshalled). */
export interface PluginConf {
  type: string;
  capabilities: Record<string, boolean>;
  raw: Obj;
  bytes: string;
}

export interface NetworkConfList {
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConf[];
  /** The list's bytes as libcni holds them (the file's, or the generated list for a .conf). */
  bytes: string;
}

/** go-cni's ErrCNINotInitialized: the text containerd's status shows while a node has no network. */
export const CNI_NOT_INITIALIZED = "cni plugin not initialized";

export class ConfLoadError extends Error {
  /** True when the dir simply has no (valid) network yet, as opposed to a broken file. */
  readonly notInitialized: boolean;

  constructor(message: string, notInitialized: boolean) {
    super(message);
    this.name = "ConfLoadError";
    this.notInitialized = notInitialized;
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function goTypeName(v: unknown): string {
  if (v === null) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  if (typeof v === "number") return "float64";
  return typeof v;
}

/** What encoding/json says when a value does not fit a NetConf field. */
function unmarshalTypeError(value: unknown, field: string, goType: string): Error {
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "object" ? "object" : typeof value;
  return new Error(`json: cannot unmarshal ${kind} into Go struct field NetConf.${field} of type ${goType}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

/** libcni ConfFromBytes: one plugin's config; `type` is required. */
export function confFromBytes(bytes: string): PluginConf & { name: string; cniVersion: string } {
  let raw: unknown;
  try {
    raw = parseJson(bytes);
  } catch (err) {
    throw new Error(`error parsing configuration: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new Error(`error parsing configuration: json: cannot unmarshal ${Array.isArray(raw) ? "array" : typeof raw} into Go value of type types.NetConf`);
  const str = (key: string): string => {
    const v = raw[key];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") throw new Error(`error parsing configuration: ${unmarshalTypeError(v, key, "string").message}`);
    return v;
  };
  const type = str("type");
  const name = str("name");
  const cniVersion = str("cniVersion");
  const capabilities: Record<string, boolean> = {};
  const caps = raw["capabilities"];
  if (caps !== undefined && caps !== null) {
    if (!isObj(caps)) throw new Error(`error parsing configuration: ${unmarshalTypeError(caps, "capabilities", "map[string]bool").message}`);
    for (const [k, v] of Object.entries(caps)) {
      if (typeof v !== "boolean") throw new Error(`error parsing configuration: ${unmarshalTypeError(v, `capabilities`, "bool").message}`);
      capabilities[k] = v;
    }
  }
  if (type === "") throw new Error("error parsing configuration: missing 'type'");
  return { type, name, cniVersion, capabilities, raw, bytes };
}

/** libcni ConfListFromBytes (1.2: with cniVersions negotiation and disableGC). */
export function confListFromBytes(bytes: string): NetworkConfList {
  let raw: unknown;
  try {
    raw = parseJson(bytes);
  } catch (err) {
    throw new Error(`error parsing configuration list: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new Error(`error parsing configuration list: json: cannot unmarshal ${Array.isArray(raw) ? "array" : typeof raw} into Go value of type map[string]interface {}`);
  if (!("name" in raw)) throw new Error("error parsing configuration list: no name");
  const name = raw["name"];
  if (typeof name !== "string") throw new Error(`error parsing configuration list: invalid name type ${goTypeName(name)}`);
  let cniVersion = "";
  if ("cniVersion" in raw) {
    const v = raw["cniVersion"];
    if (typeof v !== "string") throw new Error(`error parsing configuration list: invalid cniVersion type ${goTypeName(v)}`);
    cniVersion = v;
  }
  if ("cniVersions" in raw) {
    const offered = raw["cniVersions"];
    if (!Array.isArray(offered)) throw new Error(`error parsing configuration list: invalid type for cniVersions: ${goTypeName(offered)}`);
    const usable: string[] = [];
    for (const [i, v] of offered.entries()) {
      if (typeof v !== "string") throw new Error(`error parsing configuration list: invalid type for cniVersions index ${i}: ${goTypeName(v)}`);
      let newer: boolean;
      try {
        newer = compareCniVersions(v, LIBCNI_CURRENT) > 0;
      } catch (err) {
        throw new Error(`error parsing configuration list: invalid cniVersions entry ${v} at index ${i}: ${(err as Error).message}`);
      }
      if (!newer) usable.push(v);
    }
    if (cniVersion !== "" && compareCniVersions(cniVersion, LIBCNI_CURRENT) <= 0) usable.push(cniVersion);
    usable.sort(compareCniVersions);
    if (usable.length > 0) cniVersion = usable.at(-1)!;
  }
  const flag = (key: string): boolean => {
    if (!(key in raw)) return false;
    const v = raw[key];
    if (typeof v !== "boolean") throw new Error(`error parsing configuration list: invalid ${key} type ${goTypeName(v)}`);
    return v;
  };
  const disableCheck = flag("disableCheck");
  const disableGC = flag("disableGC");
  if (!("plugins" in raw)) throw new Error("error parsing configuration list: no 'plugins' key");
  const entries = raw["plugins"];
  if (!Array.isArray(entries)) throw new Error(`error parsing configuration list: invalid 'plugins' type ${goTypeName(entries)}`);
  if (entries.length === 0) throw new Error("error parsing configuration list: no plugins in list");
  const plugins = entries.map((entry, i) => {
    try {
      return confFromBytes(goMarshal(entry));
    } catch (err) {
      throw new Error(`failed to parse plugin config ${i}: ${(err as Error).message}`);
    }
  });
  return { name, cniVersion, disableCheck, disableGC, plugins, bytes };
}

/** libcni ConfListFromConf: a single .conf as a one-plugin list. */
export function confListFromConf(conf: ReturnType<typeof confFromBytes>): NetworkConfList {
  return confListFromBytes(goMarshal({ name: conf.name, cniVersion: conf.cniVersion, plugins: [conf.raw] }));
}

/** libcni ConfFiles: regular files in dir with one of the extensions (a missing dir has none). */
export function confFiles(dir: string, extensions: readonly string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names
    .map((n) => join(dir, n))
    .filter((path) => {
      try {
        if (statSync(path).isDirectory()) return false;
      } catch {
        return false;
      }
      return extensions.includes(extname(path));
    });
}

/**
 * go-cni's WithDefaultConf: the default network of the conf dir, the lexically first config file.
 * Throws ConfLoadError (notInitialized when there is none yet, as go-cni's ErrCNINotInitialized).
 */
export function loadDefaultNetwork(confDir: string): { list: NetworkConfList; file: string } {
  let files: string[];
  try {
    files = confFiles(confDir, [".conf", ".conflist", ".json"]);
  } catch (err) {
    throw new ConfLoadError(`failed to read config file: ${(err as Error).message}: failed to read cni config`, false);
  }
  if (files.length === 0) throw new ConfLoadError(`no network config found in ${confDir}: ${CNI_NOT_INITIALIZED}`, true);
  files.sort();
  const file = files[0]!;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfLoadError(`failed to load CNI config file ${file}: ${(err as Error).message}: invalid cni config`, false);
  }
  try {
    if (file.endsWith(".conflist")) return { list: confListFromBytes(text), file };
    const conf = confFromBytes(text);
    return { list: confListFromConf(conf), file };
  } catch (err) {
    const kind = file.endsWith(".conflist") ? "CNI config list file" : "CNI config file";
    throw new ConfLoadError(`failed to load ${kind} ${file}: ${(err as Error).message}: invalid cni config`, false);
  }
}

/** go-cni's WithLoNetwork: the loopback network every sandbox gets, as interface "lo". */
export function loopbackNetwork(): NetworkConfList {
  return confListFromBytes(`{
"cniVersion": "0.3.1",
"name": "cni-loopback",
"plugins": [{
  "type": "loopback"
}]
}`);
}
