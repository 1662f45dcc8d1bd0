// The Success result (SPEC §5) in every supported version, held in one version-neutral form (the
// 1.1.0 superset) and printed in the shape of the version asked for:
//   0.3.x/0.4.0: ips[] carry `version` ("4"/"6"); interfaces {name, mac, sandbox}; routes {dst, gw}
//   1.0.0:       no `version` in ips (its only change to the result)
//   1.1.0:       interfaces gain mtu/socketPath/pciID; routes gain mtu/advmss/priority/table/scope
// Converting down derives `version` from the address and drops fields the older version lacks;
// converting up drops `version`. Key order follows libcni's Go structs so output matches what Go
// plugins print, and empty/zero optional fields are omitted as Go's `omitempty` does.

import { isIP } from "node:net";
import { CniError, ErrorCode } from "./errors.ts";
import { compareVersions, isPre1, requireSupported, SUPPORTED_VERSIONS } from "./version.ts";

export type Interface = {
  name: string;
  mac?: string;
  /** 1.1.0 */
  mtu?: number;
  /** Netns path for interfaces inside the container; absent for host interfaces. */
  sandbox?: string;
  /** 1.1.0 */
  socketPath?: string;
  /** 1.1.0 */
  pciID?: string;
};

export type IpConfig = {
  /** CIDR, e.g. "10.0.0.5/32". */
  address: string;
  gateway?: string;
  /** Index into `interfaces`; absent in IPAM (abbreviated) results. */
  interface?: number;
};

export type Route = {
  dst: string;
  gw?: string;
  /** 1.1.0 */
  mtu?: number;
  /** 1.1.0 */
  advmss?: number;
  /** 1.1.0 */
  priority?: number;
  /** 1.1.0 (0 is meaningful, so printed when set) */
  table?: number;
  /** 1.1.0 (0 is meaningful, so printed when set) */
  scope?: number;
};

export type Dns = {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
};

/** A result in no particular version. */
export type Result = {
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Dns;
};

/** A result as printed: plain JSON with `cniVersion` first. */
export type ResultJson = { cniVersion: string } & Record<string, unknown>;

// ---- validation helpers (code 7: results arrive inside the network config as prevResult) ----

type Obj = Record<string, unknown>;

function bad(where: string, msg: string): never {
  throw new CniError(ErrorCode.InvalidNetworkConfig, `${where}: ${msg}`);
}

export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") bad(`${where}.${key}`, `must be a string, got ${typeName(v)}`);
  return v;
}

function optInt(o: Obj, key: string, where: string, min: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) bad(`${where}.${key}`, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function optArray(o: Obj, key: string, where: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) bad(`${where}.${key}`, `must be an array, got ${typeName(v)}`);
  return v;
}

