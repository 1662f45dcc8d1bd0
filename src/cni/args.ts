// CNI_ARGS: "K=V;K=V" pairs (SPEC §2). Semantics follow libcni's types.LoadArgs, which every Go
// plugin uses: order does not matter, every pair must have exactly one '=', and a key the plugin
// does not know is an error unless IgnoreUnknown is true ("1" or "true", case-insensitive). podman
// sends `IgnoreUnknown=1;K8S_POD_NAME=<name>` plus `IP=`/`MAC=`; kubelet sends the K8S_* keys.
// libcni reports these as plain errors (plugins surface them as 999); CNI_ARGS is an environment
// variable, so we use the spec's code 4, whose message must name the variable.

import { isIP } from "node:net";
import { CniError, ErrorCode } from "./errors.ts";

/** The keys any plugin understands; a plugin may add its own via `extraKeys`. */
export const WELL_KNOWN_ARGS = [
  "IgnoreUnknown",
  "K8S_POD_NAMESPACE",
  "K8S_POD_NAME",
  "K8S_POD_INFRA_CONTAINER_ID",
  "K8S_POD_UID",
  "IP",
  "MAC",
] as const;

export type CniArgs = {
  ignoreUnknown: boolean;
  podNamespace?: string;
  podName?: string;
  podInfraContainerId?: string;
  podUid?: string;
  /** `IP=` as given: one address, or a comma-separated list, each with an optional /prefix. */
  ip?: string;
  /** `MAC=`, lower-cased. */
  mac?: string;
  /** Every pair, known or not, last one winning (libcni sets fields in order, so the last wins too). */
  all: Record<string, string>;
};

export type ParseArgsOptions = {
  /** Plugin-specific keys to accept besides WELL_KNOWN_ARGS. */
  extraKeys?: readonly string[];
};

function fail(msg: string): never {
  throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_ARGS: ${msg}`);
}

/** libcni's UnmarshallableBool: "1"/"true" and "0"/"false", case-insensitive; anything else is an error. */
function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  return fail(`${key}=${JSON.stringify(value)} is not a boolean`);
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function validateIpList(value: string): void {
  for (const item of value.split(",")) {
    const slash = item.indexOf("/");
    const addr = slash < 0 ? item : item.slice(0, slash);
    const family = isIP(addr);
    if (family === 0) fail(`IP=${JSON.stringify(value)} is not an IP address`);
    if (slash >= 0) {
      const prefix = item.slice(slash + 1);
      const max = family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) fail(`IP=${JSON.stringify(value)} has a bad prefix length`);
    }
  }
}

export function parseCniArgs(raw: string, options: ParseArgsOptions = {}): CniArgs {
  const all: Record<string, string> = {};
  const order: string[] = [];
  // Empty segments (a trailing ';') are tolerated; libcni would reject them, but they carry nothing.
  for (const pair of raw.split(";")) {
    if (pair === "") continue;
    const parts = pair.split("=");
    if (parts.length !== 2 || parts[0] === "") fail(`invalid pair ${JSON.stringify(pair)}`);
    const key = parts[0] as string;
    all[key] = parts[1] as string;
    order.push(key);
  }

  // IgnoreUnknown is read first, so its position in the string does not matter.
  const ignoreUnknown = "IgnoreUnknown" in all ? parseBool("IgnoreUnknown", all["IgnoreUnknown"] as string) : false;
  const known = new Set<string>([...WELL_KNOWN_ARGS, ...(options.extraKeys ?? [])]);
  if (!ignoreUnknown) {
    const unknown = [...new Set(order.filter((k) => !known.has(k)))];
    if (unknown.length > 0) fail(`unknown args ${JSON.stringify(unknown)} (set IgnoreUnknown=1 to allow)`);
  }

  const out: CniArgs = { ignoreUnknown, all };
  const get = (k: string): string | undefined => all[k];
  const ns = get("K8S_POD_NAMESPACE");
  if (ns !== undefined) out.podNamespace = ns;
  const name = get("K8S_POD_NAME");
  if (name !== undefined) out.podName = name;
  const infra = get("K8S_POD_INFRA_CONTAINER_ID");
  if (infra !== undefined) out.podInfraContainerId = infra;
  const uid = get("K8S_POD_UID");
  if (uid !== undefined) out.podUid = uid;
  const ip = get("IP");
  if (ip !== undefined && ip !== "") {
    validateIpList(ip);
    out.ip = ip;
  }
  const mac = get("MAC");
  if (mac !== undefined && mac !== "") {
    if (!MAC.test(mac)) fail(`MAC=${JSON.stringify(mac)} is not a 6-byte colon-separated MAC address`);
    out.mac = mac.toLowerCase();
  }
  return out;
}
