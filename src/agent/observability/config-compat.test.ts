// The observability inputs are declared here, independent of the config module, but the lead wires the
// config's values straight in; these assignments fail the type check if the two drift apart.

import { it } from "node:test";
import assert from "node:assert/strict";
import type { AgentConfig, BindAddress as ConfigBindAddress, LogDestination } from "../config.ts";
import type { BindAddress } from "./http-listen.ts";
import type { IpamdSettings, NetworkUtilsSettings } from "./introspection.ts";
import type { LogTarget } from "./log.ts";

const bind = (b: ConfigBindAddress): BindAddress => b;
const logTarget = (d: LogDestination): LogTarget => d;
const networkUtils = (c: AgentConfig): NetworkUtilsSettings => c.hostNetwork;
const ipamd = (c: AgentConfig): IpamdSettings => ({
  warmIpTarget: c.pool.warmIpTarget,
  warmEniTarget: c.pool.warmEniTarget,
  customNetworking: c.eni.customNetworking,
  manageEnisNonSchedulable: c.pool.manageEnisNonSchedulable,
  subnetDiscovery: c.eni.subnetDiscovery,
});

it("takes the config's values as they are", () => {
  assert.deepEqual(bind({ kind: "tcp", host: "127.0.0.1", port: 61679 }), { kind: "tcp", host: "127.0.0.1", port: 61679 });
  assert.deepEqual(logTarget({ kind: "stdout" }), { kind: "stdout" });
  assert.equal(typeof networkUtils, "function");
  assert.equal(typeof ipamd, "function");
});
