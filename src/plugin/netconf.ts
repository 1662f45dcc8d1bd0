// The vpc-cni entry of the conflist (the agent writes it; aws-node's keys): vethPrefix, mtu,
// pluginLogFile, pluginLogLevel, plus agentSocket (ours). Defaults as the reference's LoadNetConf.

import { CniError, ErrorCode, type NetConf } from "../cni/index.ts";
import type { LogLevel } from "../log/log.ts";

export interface PluginConf {
  vethPrefix: string;
  mtu: number;
  agentSocket: string;
  logFile: string;
  logLevel: LogLevel;
}

export const DEFAULT_AGENT_SOCKET = "/var/run/aws-node/ipamd.sock";
export const DEFAULT_LOG_FILE = "/var/log/aws-routed-eni/plugin.log";
const MTU_MIN = 576;
const MTU_MAX = 9001;
const LEVELS = ["debug", "info", "warn", "error"] as const;

export function pluginConf(conf: NetConf): PluginConf {
  const raw = conf.raw;
  const text = (key: string, fallback: string): string => {
    const v = raw[key];
    if (v === undefined || v === null || v === "") return fallback;
    if (typeof v !== "string") throw new CniError(ErrorCode.InvalidNetworkConfig, `${key} must be a string, got ${typeof v}`);
    return v;
  };
  const vethPrefix = text("vethPrefix", "eni");
  if (!/^[A-Za-z0-9_.-]{1,4}$/.test(vethPrefix)) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `vethPrefix ${JSON.stringify(vethPrefix)} must be 1-4 letters, digits, '_', '.' or '-'`);
  }
  // As the reference: an mtu that is not a number in 576..9001 means 9001 (string or number accepted).
  const mtuRaw = raw["mtu"];
  const mtuNumber = typeof mtuRaw === "number" ? mtuRaw : typeof mtuRaw === "string" && /^\d+$/.test(mtuRaw) ? Number(mtuRaw) : NaN;
  const mtu = Number.isInteger(mtuNumber) && mtuNumber >= MTU_MIN && mtuNumber <= MTU_MAX ? mtuNumber : MTU_MAX;
  const level = text("pluginLogLevel", "debug").toLowerCase();
  return {
    vethPrefix,
    mtu,
    agentSocket: text("agentSocket", DEFAULT_AGENT_SOCKET),
    logFile: text("pluginLogFile", DEFAULT_LOG_FILE),
    logLevel: (LEVELS as readonly string[]).includes(level) ? (level as PluginConf["logLevel"]) : "debug",
  };
}
