// Network configuration: the single plugin config a runtime streams on stdin (SPEC §3 "execution
// configuration") and the on-disk configuration list (SPEC §1). Well-known fields are type-checked;
// every other field is kept in `raw` for the plugin. Error codes:
//   6  stdin is not JSON (malformed, truncated) or not a JSON object
//   1  cniVersion missing (libcni reads it as 0.1.0) or not supported
//   7  a well-known field is missing or of the wrong type, or has an invalid value

import { CniError, ErrorCode } from "./errors.ts";
import { isObject, parseDns, parseResult, typeName } from "./result.ts";
import type { Dns, Result } from "./result.ts";
import { highestCommonVersion, requireSupported, SUPPORTED_VERSIONS } from "./version.ts";

type Obj = Record<string, unknown>;

export type IpamConfig = { type?: string } & Obj;

export type NetConf = {
  cniVersion: string;
  name: string;
  type: string;
  capabilities?: Record<string, boolean>;
  /** As sent. Look keys up with runtimeConfigValue: their case is not reliable across runtimes. */
  runtimeConfig?: Obj;
  args?: Obj;
  ipMasq?: boolean;
  ipam?: IpamConfig;
  dns?: Dns;
  /** prevResult, parsed from whatever supported version it was written in. */
  prevResult?: Result;
  /** The version prevResult was written in (its own cniVersion, else the config's). */
  prevResultVersion?: string;
  /** The whole decoded object, plugin-specific fields included. */
  raw: Obj;
};

function invalid(msg: string, details = ""): never {
  throw new CniError(ErrorCode.InvalidNetworkConfig, msg, details);
}

