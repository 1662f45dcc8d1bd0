// CHECK (the reference has none): reads the pod's and the host's state, one `ip -j -batch` per
// namespace, and lists each difference from what setupPodNetwork installs.

import { batchLineError, ipBatch, parseJsonBatch, type IpRunner } from "../ip-batch.ts";
import { validateIfName, validatePodAddress } from "../validate.ts";
import { inDriftOrder, type PodDrift } from "./drift.ts";
import { message, PodNetworkError } from "./errors.ts";
import { hostRouteDrifts, tableName } from "./host-routes.ts";
import { assertNetns, hostSide, podRunner, validateNetnsPath } from "./namespaces.ts";
import { podSideDrifts } from "./pod-side.ts";
import { podSideDriftsV6 } from "./pod-side-v6.ts";
import { vethDrifts } from "./veth.ts";

export interface PodCheckOptions {
  netnsPath: string;
  ifName: string;
  hostVethName: string;
  address: string;
  routeTableId: number;
  hostNetns?: string | undefined;
}

/**
 * Compares the pod's and the host's state with what setupPodNetwork installs and lists every
 * difference; an empty list means the pod is wired as set up. Reads only: one `ip -j -batch` per
 * namespace. A missing namespace is NetnsNotFoundError (CNI CHECK must fail then).
 */
export async function checkPodNetwork(options: PodCheckOptions): Promise<PodDrift[]> {
  const netnsPath = validateNetnsPath(options.netnsPath);
  const ifName = validateIfName(options.ifName);
  const hostVeth = validateIfName(options.hostVethName);
  const { address, family } = validatePodAddress(options.address);
  const table = tableName(options.routeTableId);
  const host = hostSide(options.hostNetns);
  await assertNetns(netnsPath);

  const read = async (runner: IpRunner, lines: string[]) => {
    try {
      const ipOptions = ["-j", `-${family}`];
      const outcome = await ipBatch(runner, lines, { ipOptions });
      const failure = outcome.failures[0];
      if (failure !== undefined) throw batchLineError(runner, lines, failure, { ipOptions });
      return parseJsonBatch(outcome.stdout);
    } catch (error) {
      if (error instanceof PodNetworkError) throw error;
      throw new PodNetworkError("check", message(error), error);
    }
  };
  const [podState, hostState] = await Promise.all([
    read(podRunner(netnsPath), ["link show", "addr show", "route show table main", "neigh show"]),
    read(host.runner, ["link show", "route show table main", "rule show"]),
  ]);
  const [podLinks = [], podAddrs = [], podRoutes = [], podNeighbours = []] = podState;
  const [hostLinks = [], hostRoutes = [], hostRules = []] = hostState;

  const veth = vethDrifts(podLinks, hostLinks, ifName, hostVeth);
  return inDriftOrder([
    ...veth.drifts,
    ...(family === "6" ? podSideDriftsV6 : podSideDrifts)({ addrs: podAddrs, routes: podRoutes, neighbours: podNeighbours }, ifName, address, veth.hostMac),
    ...hostRouteDrifts({ routes: hostRoutes, rules: hostRules }, hostVeth, address, table, family),
  ]);
}
