// egress-cni: the plugin chained after vpc-cni that gives pods egress in the node's other address
// family (reference §1.4). On IPv6 nodes, IPv4 egress: each pod a second interface (v4if0) with an
// address from 169.254.172.0/22 (host-local's format, in the node's data dir), its IPv4 traffic
// SNATed to the node's IPv4 address. On IPv4 nodes with ENABLE_V6_EGRESS, IPv6 egress: v6if0 from
// fd00::ac:00/118, SNATed to the node's IPv6 address. The family is nodeIP's. Disabled ("enabled":
// "false"), it passes prevResult through. It changes nothing in the result: the pod's addresses are
// vpc-cni's, and the egress address is the node's business (the same range on every node).

import { CniError, ErrorCode, pluginMain, type GcRequest, type PluginRequest, type Result } from "../cni/index.ts";
import { checkEgressV4, setupEgressV4, teardownEgressV4 } from "../datapath/pod/egress-v4.ts";
import { egressSnatDrifts, setupEgressSnat, teardownEgressSnat } from "../datapath/pod/egress-snat.ts";
import { checkEgressV6, setupEgressV6, teardownEgressV6 } from "../datapath/pod/egress-v6.ts";
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

/** The egress pair of the conf's family: set up, torn down, checked. */
function pair(req: PluginRequest, conf: EgressConf) {
  const containerId = req.env.containerId;
  if (conf.family === "6") {
    return {
      name: "IPv6",
      setup: (address: string, prefixLength: number) => setupEgressV6({ netnsPath: req.env.netns, containerId, podIfName: req.env.ifname, address, prefixLength, mtu: conf.mtu }),
      teardown: () => teardownEgressV6({ containerId }),
      check: (address: string) => checkEgressV6({ containerId, address }),
    };
  }
  return {
    name: "IPv4",
    setup: (address: string, prefixLength: number, gateway: string) => setupEgressV4({ netnsPath: req.env.netns, containerId, address, prefixLength, gateway, subnet: conf.subnet, mtu: conf.mtu }),
    teardown: () => teardownEgressV4({ containerId }),
    check: (address: string) => checkEgressV4({ containerId, address }),
  };
}

async function add(req: PluginRequest): Promise<Result> {
  const { conf, log } = prepare(req);
  const prev = req.config.prevResult;
  if (prev === undefined) throw new CniError(ErrorCode.InvalidNetworkConfig, "egress-cni must be chained: prevResult is required");
  if (!conf.enabled) return prev;
  const egress = pair(req, conf);
  const ipam = allocator(req, conf);
  let reservation;
  try {
    reservation = ipam.reserve(req.env.containerId, req.env.ifname);
  } catch (err) {
    if (err instanceof RangeFullError) throw new CniError(ErrorCode.TryAgainLater, err.message);
    throw err;
  }
  try {
    const wired = await egress.setup(reservation.address, ipam.range.prefixLength, reservation.gateway);
    const chain = await setupEgressSnat({ network: req.config.name, containerId: req.env.containerId, address: reservation.address, nodeIp: conf.nodeIp, randomize: conf.randomizeSnat });
    log("info", `${egress.name} egress wired`, { address: reservation.address, hostVeth: wired.hostVeth, chain, nodeIP: conf.nodeIp });
    return prev;
  } catch (err) {
    // Everything this ADD did goes: the pair (the datapath undid its own part), the chain, the address.
    await egress.teardown().catch(() => undefined);
    await teardownEgressSnat({ network: req.config.name, containerId: req.env.containerId, family: conf.family }).catch(() => undefined);
    ipam.release(req.env.containerId, req.env.ifname);
    log("error", `${egress.name} egress failed`, { error: (err as Error).message });
    if (err instanceof NetnsNotFoundError) throw new CniError(ErrorCode.InvalidEnvironment, err.message);
    throw new CniError(ErrDatapath, `egress-cni add: ${(err as Error).message}`);
  }
}

async function del(req: PluginRequest): Promise<void> {
  const { conf, log } = prepare(req);
  if (!conf.enabled) return;
  const egress = pair(req, conf);
  // The reference's order: the address first, then the SNAT; the pair goes by its host end.
  const released = allocator(req, conf).release(req.env.containerId, req.env.ifname);
  await teardownEgressSnat({ network: req.config.name, containerId: req.env.containerId, family: conf.family });
  await egress.teardown();
  log("info", `${egress.name} egress removed`, { address: released?.address ?? "none held" });
}

async function check(req: PluginRequest): Promise<void> {
  const { conf } = prepare(req);
  if (!conf.enabled) return;
  const held = allocator(req, conf).find(req.env.containerId, req.env.ifname);
  if (held === undefined) throw new CniError(ErrDrift, "egress-cni check: the attachment holds no egress address");
  const drifts = [
    ...(await pair(req, conf).check(held.address)),
    ...(await egressSnatDrifts({ network: req.config.name, containerId: req.env.containerId, address: held.address })),
  ];
  if (drifts.length > 0) throw new CniError(ErrDrift, `egress-cni check: drifted: ${drifts.join("; ")}`);
}

/**
 * GC (CNI 1.1.0; the reference's egress plugin has none): every egress address of this network whose
 * attachment the runtime no longer lists is released, with its SNAT chain and its veth's host end.
 */
async function gc(req: GcRequest): Promise<void> {
  const { conf, log } = prepare(req);
  if (!conf.enabled) return;
  const valid = new Set(req.validAttachments.map((a) => `${a.containerID}\u0000${a.ifname}`));
  const ipam = allocator(req, conf);
  const stale = ipam.holders().filter((h) => !valid.has(`${h.containerId}\u0000${h.ifName ?? ""}`) && !(h.ifName === undefined && req.validAttachments.some((a) => a.containerID === h.containerId)));
  const errors: string[] = [];
  for (const h of stale) {
    const egress = pair({ ...req, env: { ...req.env, containerId: h.containerId } }, conf);
    try {
      await teardownEgressSnat({ network: req.config.name, containerId: h.containerId, family: conf.family });
      await egress.teardown();
      ipam.release(h.containerId, h.ifName ?? "");
    } catch (err) {
      errors.push(`${h.address}: ${(err as Error).message}`);
    }
  }
  log("info", "egress addresses garbage collected", { released: stale.map((h) => h.address), failed: errors });
  if (errors.length > 0) throw new CniError(ErrDatapath, `egress-cni gc: ${errors.join("; ")}`);
}

void pluginMain({ add, del, check, gc });
