// vpc-cni: the CNI plugin the container runtime execs for every pod. ADD asks the node agent for an
// address and wires the pod (reference §5.3); DEL gives it back and unwires it, and still succeeds when
// the agent is gone (from prevResult); CHECK names what drifted; STATUS says whether the agent can serve;
// GC releases what the runtime no longer knows. Bundled into one executable: it imports only src/cni,
// src/datapath and src/ipam-rpc (the agent's protocol), never the AWS SDK.

import { existsSync } from "node:fs";
import {
  CniError,
  ErrorCode,
  pluginMain,
  pluginNotAvailable,
  tryAgainLater,
  type GcRequest,
  type PluginRequest,
  type Result,
} from "../cni/index.ts";
import { checkPodNetwork, setupPodNetwork, teardownPodNetwork, NetnsNotFoundError } from "../datapath/pod/index.ts";
import { podHostVethName } from "../datapath/veth-name.ts";
import { validateIfName } from "../datapath/validate.ts";
import { allocate, gc as gcRpc, health, release, type RpcCallError } from "../ipam-rpc/client.ts";
import { fileLog } from "./log.ts";
import type { Log } from "../log/log.ts";
import { pluginConf, type PluginConf } from "./netconf.ts";
import { dummyInterface, podStateFromResult, type PodState } from "./pod-state.ts";
import { startTiming } from "./timing.ts";

/** Opt-in (VPC_CNI_TIMING_FILE): where an ADD's milliseconds go. */
const timing = startTiming(process.env);

export const PLUGIN_VERSION = "0.1.0";
/** Our own CNI error codes (the spec reserves 100+ for plugins). */
const ErrAgent = 100;
const ErrDatapath = 101;
const ErrDrift = 102;

interface Call {
  conf: PluginConf;
  log: Log;
  podNamespace: string;
  podName: string;
  podUid: string;
  infraContainerId: string;
}

function prepare(req: PluginRequest): Call {
  const conf = pluginConf(req.config);
  const podName = req.args.podName || req.env.containerId;
  const log = fileLog(conf.logFile, conf.logLevel, { command: req.command, containerID: req.env.containerId, pod: `${req.args.podNamespace ?? ""}/${podName}` });
  return { conf, log, podNamespace: req.args.podNamespace ?? "", podName, podUid: req.args.podUid ?? "", infraContainerId: req.args.podInfraContainerId ?? "" };
}

const rpc = (c: Call) => ({ socketPath: c.conf.agentSocket, clientVersion: PLUGIN_VERSION });

function agentError(what: string, e: RpcCallError): CniError {
  // Transient conditions are "try again later": kubelet retries the sandbox.
  if (e.code === "no-address" || e.code === "unavailable" || e.code === "timeout" || e.code === "shutting-down") {
    return tryAgainLater(`${what}: ${e.message}`, `agent error ${e.code}`);
  }
  return new CniError(ErrAgent, `${what}: ${e.message}`, `agent error ${e.code}`);
}

async function add(req: PluginRequest): Promise<Result> {
  timing.mark("request read (stdin, environment)");
  const c = prepare(req);
  timing.mark("config parsed, log opened");
  // Nothing may change for a namespace that is not there: checked before the agent is asked.
  if (!existsSync(req.env.netns)) throw new CniError(ErrorCode.InvalidEnvironment, `CNI_NETNS ${req.env.netns} does not exist`);
  // The spec lets CNI_IFNAME be any kernel name; the datapath takes fewer (it goes on ip's command
  // line). Refused here, before the agent hands out an address, as the environment error it is.
  try {
    validateIfName(req.env.ifname);
  } catch (err) {
    throw new CniError(ErrorCode.InvalidEnvironment, `CNI_IFNAME: ${(err as Error).message}`);
  }
  const hostVethName = podHostVethName(c.conf.vethPrefix, c.podNamespace, c.podName);
  timing.mark("netns and ifname checked");
  const got = await allocate(rpc(c), podKeys(c, req));
  timing.mark("agent round trip (allocate)");
  if (!got.ok) {
    c.log("error", "no address from the agent", { error: got.error });
    throw agentError("add cmd: failed to assign an IP address to container", got.error);
  }
  const assigned = got.reply.addresses[0];
  // An IPv4 node's agent answers with ipv4Addr, an IPv6 node's with ipv6Addr (reference §5.7).
  const address = assigned?.ipv4Addr || assigned?.ipv6Addr || "";
  if (!assigned || address === "") {
    // Whatever the agent recorded for this attachment is given back, not left until GC.
    const undone = await release(rpc(c), { ...podKeys(c, req), reason: "SetupNSFailed" });
    if (!undone.ok) c.log("error", "rollback: releasing the allocation failed", { error: undone.error });
    throw new CniError(ErrAgent, "add cmd: the agent answered without an IPv4 or IPv6 address");
  }
  const v6 = assigned.ipv4Addr === "";
  try {
    const wired = await setupPodNetwork({
      netnsPath: req.env.netns,
      ifName: req.env.ifname,
      hostVethName,
      address,
      routeTableId: assigned.routeTableId,
      mtu: c.conf.mtu,
    });
    timing.mark("pod wired (datapath)");
    c.log("info", "pod wired", { address, deviceNumber: assigned.deviceNumber, routeTableId: assigned.routeTableId, hostVeth: hostVethName });
    timing.mark("logged");
    timing.write("ADD");
    return {
      interfaces: [
        { name: wired.hostVeth.name, mac: wired.hostVeth.mac },
        { name: wired.podInterface.name, mac: wired.podInterface.mac, sandbox: req.env.netns },
        // aws-node's record for Kubernetes pods; a spec-conformant host entry for others (podman).
        dummyInterface(hostVethName, assigned.deviceNumber, 0, req.args.podNamespace ? "aws-node" : "host"),
      ],
      ips: [{ address: `${address}/${v6 ? 128 : 32}`, interface: 1 }],
    };
  } catch (err) {
    // Roll back the allocation as the reference does (reason SetupNSFailed); the datapath has undone itself.
    const undone = await release(rpc(c), { ...podKeys(c, req), reason: "SetupNSFailed" });
    if (!undone.ok) c.log("error", "rollback: releasing the address failed", { error: undone.error });
    c.log("error", "wiring the pod failed", { error: (err as Error).message });
    if (err instanceof NetnsNotFoundError) throw new CniError(ErrorCode.InvalidEnvironment, err.message);
    throw new CniError(ErrDatapath, `add cmd: ${(err as Error).message}`);
  }
}

