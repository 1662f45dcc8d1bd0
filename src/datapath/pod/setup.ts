// ADD (reference §5.3): the veth pair, the pod side and the host side, in two `ip -batch` runs (one in
// the pod's namespace, one on the host); host-side sysctls are written to /proc/sys directly and the
// host's links read from /proc and /sys. Only a stale host link costs a third. On any failure,
// everything this call did is undone before a PodNetworkError naming the step is thrown.

import { batchLineError, ipBatch, type BatchLineFailure } from "../ip-batch.ts";
import { validateIfName, validateMtu, validatePodAddress } from "../validate.ts";
import { message, PodAddressInUseError, PodNetworkError, type StepLine } from "./errors.ts";
import { hostRouteLines, isRuleStep, routeHolder, ruleDeletion, tableName } from "./host-routes.ts";
import { assertNetns, hostSide, podRunner, validateNetnsPath } from "./namespaces.ts";
import { podSideLines } from "./pod-side.ts";
import { podSideLinesV6 } from "./pod-side-v6.ts";
import { deleteHostLink, deleteHostVethIfOurs, enablePodIpv6, hostLinks, hostVethUpLine, podVethLines, randomMac, setHostVethSysctls, uniqueMac } from "./veth.ts";

export interface PodNetworkOptions {
  /** CNI_NETNS: `/var/run/netns/NAME`, `/proc/PID/ns/net`, or any nsfs bind mount. */
  netnsPath: string;
  /** CNI_IFNAME, usually eth0. */
  ifName: string;
  /** See podHostVethName (veth-name.ts). */
  hostVethName: string;
  /** The pod's address: IPv4 (installed as /32, gateway 169.254.1.1) or IPv6 (/128, gateway fe80::1). */
  address: string;
  /** 254 (or legacy 1) for the primary ENI, else the ENI's table: decides the from-rule. */
  routeTableId: number;
  /** Pod MTU, 576-9001 (the plugin clamps configured values before). */
  mtu: number;
  /** Tests only: the "host" is this named namespace instead of the process's own. */
  hostNetns?: string | undefined;
}

export interface PodNetworkResult {
  hostVeth: { name: string; mac: string };
  podInterface: { name: string; mac: string };
}

const ADD_TIMEOUT_MS = 15_000;

/**
 * Wires the pod in. On any failure everything this call did is undone (the veth, which takes the
 * host route with it, and the rules it added) before a PodNetworkError naming the step is thrown.
 *
 * Deviation from the reference: the host route is added, not replaced. A route to the address on
 * another device means another live pod has it (a stale pod's route dies with its veth), and
 * replacing it would silently cut that pod off; refusing it is PodAddressInUseError.
 */