/** JSON text to a JSON object, or code 6. */
export function decodeJsonObject(text: string, what = "network config"): Obj {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, `error decoding ${what}: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new CniError(ErrorCode.DecodingFailure, `error decoding ${what}: expected a JSON object, got ${typeName(value)}`);
  return value;
}

function optTyped<T>(o: Obj, key: string, check: (v: unknown) => v is T, want: string): T | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!check(v)) invalid(`${key} must be ${want}, got ${typeName(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === "string";
const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";

const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

/** SPEC §1: network names start alphanumeric, then alphanumerics, '_', '.', '-'. */
export function validateNetworkName(name: string): void {
  if (!NETWORK_NAME.test(name)) invalid(`invalid network name ${JSON.stringify(name)}`, "must start with an alphanumeric character, followed by alphanumerics, '_', '.' or '-'");
}

/** SPEC §1: a plugin type names a binary, so it must not contain path separators. */
function validateType(type: string, key: string): void {
  if (type === "" || /[\/\\]/.test(type)) invalid(`invalid ${key} ${JSON.stringify(type)}: must be a file name without '/' or '\\'`);
}

/** cniVersion as libcni's ConfigDecoder reads it: absent means "0.1.0", which nobody here supports. */
function readVersion(o: Obj, supported: readonly string[]): string {
  const v = o["cniVersion"];
  if (v === undefined || v === null || v === "") {
    throw new CniError(ErrorCode.IncompatibleVersion, "incompatible CNI versions", `cniVersion is missing (read as 0.1.0); plugin supports [${supported.join(", ")}]`);
  }
  if (typeof v !== "string") invalid(`cniVersion must be a string, got ${typeName(v)}`);
  requireSupported(v, supported);
  return v;
}

export type ParseNetConfOptions = { supportedVersions?: readonly string[] };

/** Parses the execution configuration a plugin receives on stdin. */
export function parseNetConf(input: string | Obj, options: ParseNetConfOptions = {}): NetConf {
  const supported = options.supportedVersions ?? SUPPORTED_VERSIONS;
  const raw = typeof input === "string" ? decodeJsonObject(input) : input;
  const cniVersion = readVersion(raw, supported);

  const name = optTyped(raw, "name", isString, "a string");
  if (name === undefined || name === "") invalid("missing network name");
  validateNetworkName(name);
  const type = optTyped(raw, "type", isString, "a string");
  if (type === undefined || type === "") invalid("missing plugin type");
  validateType(type, "type");

  const conf: NetConf = { cniVersion, name, type, raw };

  const caps = optTyped(raw, "capabilities", isObject, "an object");
  if (caps !== undefined) {
    for (const [k, v] of Object.entries(caps)) if (typeof v !== "boolean") invalid(`capabilities.${k} must be a boolean, got ${typeName(v)}`);
    conf.capabilities = caps as Record<string, boolean>;
  }
  const runtimeConfig = optTyped(raw, "runtimeConfig", isObject, "an object");
  if (runtimeConfig !== undefined) conf.runtimeConfig = runtimeConfig;
  const args = optTyped(raw, "args", isObject, "an object");
  if (args !== undefined) conf.args = args;
  const ipMasq = optTyped(raw, "ipMasq", isBoolean, "a boolean");
  if (ipMasq !== undefined) conf.ipMasq = ipMasq;
  const ipam = optTyped(raw, "ipam", isObject, "an object");
  if (ipam !== undefined) {
    const ipamType = ipam["type"];
    if (ipamType !== undefined && ipamType !== null) {
      if (typeof ipamType !== "string") invalid(`ipam.type must be a string, got ${typeName(ipamType)}`);
      if (ipamType !== "") validateType(ipamType, "ipam.type");
    }
    conf.ipam = ipam as IpamConfig;
  }
  if (raw["dns"] !== undefined && raw["dns"] !== null) conf.dns = parseDns(raw["dns"], "dns");
  if (raw["prevResult"] !== undefined && raw["prevResult"] !== null) {
    const parsed = parseResult(raw["prevResult"], cniVersion, "prevResult");
    conf.prevResult = parsed.result;
    conf.prevResultVersion = parsed.cniVersion;
  }
  return conf;
}

/** obj[key], matching the key case-insensitively when there is no exact match (as Go's encoding/json does). */
export function getFold(obj: Obj | undefined, key: string): unknown {
  if (obj === undefined) return undefined;
  if (Object.hasOwn(obj, key)) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/**
 * A runtimeConfig entry by capability name, case-insensitively: containerd and podman differ in
 * how they capitalise e.g. portMappings, and Go plugins never notice because encoding/json folds case.
 */
export function runtimeConfigValue(conf: Pick<NetConf, "runtimeConfig">, capability: string): unknown {
  return getFold(conf.runtimeConfig, capability);
}

// ---- configuration lists ----

export type ConfList = {
  /** The version to run the list with: cniVersion, or the highest common one of cniVersions (1.1.0). */
  cniVersion: string;
  cniVersions?: string[];
  name: string;
  disableCheck: boolean;
  disableGC: boolean;
  loadOnlyInlinedPlugins: boolean;
  /** Plugin configuration objects as written (each has a string `type`). */
  plugins: Obj[];
  raw: Obj;
};

/** disableCheck is documented as a string in 0.4.0 and a boolean in 1.x; accept both spellings. */
function readFlag(o: Obj, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return invalid(`${key} must be true or false, got ${JSON.stringify(v)}`);
}

export function parseConfList(input: string | Obj, options: ParseNetConfOptions = {}): ConfList {
  const supported = options.supportedVersions ?? SUPPORTED_VERSIONS;
  const raw = typeof input === "string" ? decodeJsonObject(input, "network config list") : input;

  let cniVersion: string;
  const versions = optTyped(raw, "cniVersions", Array.isArray, "an array");
  let cniVersions: string[] | undefined;
  if (versions !== undefined) {
    versions.forEach((v, i) => {
      if (typeof v !== "string") invalid(`cniVersions[${i}] must be a string, got ${typeName(v)}`);
    });
    cniVersions = versions as string[];
    const offered = [...cniVersions];
    if (typeof raw["cniVersion"] === "string") offered.push(raw["cniVersion"]);
    const best = highestCommonVersion(offered, supported);
    if (best === null) {
      throw new CniError(ErrorCode.IncompatibleVersion, "incompatible CNI versions", `list offers [${offered.join(", ")}], supported [${supported.join(", ")}]`);
    }
    cniVersion = best;
  } else {
    cniVersion = readVersion(raw, supported);
  }

  const name = optTyped(raw, "name", isString, "a string");
  if (name === undefined || name === "") invalid("missing network name");
  validateNetworkName(name);

  const plugins = optTyped(raw, "plugins", Array.isArray, "an array");
  if (plugins === undefined || plugins.length === 0) invalid(`network ${name}: plugins must be a non-empty list`);
  plugins.forEach((p, i) => {
    if (!isObject(p)) invalid(`plugins[${i}] must be an object, got ${typeName(p)}`);
    const t = p["type"];
    if (typeof t !== "string" || t === "") invalid(`plugins[${i}].type is missing`);
    validateType(t, `plugins[${i}].type`);
  });

  const list: ConfList = {
    cniVersion,
    name,
    disableCheck: readFlag(raw, "disableCheck"),
    disableGC: readFlag(raw, "disableGC"),
    loadOnlyInlinedPlugins: readFlag(raw, "loadOnlyInlinedPlugins"),
    plugins: plugins as Obj[],
    raw,
  };
  if (cniVersions !== undefined) list.cniVersions = cniVersions;
  return list;
}

export type ExecConfigInputs = {
  /** Capability arguments the runtime offers; only those the plugin declares are passed. */
  capabilityArgs?: Obj;
  /** JSON of the previous result, already in the list's version. */
  prevResult?: Obj;
};

/**
 * The runtime's side of SPEC §3 "Deriving execution configuration": the plugin object with the
 * list's name and cniVersion inserted, `capabilities` removed, `runtimeConfig` holding only the
 * offered capabilities the plugin declares, and `prevResult` when given. Used by test harnesses
 * and benchmarks that play the runtime.
 */
export function execConfig(list: ConfList, index: number, inputs: ExecConfigInputs = {}): Obj {
  const plugin = list.plugins[index];
  if (plugin === undefined) throw new RangeError(`network ${list.name} has no plugin ${index}`);
  const out: Obj = { cniVersion: list.cniVersion, name: list.name };
  for (const [k, v] of Object.entries(plugin)) {
    if (k === "capabilities" || k === "cniVersion" || k === "name" || k === "runtimeConfig" || k === "prevResult") continue;
    out[k] = v;
  }
  const caps = isObject(plugin["capabilities"]) ? plugin["capabilities"] : {};
  const runtimeConfig: Obj = {};
  for (const [k, v] of Object.entries(inputs.capabilityArgs ?? {})) if (caps[k] === true) runtimeConfig[k] = v;
  if (Object.keys(runtimeConfig).length > 0) out["runtimeConfig"] = runtimeConfig;
  if (inputs.prevResult !== undefined) out["prevResult"] = inputs.prevResult;
  return out;
}