function optStringArray(o: Obj, key: string, where: string): string[] | undefined {
  const arr = optArray(o, key, where);
  if (arr === undefined) return undefined;
  arr.forEach((s, i) => {
    if (typeof s !== "string") bad(`${where}.${key}[${i}]`, `must be a string, got ${typeName(s)}`);
  });
  return arr as string[];
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** 4 or 6 for "addr/prefix" with a prefix in range, else 0. */
export function cidrFamily(cidr: string): 0 | 4 | 6 {
  const slash = cidr.indexOf("/");
  if (slash < 0) return 0;
  const family = isIP(cidr.slice(0, slash));
  if (family === 0) return 0;
  const prefix = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return 0;
  return family as 4 | 6;
}

function requireCidr(v: unknown, where: string): string {
  if (typeof v !== "string") bad(where, `must be a CIDR string, got ${typeName(v)}`);
  if (cidrFamily(v) === 0) bad(where, `${JSON.stringify(v)} is not an address in CIDR notation`);
  return v;
}

function optIp(o: Obj, key: string, where: string): string | undefined {
  const v = optString(o, key, where);
  if (v === undefined || v === "") return undefined;
  if (isIP(v) === 0) bad(`${where}.${key}`, `${JSON.stringify(v)} is not an IP address`);
  return v;
}

/** Validates a DNS object (result `dns` and config `dns` share the shape). */
export function parseDns(v: unknown, where: string): Dns {
  if (!isObject(v)) bad(where, `must be an object, got ${typeName(v)}`);
  const out: Dns = {};
  const nameservers = optStringArray(v, "nameservers", where);
  if (nameservers !== undefined && nameservers.length > 0) out.nameservers = [...nameservers];
  const domain = optString(v, "domain", where);
  if (domain !== undefined && domain !== "") out.domain = domain;
  const search = optStringArray(v, "search", where);
  if (search !== undefined && search.length > 0) out.search = [...search];
  const options = optStringArray(v, "options", where);
  if (options !== undefined && options.length > 0) out.options = [...options];
  return out;
}

function parseInterface(v: unknown, where: string): Interface {
  if (!isObject(v)) bad(where, `must be an object, got ${typeName(v)}`);
  const name = optString(v, "name", where);
  if (name === undefined || name === "") bad(`${where}.name`, "is required");
  const out: Interface = { name };
  const mac = optString(v, "mac", where);
  if (mac !== undefined && mac !== "") out.mac = mac;
  const mtu = optInt(v, "mtu", where, 0);
  if (mtu !== undefined && mtu !== 0) out.mtu = mtu;
  const sandbox = optString(v, "sandbox", where);
  if (sandbox !== undefined && sandbox !== "") out.sandbox = sandbox;
  const socketPath = optString(v, "socketPath", where);
  if (socketPath !== undefined && socketPath !== "") out.socketPath = socketPath;
  const pciID = optString(v, "pciID", where);
  if (pciID !== undefined && pciID !== "") out.pciID = pciID;
  return out;
}

function parseIp(v: unknown, where: string, pre1: boolean): IpConfig {
  if (!isObject(v)) bad(where, `must be an object, got ${typeName(v)}`);
  const address = requireCidr(v["address"], `${where}.address`);
  const out: IpConfig = { address };
  const gateway = optIp(v, "gateway", where);
  if (gateway !== undefined) out.gateway = gateway;
  const iface = optInt(v, "interface", where, 0);
  if (iface !== undefined) out.interface = iface;
  // 0.x requires `version`; a missing one is derived (Go's types040 does not check it either), a
  // wrong one is refused. 1.x results have no `version`; a stray one is ignored like any unknown key.
  if (pre1) {
    const version = optString(v, "version", where);
    const family = String(cidrFamily(address));
    if (version !== undefined && version !== "" && version !== family) {
      bad(`${where}.version`, `${JSON.stringify(version)} does not match address ${address} (IPv${family})`);
    }
  }
  return out;
}

function parseRoute(v: unknown, where: string): Route {
  if (!isObject(v)) bad(where, `must be an object, got ${typeName(v)}`);
  const out: Route = { dst: requireCidr(v["dst"], `${where}.dst`) };
  const gw = optIp(v, "gw", where);
  if (gw !== undefined) out.gw = gw;
  const mtu = optInt(v, "mtu", where, 0);
  if (mtu !== undefined && mtu !== 0) out.mtu = mtu;
  const advmss = optInt(v, "advmss", where, 0);
  if (advmss !== undefined && advmss !== 0) out.advmss = advmss;
  const priority = optInt(v, "priority", where, 0);
  if (priority !== undefined && priority !== 0) out.priority = priority;
  const table = optInt(v, "table", where, 0);
  if (table !== undefined) out.table = table;
  const scope = optInt(v, "scope", where, 0);
  if (scope !== undefined) out.scope = scope;
  return out;
}

export type ParsedResult = { cniVersion: string; result: Result };

/**
 * Parses a result of any supported version. Its own `cniVersion` decides the shape; `fallbackVersion`
 * (the config's) is used when it has none, as libcni parses prevResult with the config's version.
 * Unsupported versions are code 1, malformed content code 7.
 */
export function parseResult(value: unknown, fallbackVersion: string, where = "result"): ParsedResult {
  if (!isObject(value)) bad(where, `must be an object, got ${typeName(value)}`);
  const own = optString(value, "cniVersion", where);
  const cniVersion = own === undefined || own === "" ? fallbackVersion : own;
  requireSupported(cniVersion);
  const pre1 = isPre1(cniVersion);
  const result: Result = {};
  const interfaces = optArray(value, "interfaces", where);
  if (interfaces !== undefined && interfaces.length > 0) {
    result.interfaces = interfaces.map((x, i) => parseInterface(x, `${where}.interfaces[${i}]`));
  }
  const ips = optArray(value, "ips", where);
  if (ips !== undefined && ips.length > 0) result.ips = ips.map((x, i) => parseIp(x, `${where}.ips[${i}]`, pre1));
  const routes = optArray(value, "routes", where);
  if (routes !== undefined && routes.length > 0) result.routes = routes.map((x, i) => parseRoute(x, `${where}.routes[${i}]`));
  if (value["dns"] !== undefined && value["dns"] !== null) {
    const dns = parseDns(value["dns"], `${where}.dns`);
    if (Object.keys(dns).length > 0) result.dns = dns;
  }
  return { cniVersion, result };
}

/** The result as the JSON object of `version`, with keys in libcni's order. Code 1 for an unsupported version. */
export function formatResult(result: Result, version: string, supported: readonly string[] = SUPPORTED_VERSIONS): ResultJson {
  requireSupported(version, supported);
  const pre1 = isPre1(version);
  const v11 = compareVersions(version, "1.1.0") >= 0;
  const out: ResultJson = { cniVersion: version };
  if (result.interfaces !== undefined && result.interfaces.length > 0) {
    out["interfaces"] = result.interfaces.map((i) => {
      const o: Obj = { name: i.name };
      if (i.mac) o["mac"] = i.mac;
      if (v11 && i.mtu) o["mtu"] = i.mtu;
      if (i.sandbox) o["sandbox"] = i.sandbox;
      if (v11 && i.socketPath) o["socketPath"] = i.socketPath;
      if (v11 && i.pciID) o["pciID"] = i.pciID;
      return o;
    });
  }
  if (result.ips !== undefined && result.ips.length > 0) {
    out["ips"] = result.ips.map((ip) => {
      const o: Obj = {};
      if (pre1) {
        const family = cidrFamily(ip.address);
        if (family === 0) throw new CniError(ErrorCode.IncompatibleVersion, `cannot express ${JSON.stringify(ip.address)} in CNI ${version}: not a CIDR address`);
        o["version"] = String(family);
      }
      if (ip.interface !== undefined) o["interface"] = ip.interface;
      o["address"] = ip.address;
      if (ip.gateway) o["gateway"] = ip.gateway;
      return o;
    });
  }
  if (result.routes !== undefined && result.routes.length > 0) {
    out["routes"] = result.routes.map((r) => {
      const o: Obj = { dst: r.dst };
      if (r.gw) o["gw"] = r.gw;
      if (v11) {
        if (r.mtu) o["mtu"] = r.mtu;
        if (r.advmss) o["advmss"] = r.advmss;
        if (r.priority) o["priority"] = r.priority;
        if (r.table !== undefined) o["table"] = r.table;
        if (r.scope !== undefined) o["scope"] = r.scope;
      }
      return o;
    });
  }
  if (result.dns !== undefined) {
    const d: Obj = {};
    if (result.dns.nameservers?.length) d["nameservers"] = [...result.dns.nameservers];
    if (result.dns.domain) d["domain"] = result.dns.domain;
    if (result.dns.search?.length) d["search"] = [...result.dns.search];
    if (result.dns.options?.length) d["options"] = [...result.dns.options];
    if (Object.keys(d).length > 0) out["dns"] = d;
  }
  return out;
}

/** Parses a result JSON object of any supported version and re-prints it in `toVersion`. */
export function convertResult(value: unknown, toVersion: string, fallbackVersion = toVersion): ResultJson {
  requireSupported(toVersion);
  return formatResult(parseResult(value, fallbackVersion).result, toVersion);
}

/** Canonical text of a result in `version`: compact JSON, libcni key order. */
export function printResult(result: Result, version: string): string {
  return JSON.stringify(formatResult(result, version));
}
