// CNI results as libcni handles them: read in the version the plugin wrote (its own cniVersion, else
// the config's), converted between the 0.3.x/0.4.0 and 1.x shapes when a cached result is read back
// for another version, and written the way Go's result structs marshal (field order, omitempty, and
// an always-present "dns").

import { GoStruct } from "./go-json.ts";

type Obj = Record<string, unknown>;

export interface CniResult {
  cniVersion: string;
  /** The decoded JSON, in the shape of cniVersion. */
  json: Obj;
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const MODERN = new Set(["1.0.0", "1.1.0"]);
const CLASSIC = new Set(["0.3.0", "0.3.1", "0.4.0"]);

/** libcni's fixupResultVersion + create.Create: a plugin's stdout as a result. */
export function parseResult(stdout: string, confVersion: string): CniResult {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new Error(`failed to unmarshal result: ${(err as Error).message}`);
  }
  if (!isObj(json)) throw new Error("failed to unmarshal result: not a JSON object");
  const own = json["cniVersion"];
  const version = typeof own === "string" && own !== "" ? own : confVersion;
  if (!MODERN.has(version) && !CLASSIC.has(version)) throw new Error(`unsupported CNI result version "${version}"`);
  return { cniVersion: version, json: { ...json, cniVersion: version } };
}

function family(address: unknown): "4" | "6" {
  return typeof address === "string" && address.includes(":") ? "6" : "4";
}

/** result.GetAsVersion: the same result in another version's shape. */
export function convertResult(result: CniResult, toVersion: string): CniResult {
  if (result.cniVersion === toVersion) return result;
  const fromModern = MODERN.has(result.cniVersion);
  const toModern = MODERN.has(toVersion);
  if (!toModern && !CLASSIC.has(toVersion)) throw new Error(`cannot convert result to unsupported version "${toVersion}"`);
  const ips = Array.isArray(result.json["ips"]) ? (result.json["ips"] as unknown[]) : undefined;
  let converted: unknown[] | undefined = ips;
  if (ips && fromModern && !toModern) {
    converted = ips.map((ip) => (isObj(ip) ? { version: family(ip["address"]), ...ip } : ip));
  } else if (ips && !fromModern && toModern) {
    converted = ips.map((ip) => {
      if (!isObj(ip)) return ip;
      const { version: _version, ...rest } = ip;
      return rest;
    });
  }
  return { cniVersion: toVersion, json: { ...result.json, cniVersion: toVersion, ...(converted ? { ips: converted } : {}) } };
}

const nonEmpty = (v: unknown) => (v === "" || v === 0 || v === null || v === false || (Array.isArray(v) && v.length === 0) ? undefined : v);

/** The result as its Go struct marshals (types100.Result or types040.Result). */
export function resultStruct(result: CniResult): GoStruct {
  const j = result.json;
  const modern = MODERN.has(result.cniVersion);
  const list = (key: string, each: (o: Obj) => GoStruct) => {
    const v = j[key];
    return Array.isArray(v) && v.length > 0 ? v.map((o) => (isObj(o) ? each(o) : o)) : undefined;
  };
  const dns = isObj(j["dns"]) ? j["dns"] : {};
  return new GoStruct([
    ["cniVersion", nonEmpty(j["cniVersion"])],
    ["interfaces", list("interfaces", (i) => new GoStruct([
      ["name", i["name"] ?? ""],
      ["mac", nonEmpty(i["mac"])],
      ...(modern ? ([["mtu", nonEmpty(i["mtu"])]] as const) : []),
      ["sandbox", nonEmpty(i["sandbox"])],
      ...(modern ? ([["socketPath", nonEmpty(i["socketPath"])], ["pciID", nonEmpty(i["pciID"])]] as const) : []),
    ]))],
    ["ips", list("ips", (ip) => new GoStruct([
      ...(modern ? [] : ([["version", ip["version"] ?? family(ip["address"])]] as const)),
      ["interface", ip["interface"] ?? undefined],
      ["address", ip["address"] ?? ""],
      ["gateway", nonEmpty(ip["gateway"])],
    ]))],
    ["routes", list("routes", (r) => new GoStruct([
      ["dst", r["dst"] ?? ""],
      ["gw", nonEmpty(r["gw"])],
      ...(modern
        ? ([["mtu", nonEmpty(r["mtu"])], ["advmss", nonEmpty(r["advmss"])], ["priority", nonEmpty(r["priority"])], ["table", r["table"] ?? undefined], ["scope", r["scope"] ?? undefined]] as const)
        : []),
    ]))],
    ["dns", new GoStruct([
      ["nameservers", nonEmpty(dns["nameservers"])],
      ["domain", nonEmpty(dns["domain"])],
      ["search", nonEmpty(dns["search"])],
      ["options", nonEmpty(dns["options"])],
    ])],
  ]);
}

/** go-cni createResult: the addresses per interface name across the networks' results. */
export function addressesByInterface(results: readonly CniResult[], defaultIfName: string): Map<string, string[]> {
  const byName = new Map<string, string[]>([[defaultIfName, []]]);
  for (const result of results) {
    const interfaces = Array.isArray(result.json["interfaces"]) ? (result.json["interfaces"] as Obj[]) : [];
    for (const intf of interfaces) if (typeof intf?.["name"] === "string") byName.set(intf["name"], byName.get(intf["name"]) ?? []);
    const ips = Array.isArray(result.json["ips"]) ? (result.json["ips"] as Obj[]) : [];
    for (const ip of ips) {
      const index = ip?.["interface"];
      let name = defaultIfName;
      if (typeof index === "number") {
        if (index < 0 || index >= interfaces.length) {
          throw new Error(`invalid interface config: invalid IP configuration (interface number ${index} is > number of interfaces ${interfaces.length}): invalid result`);
        }
        name = String(interfaces[index]!["name"]);
      }
      const address = String(ip?.["address"] ?? "");
      byName.get(name)!.push(address.split("/")[0]!);
    }
  }
  return byName;
}

/** containerd's selectPodIPs with the default preference: the first IPv4 address leads. */
export function selectPodIps(addresses: readonly string[]): string[] {
  const firstV4 = addresses.findIndex((a) => !a.includes(":"));
  if (firstV4 <= 0) return [...addresses];
  return [addresses[firstV4]!, ...addresses.slice(0, firstV4), ...addresses.slice(firstV4 + 1)];
}
