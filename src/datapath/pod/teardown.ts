// DEL (reference §5.4): the host side goes, and the pod's end of the veth when its namespace is still
// there. Idempotent: what is already gone counts as removed.

import { DatapathCommandError, isNotFound } from "../exec.ts";
import { batchLineError, ipBatch, parseJsonBatch, type IpRunner } from "../ip-batch.ts";
import { DatapathInputError, validateIfName, validatePodAddress } from "../validate.ts";
import { message, NetnsNotFoundError, PodNetworkError } from "./errors.ts";
import { hostTeardownLines, tableName } from "./host-routes.ts";
import { assertNetns, hostSide, podRunner, validateNetnsPath } from "./namespaces.ts";

export interface PodTeardownOptions {
  address: string;
  routeTableId: number;
  /** When known, only the host route through this device is deleted. */
  hostVethName?: string | undefined;
  /** CNI_NETNS; empty or missing (the namespace is already gone) is fine. */
  netnsPath?: string | undefined;
  /** CNI_IFNAME: with netnsPath, the pod's end of the veth is deleted inside the namespace. */
  ifName?: string | undefined;
  hostNetns?: string | undefined;
}

const GONE = /No such file or directory|No such process|Cannot find device|FIB table does not exist/;
/** Bound on deleting duplicate rules (only a non-EXCL writer can create them). */
const MAX_DUPLICATE_RULES = 64;

/**
 * Removes the pod's host routing (reference §5.4): the 512 to-rule, every 1536 from-rule for the
 * address and table, the host route. Idempotent: what is already gone counts as removed.
 *
 * The veth: the reference leaves it to die with the namespace. When the namespace still exists we
 * delete the pod's end (CNI_IFNAME) from inside it, which removes the pair. We never delete the host
 * end by name: the name is derived from the pod's namespace and name, so a newer sandbox of the same
 * pod (set up before the old one's DEL arrives) carries the same host name, and deleting by name
 * would cut the new sandbox off. The pod's end inside the old namespace can only be the old pair.
 * Deleting a veth costs ~20 ms of kernel time (an RCU grace period); it runs alongside the host part.
 *
 * Like the reference, the rules carry no device: if the address already went to another pod (the
 * agent's cooldown prevents that), its identical rules go too. With hostVethName the route at least
 * is only deleted through that device.
 */
export async function teardownPodNetwork(options: PodTeardownOptions): Promise<void> {
  const { address, family } = validatePodAddress(options.address);
  const ipOptions = family === "6" ? ["-6"] : [];
  const table = tableName(options.routeTableId);
  const hostVeth = options.hostVethName === undefined || options.hostVethName === "" ? undefined : validateIfName(options.hostVethName);
  const netnsPath = options.netnsPath === undefined || options.netnsPath === "" ? undefined : validateNetnsPath(options.netnsPath);
  const ifName = options.ifName === undefined || options.ifName === "" ? undefined : validateIfName(options.ifName);
  const host = hostSide(options.hostNetns);

  const lines = hostTeardownLines(address, table, hostVeth, family);

  const hostPart = async () => {
    const outcome = await ipBatch(host.runner, lines, { force: true, ipOptions });
    const fatal = outcome.failures.find((failure) => !GONE.test(failure.message));
    if (fatal !== undefined) throw batchLineError(host.runner, lines, fatal, { force: true, ipOptions });
    const refused = new Set(outcome.failures.map((failure) => failure.line));
    // The second of each pair of identical rule deletions: when it was not refused, duplicates exist.
    for (const [index, text] of lines.entries()) {
      if (index === 0 || lines[index - 1] !== text || !text.startsWith("rule del") || refused.has(index + 1)) continue;
      for (let i = 0; i < MAX_DUPLICATE_RULES; i++) {
        const again = await ipBatch(host.runner, [text], { force: true, ipOptions });
        const failure = again.failures[0];
        if (failure === undefined) continue;
        if (!GONE.test(failure.message)) throw batchLineError(host.runner, [text], failure, { force: true, ipOptions });
        break;
      }
    }
  };

  const podPart = async () => {
    if (netnsPath === undefined || ifName === undefined) return;
    try {
      await assertNetns(netnsPath);
    } catch (error) {
      // Gone, or an empty file left where it was mounted: nothing of ours can be in it.
      if (error instanceof NetnsNotFoundError || error instanceof DatapathInputError) return;
      throw error;
    }
    const podLines = [`link del dev ${ifName}`];
    try {
      // Only the pod's own interface goes: the one carrying the pod's address. A CNI_NETNS of
      // /proc/PID/ns/net whose PID was reused, or a path that names the host's namespace, would
      // otherwise have us delete the host's (or another pod's) eth0.
      if (!(await podInterfaceHasAddress(podRunner(netnsPath), ifName, address, family))) return;
      const outcome = await ipBatch(podRunner(netnsPath), podLines, {});
      const failure = outcome.failures[0];
      if (failure !== undefined && !GONE.test(failure.message)) throw batchLineError(podRunner(netnsPath), podLines, failure);
    } catch (error) {
      // The namespace went away between the check and the command.
      if (error instanceof DatapathCommandError && isNotFound(error)) return;
      throw error;
    }
  };

  const results = await Promise.allSettled([hostPart(), podPart()]);
  const errors = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
  if (errors.length > 0) {
    throw new PodNetworkError("teardown", errors.map(message).join("; "), errors[0]);
  }
}

/** Whether `ifName` in the runner's namespace has `address`/32 (/128); false when it does not exist. */
async function podInterfaceHasAddress(runner: IpRunner, ifName: string, address: string, family: "4" | "6"): Promise<boolean> {
  const lines = [`addr show dev ${ifName}`];
  const outcome = await ipBatch(runner, lines, { ipOptions: ["-j", `-${family}`] });
  const failure = outcome.failures[0];
  if (failure !== undefined) {
    if (GONE.test(failure.message) || /does not exist/.test(failure.message)) return false;
    throw batchLineError(runner, lines, failure);
  }
  const entries = parseJsonBatch(outcome.stdout)[0] ?? [];
  return entries.some(
    (entry) =>
      entry["ifname"] === ifName &&
      Array.isArray(entry["addr_info"]) &&
      (entry["addr_info"] as Array<Record<string, unknown>>).some((info) => info["local"] === address && info["prefixlen"] === (family === "6" ? 128 : 32)),
  );
}
