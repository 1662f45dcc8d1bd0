// egress-cni: the plugin chained after vpc-cni that gives pods egress in the node's other address
// family (reference §1.4). On IPv6 nodes, IPv4 egress: each pod a second interface (v4if0) with an
// address from 169.254.172.0/22 (host-local's format, in the node's data dir), its IPv4 traffic
// SNATed to the node's IPv4 address. Disabled ("enabled": "false"), it passes prevResult through.
// It changes nothing in the result: the pod's addresses are vpc-cni's, and the 169.254.172.0/22
// address is the node's business (the same range on every node).
//
// IPv6 egress for IPv4 pods (ENABLE_V6_EGRESS) is not built yet: the agent refuses that setting.

import { CniError, ErrorCode, pluginMain, type PluginRequest, type Result } from "../cni/index.ts";
import { checkEgressV4, setupEgressV4, teardownEgressV4 } from "../datapath/pod/egress-v4.ts";
import { egressSnatDrifts, setupEgressSnat, teardownEgressSnat } from "../datapath/pod/egress-snat.ts";
import { NetnsNotFoundError } from "../datapath/pod/errors.ts";
import { fileLog } from "../plugin/log.ts";
import { egressConf, type EgressConf } from "./conf.ts";
import { HostLocalAllocator, RangeFullError } from "./host-local.ts";

const ErrDatapath = 101;
const ErrDrift = 102;

function prepare(req: PluginRequest) {
  const conf = egressConf(req.config);
  const log = fileLog(conf.logFile, conf.logLevel, { command: req.command, containerID: req.env.containerId, plugin: "egress-cni" });
  return { conf, log };
}

function allocator(req: PluginRequest, conf: EgressConf): HostLocalAllocator {
  return new HostLocalAllocator(conf.dataDir, req.config.name, conf.subnet);
}

function requireV4(conf: EgressConf): void {
  if (conf.family !== "4") throw new CniError(ErrorCode.InvalidNetworkConfig, "egress-cni: IPv6 egress (nodeIP an IPv6 address) is not supported by this version");
}

async function add(req: PluginRequest): Promise<Result> {
  const { conf, log } = prepare(req);
  const prev = req.config.prevResult;
  if (prev === undefined) throw new CniError(ErrorCode.InvalidNetworkConfig, "egress-cni must be chained: prevResult is required");
  if (!conf.enabled) return prev;
  requireV4(conf);
  const ipam = allocator(req, conf);
  let reservation;
  try {
    reservation = ipam.reserve(req.env.containerId, req.env.ifname);
  } catch (err) {
    if (err instanceof RangeFullError) throw new CniError(ErrorCode.TryAgainLater, err.message);
    throw err;
  }
  try {
    const wired = await setupEgressV4({
      netnsPath: req.env.netns,
      containerId: req.env.containerId,
      address: reservation.address,
      prefixLength: ipam.range.prefixLength,
      gateway: reservation.gateway,
      subnet: conf.subnet,
      mtu: conf.mtu,
    });
    const chain = await setupEgressSnat({ network: req.config.name, containerId: req.env.containerId, address: reservation.address, nodeIp: conf.nodeIp, randomize: conf.randomizeSnat });
    log("info", "IPv4 egress wired", { address: reservation.address, hostVeth: wired.hostVeth, chain, nodeIP: conf.nodeIp });
    return prev;
  } catch (err) {
    // Everything this ADD did goes: the pair (the datapath undid its own part), the chain, the address.
    await teardownEgressV4({ containerId: req.env.containerId }).catch(() => undefined);
    await teardownEgressSnat({ network: req.config.name, containerId: req.env.containerId }).catch(() => undefined);
    ipam.release(req.env.containerId, req.env.ifname);
    log("error", "IPv4 egress failed", { error: (err as Error).message });
    if (err instanceof NetnsNotFoundError) throw new CniError(ErrorCode.InvalidEnvironment, err.message);
    throw new CniError(ErrDatapath, `egress-cni add: ${(err as Error).message}`);
  }
}

async function del(req: PluginRequest): Promise<void> {
  const { conf, log } = prepare(req);
  if (!conf.enabled) return;
  requireV4(conf);
  // The reference's order: the address first, then the SNAT; the pair goes by its host end.
  const released = allocator(req, conf).release(req.env.containerId, req.env.ifname);
  await teardownEgressSnat({ network: req.config.name, containerId: req.env.containerId });
  await teardownEgressV4({ containerId: req.env.containerId });
  log("info", "IPv4 egress removed", { address: released?.address ?? "none held" });
}

async function check(req: PluginRequest): Promise<void> {
  const { conf } = prepare(req);
  if (!conf.enabled) return;
  requireV4(conf);
  const held = allocator(req, conf).find(req.env.containerId, req.env.ifname);
  if (held === undefined) throw new CniError(ErrDrift, "egress-cni check: the attachment holds no egress address");
  const drifts = [
    ...(await checkEgressV4({ containerId: req.env.containerId, address: held.address })),
    ...(await egressSnatDrifts({ network: req.config.name, containerId: req.env.containerId, address: held.address })),
  ];
  if (drifts.length > 0) throw new CniError(ErrDrift, `egress-cni check: drifted: ${drifts.join("; ")}`);
}

void pluginMain({ add, del, check });