/** The pod attachment as the agent keys it (allocate and release send the same). */
function podKeys(c: Call, req: PluginRequest) {
  return {
    podNamespace: c.podNamespace,
    podName: c.podName,
    podUid: c.podUid,
    infraContainerId: c.infraContainerId,
    containerId: req.env.containerId,
    ifName: req.env.ifname,
    networkName: req.config.name,
    netns: req.env.netns,
  };
}

async function del(req: PluginRequest): Promise<void> {
  const c = prepare(req);
  const fromPrev = podStateFromResult(req.config.prevResult);
  const released = await release(rpc(c), { ...podKeys(c, req), reason: "PodDeleted" });
  let states: PodState[] = [];
  if (released.ok) {
    states = released.reply.addresses
      .filter((a) => (a.ipv4Addr || a.ipv6Addr) !== "")
      .map((a) => ({ address: a.ipv4Addr || a.ipv6Addr, routeTableId: a.routeTableId, deviceNumber: a.deviceNumber, hostVethName: fromPrev?.hostVethName ?? "", podVlanId: 0 }));
    if (states.length === 0 && fromPrev) states = [fromPrev];
  } else {
    // DEL must succeed without the agent (it may be restarting): unwire from prevResult; the agent
    // takes the address back by reconcile or GC. A DEL it refused as malformed is not retried better.
    c.log("warn", "the agent did not release the address; tearing down from prevResult", { error: released.error });
    if (fromPrev) states = [fromPrev];
  }
  // Every address is torn down even if one fails: the agent has already let them all go.
  await everyOne(states, (s) =>
    teardownPodNetwork({
      address: s.address,
      routeTableId: s.routeTableId,
      hostVethName: s.hostVethName || undefined,
      netnsPath: req.env.netns || undefined,
      // A CNI_IFNAME ADD refuses (see add) names no interface of ours: DEL still succeeds.
      ifName: datapathIfName(req.env.ifname),
    }),
  );
  c.log("info", "pod unwired", { addresses: states.map((s) => s.address) });
}

async function check(req: PluginRequest): Promise<void> {
  const c = prepare(req);
  const state = podStateFromResult(req.config.prevResult);
  if (!state) throw new CniError(ErrorCode.InvalidNetworkConfig, "check: prevResult does not carry this plugin's pod state");
  const drifts = await checkPodNetwork({ netnsPath: req.env.netns, ifName: req.env.ifname, hostVethName: state.hostVethName, address: state.address, routeTableId: state.routeTableId }).catch((err: Error) => {
    if (err instanceof NetnsNotFoundError) throw new CniError(ErrorCode.InvalidEnvironment, err.message);
    throw err;
  });
  if (drifts.length > 0) {
    const text = drifts.map((d) => `${d.item}: expected ${d.expected}, found ${d.found}`).join("; ");
    c.log("warn", "pod drifted", { drifts });
    throw new CniError(ErrDrift, `check: the pod's network drifted: ${text}`);
  }
}

async function status(req: PluginRequest): Promise<void> {
  const c = prepare(req);
  const h = await health(rpc(c));
  if (!h.ok) throw pluginNotAvailable(`the vpc-cni agent does not answer on ${c.conf.agentSocket}: ${h.error.message}`);
  if (h.reply.status !== "serving") throw pluginNotAvailable(`the vpc-cni agent is not serving: ${h.reply.detail || h.reply.status}`);
}

async function gc(req: GcRequest): Promise<void> {
  const c = prepare(req);
  const valid = req.validAttachments.map((a) => ({ containerId: a.containerID, ifName: a.ifname }));
  const out = await gcRpc(rpc(c), { networkName: req.config.name, validAttachments: valid });
  if (!out.ok) throw agentError("gc", out.error);
  // The agent has released them all and will not name them again: one teardown that fails must not
  // leave the others' rules and routes behind for good.
  await everyOne(
    out.reply.released.filter((a) => (a.ipv4Addr || a.ipv6Addr) !== ""),
    (a) => teardownPodNetwork({ address: a.ipv4Addr || a.ipv6Addr, routeTableId: a.routeTableId }),
    (a, err) => c.log("error", "gc: unwiring a released address failed", { address: a.ipv4Addr || a.ipv6Addr, error: (err as Error).message }),
  );
  c.log("info", "garbage collected", { released: out.reply.released.map((a) => a.ipv4Addr || a.ipv6Addr) });
}

function datapathIfName(ifName: string): string | undefined {
  try {
    return validateIfName(ifName);
  } catch {
    return undefined;
  }
}

/** Runs `task` for every item, even after failures; then throws the first failure, if any. */
async function everyOne<T>(items: readonly T[], task: (item: T) => Promise<void>, onError?: (item: T, err: unknown) => void): Promise<void> {
  const errors: unknown[] = [];
  for (const item of items) {
    try {
      await task(item);
    } catch (err) {
      onError?.(item, err);
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}

void pluginMain({ add, del, check, status, gc });