export async function setupPodNetwork(options: PodNetworkOptions): Promise<PodNetworkResult> {
  const netnsPath = validateNetnsPath(options.netnsPath);
  const ifName = validateIfName(options.ifName);
  const hostVeth = validateIfName(options.hostVethName);
  const { address, family } = validatePodAddress(options.address);
  const v6 = family === "6";
  // ip rule and neighbour lines need the family said (`ip -6`); IPv4 batches run as before.
  const ipOptions = v6 ? ["-6"] : [];
  const table = tableName(options.routeTableId);
  const mtu = validateMtu(options.mtu);
  const host = hostSide(options.hostNetns);
  const pod = podRunner(netnsPath);

  await assertNetns(netnsPath);

  // IPv6 pods: IPv6 on in the pod's namespace, alongside the host read (it costs a process spawn).
  const podIpv6 = v6 ? enablePodIpv6(netnsPath).then(() => undefined, (error: unknown) => error) : Promise.resolve(undefined);
  let links: Map<string, string>;
  try {
    links = await hostLinks(host);
  } catch (error) {
    await podIpv6;
    throw new PodNetworkError("host-links", `reading the host's links: ${message(error)}`, error);
  }
  const podIpv6Error = await podIpv6;
  if (podIpv6Error !== undefined) throw new PodNetworkError("veth", `turning IPv6 on in the pod's namespace: ${message(podIpv6Error)}`, podIpv6Error);
  // Reference: a host link of this name is a leftover of an earlier sandbox of the same pod.
  if (links.has(hostVeth)) {
    try {
      await deleteHostLink(host, hostVeth);
    } catch (error) {
      throw new PodNetworkError("stale-link", `deleting the stale host link ${hostVeth}: ${message(error)}`, error);
    }
  }
  const hostMac = uniqueMac(new Set(links.values()));
  // Chosen here rather than read back afterwards: one spawn less, and the result needs it.
  const podMac = randomMac();

  const podPlan: StepLine[] = [...podVethLines({ ifName, podMac, hostVeth, hostMac, mtu }, host), ...(v6 ? podSideLinesV6 : podSideLines)(ifName, address, hostMac)];
  const podLines = podPlan.map((entry) => entry.line);
  let podFailure: BatchLineFailure | undefined;
  try {
    podFailure = (await ipBatch(pod, podLines, { timeoutMs: ADD_TIMEOUT_MS, ipOptions })).failures[0];
  } catch (error) {
    // Not attributable to a line (the namespace vanished, a timeout): the veth may or may not exist.
    const rollbackErrors = await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    throw new PodNetworkError("veth", `configuring the pod's namespace: ${message(error)}`, error, rollbackErrors);
  }
  if (podFailure !== undefined) {
    const step = podPlan[podFailure.line - 1]?.step ?? "veth";
    // A refused `link add` created nothing (and the name may be someone else's); after it, the veth is ours.
    const rollbackErrors = step === "veth" ? [] : await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    const error = batchLineError(pod, podLines, podFailure, { ipOptions });
    throw new PodNetworkError(step, error.message, error, rollbackErrors);
  }

  try {
    await setHostVethSysctls(host, hostVeth, { ipv6Pod: v6 });
  } catch (error) {
    const rollbackErrors = await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    throw new PodNetworkError("host-sysctl", `IPv6 sysctls of ${hostVeth}: ${message(error)}`, error, rollbackErrors);
  }

  // On the host, with -force so every line runs and each refusal is known (see isRuleStep).
  const hostPlan: StepLine[] = [hostVethUpLine(hostVeth), ...hostRouteLines(hostVeth, address, table, family)];
  const hostLines = hostPlan.map((entry) => entry.line);
  const isRuleLine = (line: number) => isRuleStep(hostPlan[line - 1]?.step);
  let hostFailures: BatchLineFailure[];
  try {
    hostFailures = (await ipBatch(host.runner, hostLines, { force: true, timeoutMs: ADD_TIMEOUT_MS, ipOptions })).failures;
  } catch (error) {
    // Outcome unknown (ip could not run, or timed out): the veth goes; the rules are identical to a
    // live pod's if one has this address, so they go only when no route to the address is left.
    const rollbackErrors = await attempt([
      () => deleteHostVethIfOurs(host, hostVeth, hostMac),
      async () => {
        if ((await routeHolder(host, address, family)) !== undefined) return;
        const dels = hostLines.filter((_, index) => isRuleLine(index + 1)).map(ruleDeletion);
        await ipBatch(host.runner, dels, { force: true, timeoutMs: ADD_TIMEOUT_MS, ipOptions });
      },
    ]);
    throw new PodNetworkError("host-link-up", `configuring the host: ${message(error)}`, error, rollbackErrors);
  }
  const fatal = hostFailures.filter((failure) => !(isRuleLine(failure.line) && /File exists/.test(failure.message)));
  if (fatal.length === 0) {
    return { hostVeth: { name: hostVeth, mac: hostMac }, podInterface: { name: ifName, mac: podMac } };
  }

  // Roll back: the rules this batch added (those not refused), then the veth (its routes go with it).
  const refused = new Set(hostFailures.map((failure) => failure.line));
  const addedRules = hostLines.filter((_, index) => isRuleLine(index + 1) && !refused.has(index + 1)).map(ruleDeletion);
  const rollbackErrors = await attempt([
    async () => {
      if (addedRules.length === 0) return;
      const outcome = await ipBatch(host.runner, addedRules, { force: true, timeoutMs: ADD_TIMEOUT_MS, ipOptions });
      const left = outcome.failures.filter((failure) => !/No such file or directory/.test(failure.message));
      const first = left[0];
      if (first !== undefined) throw batchLineError(host.runner, addedRules, first, { force: true, ipOptions });
    },
    () => deleteHostVethIfOurs(host, hostVeth, hostMac),
  ]);
  const first = fatal[0] as BatchLineFailure;
  const error = batchLineError(host.runner, hostLines, first, { force: true, ipOptions });
  const step = hostPlan[first.line - 1]?.step ?? "host-link-up";
  if (step === "host-route" && /File exists/.test(first.message)) {
    throw new PodAddressInUseError(address, await routeHolder(host, address, family), error, rollbackErrors);
  }
  throw new PodNetworkError(step, error.message, error, rollbackErrors);
}

/** Runs every action, collecting failures instead of stopping: a rollback does all it can. */
async function attempt(actions: ReadonlyArray<() => Promise<void>>): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const action of actions) {
    try {
      await action();
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}
