// egress-cni's entry of the conflist (reference §1.3): enabled, nodeIP, randomizeSNAT, mtu, the
// host-local ipam block (one range, one route, dataDir) and the log. What is malformed is refused
// with the key named, before anything changes.

import { CniError, ErrorCode, type NetConf } from "../cni/index.ts";
import type { LogLevel } from "../log/log.ts";
import { parseCidr, parseIp } from "../net/ip.ts";

export interface EgressConf {
  enabled: boolean;
  /** The address egress traffic is SNATed to; its family is the egress family. */
  nodeIp: string;
  family: "4" | "6";
  randomizeSnat: "prng" | "hashrandom" | "none";
  mtu: number;
  subnet: string;
  dataDir: string;
  logFile: string;
  logLevel: LogLevel;
}

export const DEFAULT_EGRESS_LOG = "/var/log/aws-routed-eni/egress-v4-plugin.log";
const LEVELS = ["debug", "info", "warn", "error"] as const;

const invalid = (message: string) => new CniError(ErrorCode.InvalidNetworkConfig, `egress-cni: ${message}`);

export function egressConf(conf: NetConf): EgressConf {
  const raw = conf.raw;
  const text = (key: string, fallback?: string): string => {
    const v = raw[key];
    if (v === undefined || v === null || v === "") {
      if (fallback === undefined) throw invalid(`${key} is required`);
      return fallback;
    }
    if (typeof v !== "string") throw invalid(`${key} must be a string, got ${typeof v}`);
    return v;
  };
  const enabledText = text("enabled", "false");
  const level = text("pluginLogLevel", "debug").toLowerCase();
  const base = {
    enabled: enabledText === "true",
    logFile: text("pluginLogFile", DEFAULT_EGRESS_LOG),
    logLevel: (LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : "debug",
  };
  if (!base.enabled) return { ...base, nodeIp: "", family: "4", randomizeSnat: "prng", mtu: 9001, subnet: "", dataDir: "" };
  const nodeIp = text("nodeIP");
  const node = parseIp(nodeIp);
  if (node === undefined) throw invalid(`nodeIP ${JSON.stringify(nodeIp)} is not an IP address`);
  const randomize = text("randomizeSNAT", "prng");
  const randomizeSnat = randomize === "none" || randomize === "hashrandom" ? randomize : "prng";
  const mtuRaw = raw["mtu"];
  const mtuNumber = typeof mtuRaw === "number" ? mtuRaw : typeof mtuRaw === "string" && /^\d+$/.test(mtuRaw) ? Number(mtuRaw) : NaN;
  const mtu = Number.isInteger(mtuNumber) && mtuNumber >= 576 && mtuNumber <= 9001 ? mtuNumber : 9001;
  const ipam = conf.ipam as Record<string, unknown> | undefined;
  if (ipam === undefined || typeof ipam !== "object") throw invalid("ipam is required");
  const ranges = ipam["ranges"];
  const first = Array.isArray(ranges) && Array.isArray(ranges[0]) ? (ranges[0][0] as Record<string, unknown> | undefined) : undefined;
  const subnet = typeof first?.["subnet"] === "string" ? first["subnet"] : undefined;
  const parsed = subnet === undefined ? undefined : parseCidr(subnet);
  if (subnet === undefined || parsed === undefined) throw invalid("ipam.ranges[0][0].subnet must be a CIDR");
  if (parsed.family !== node.family) throw invalid(`ipam subnet ${subnet} and nodeIP ${nodeIp} are of different families`);
  const dataDir = ipam["dataDir"];
  if (typeof dataDir !== "string" || !dataDir.startsWith("/")) throw invalid("ipam.dataDir must be an absolute path");
  return { ...base, nodeIp, family: node.family, randomizeSnat, mtu, subnet: parsed.text, dataDir };
}
