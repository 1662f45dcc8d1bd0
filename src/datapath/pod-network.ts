// The datapath of one pod (reference §5.3 ADD, §5.4 DEL, plus a CHECK the reference lacks):
//
//   pod:  <ifName> (veth)  address <ip>/32
//         169.254.1.1 dev <ifName> scope link
//         default via 169.254.1.1 dev <ifName>
//         neighbour 169.254.1.1 lladdr <host veth MAC> PERMANENT
//   host: <hostVeth> (its peer), up, IPv6 accept_ra=0 accept_redirects=1 forwarding=0
//         <ip> dev <hostVeth> scope link                   (main)
//         512:  from all to <ip> lookup main
//         1536: from <ip> lookup <T>                       (only when T is not main)
//
// This module is bundled into the plugin, which runs once per pod: it imports only node:* and
// src/datapath, does nothing at load, and spends process spawns sparingly. An ADD is two `ip -batch`
// runs (one in the pod's namespace, one on the host); host-side sysctls are written to /proc/sys
// directly; the host's links are read from /proc and /sys. Only a stale host link costs a third.

import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { DatapathCommandError, isNotFound, resolveTool, run } from "./exec.ts";
import { batchLineError, ipBatch, parseJsonBatch, type BatchLineFailure, type IpRunner } from "./ip-batch.ts";
import { parseIpv4Routes, parseIpv4Rules } from "./ip.ts";
import { DatapathInputError, validateIfName, validateIpv4, validateMtu, validateNetnsName } from "./validate.ts";

/** The pod's gateway: never on any wire, answered by the permanent neighbour entry. */
export const POD_GATEWAY = "169.254.1.1";
/** Reference §5.6: `to <podIP> lookup main`. */
export const TO_POD_RULE_PRIORITY = 512;
/** Reference §5.6: `from <podIP> lookup <ENI table>`, for pods on secondary ENIs. */
export const FROM_POD_RULE_PRIORITY = 1536;
import { MAIN_TABLE } from "./route-table.ts";
export { MAIN_TABLE };

export interface PodNetworkOptions {
  /** CNI_NETNS: `/var/run/netns/NAME`, `/proc/PID/ns/net`, or any nsfs bind mount. */
  netnsPath: string;
  /** CNI_IFNAME, usually eth0. */
  ifName: string;
  /** See podHostVethName (veth-name.ts). */
  hostVethName: string;
  /** The pod's IPv4 address (installed as /32). */
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

/** Which part of the wiring failed; also what the error message starts with. */
export type PodNetworkStep =
  | "netns"
  | "host-links"
  | "stale-link"
  | "veth"
  | "pod-link-up"
  | "pod-gateway-route"
  | "pod-default-route"
  | "pod-address"
  | "pod-neighbour"
  | "host-sysctl"
  | "host-link-up"
  | "host-route"
  | "to-rule"
  | "from-rule"
  | "teardown"
  | "check";

/** An ADD/DEL/CHECK that failed at `step`; an ADD has already undone what it did (see rollbackErrors). */
export class PodNetworkError extends Error {
  readonly step: PodNetworkStep;
  /** Rollback actions that failed as well: then something may be left behind, and this says what. */
  readonly rollbackErrors: readonly unknown[];

  constructor(step: PodNetworkStep, message: string, cause: unknown, rollbackErrors: readonly unknown[] = []) {
    let text = `${step}: ${message}`;
    if (rollbackErrors.length > 0) {
      text += `; rollback incomplete: ${rollbackErrors.map((error) => (error instanceof Error ? error.message : String(error))).join("; ")}`;
    }
    super(text, { cause });
    this.name = "PodNetworkError";
    this.step = step;
    this.rollbackErrors = rollbackErrors;
  }
}

/** The address is already routed to another device on the host: another pod has it. */
export class PodAddressInUseError extends PodNetworkError {
  readonly address: string;
  /** The device the existing route points to, when it could be read. */
  readonly holder: string | undefined;

  constructor(address: string, holder: string | undefined, cause: unknown, rollbackErrors: readonly unknown[] = []) {
    super("host-route", `${address} is already routed on the host${holder === undefined ? "" : ` to ${holder}`} (another pod has it)`, cause, rollbackErrors);
    this.name = "PodAddressInUseError";
    this.address = address;
    this.holder = holder;
  }
}

/** CNI_NETNS names nothing: the runtime's problem, not an internal failure. */
export class NetnsNotFoundError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`network namespace ${path} does not exist`);
    this.name = "NetnsNotFoundError";
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------
// Inputs

function validateNetnsPath(value: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.length > 4096 || /[\0\n\r]/.test(value)) {
    throw new DatapathInputError(`invalid network namespace path ${JSON.stringify(value)}: an absolute path`);
  }
  return value;
}

/**
 * The table's name as `ip rule` prints it, "main" for the primary ENI. Legacy results encoded table 1
 * for the primary ENI, which the reference reads as main too; 0, 253 (default) and 255 (local) are
 * never an ENI's.
 */
function tableName(value: number): string {
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff || value === 253 || value === 255) {
    throw new DatapathInputError(`invalid route table ${JSON.stringify(value)}: an integer in 1..2^32-1, not 253 or 255`);
  }
  return value === 1 || value === MAIN_TABLE ? "main" : String(value);
}

// ---------------------------------------------------------------------------------------------
// Where the commands run

interface HostSide {
  runner: IpRunner;
  /** How `ip` inside the pod's namespace names the host namespace for `peer … netns`. */
  nsRef: string;
  /** Set in tests: the host is a named namespace. */
  netns: string | undefined;
}

function hostSide(hostNetns: string | undefined): HostSide {
  if (hostNetns === undefined) {
    // Our own namespace, by a path that stays valid while we wait for the child.
    return { runner: { file: "ip", args: [] }, nsRef: `/proc/${process.pid}/ns/net`, netns: undefined };
  }
  const name = validateNetnsName(hostNetns);
  return { runner: { file: "ip", args: ["-n", name] }, nsRef: `/var/run/netns/${name}`, netns: name };
}

let iprouteNetnsDir: string | null | undefined;

/** Where `ip -n NAME` looks (/var/run/netns), resolved once: /run/netns/NAME is the same file only if /var/run is /run. */
function iprouteNetnsDirReal(): string | null {
  if (iprouteNetnsDir === undefined) {
    try {
      iprouteNetnsDir = realpathSync("/var/run/netns");
    } catch {
      iprouteNetnsDir = null;
    }
  }
  return iprouteNetnsDir;
}

/**
 * `ip -n NAME` for iproute2's own namespace files (what containerd and podman use): measured 0.6 ms
 * cheaper than `nsenter --net=PATH ip`, which serves every other path (/proc/PID/ns/net, …).
 */
function podRunner(netnsPath: string): IpRunner {
  const match = /^(\/var\/run\/netns|\/run\/netns)\/([^/]+)$/.exec(netnsPath);
  const dir = match?.[1];
  const name = match?.[2];
  if (dir !== undefined && name !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    if (dir === "/var/run/netns" || iprouteNetnsDirReal() === "/run/netns") return { file: "ip", args: ["-n", name] };
  }
  // nsenter looks `ip` up on PATH itself: hand it the resolved path (a runtime's PATH may lack sbin).
  return { file: "nsenter", args: [`--net=${netnsPath}`, resolveTool("ip")] };
}

const NSFS_MAGIC = 0x6e736673;
const PROC_SUPER_MAGIC = 0x9fa0;

/** Whether the path is a live namespace; throws NetnsNotFoundError when it names nothing. */
async function assertNetns(netnsPath: string): Promise<void> {
  let type: number;
  try {
    type = (await statfs(netnsPath)).type;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new NetnsNotFoundError(netnsPath);
    throw error;
  }
  // A namespace file whose bind mount is gone is an empty file on tmpfs: not a namespace any more.
  if (type !== NSFS_MAGIC && type !== PROC_SUPER_MAGIC) {
    throw new DatapathInputError(`${netnsPath} is not a network namespace (filesystem type 0x${type.toString(16)})`);
  }
}

/** Host links by name → lower-case MAC. */
async function hostLinks(host: HostSide): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  if (host.netns !== undefined) {
    const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "link", "show"]);
    for (const entry of JSON.parse(stdout) as Array<Record<string, unknown>>) {
      links.set(String(entry["ifname"]), typeof entry["address"] === "string" ? entry["address"].toLowerCase() : "");
    }
    return links;
  }
  // /proc/self/net is always this process's namespace (sysfs is the mounter's, hence names from
  // here); a MAC that cannot be read only weakens the uniqueness check, which is a courtesy.
  for (const line of readFileSync("/proc/self/net/dev", "utf8").split("\n").slice(2)) {
    const name = line.split(":")[0]?.trim();
    if (name === undefined || name === "") continue;
    let mac = "";
    try {
      mac = readFileSync(`/sys/class/net/${name}/address`, "utf8").trim().toLowerCase();
    } catch {
      // Vanished meanwhile, or sysfs of another namespace: keep the name.
    }
    links.set(name, mac);
  }
  return links;
}

/** A random locally administered unicast MAC (first octet x2/x6/xA/xE). */
function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/** Reference: 10 tries at a MAC no host link has. */
function uniqueMac(inUse: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const mac = randomMac();
    if (!inUse.has(mac)) return mac;
  }
  throw new Error("no unique MAC address after 10 tries");
}

const HOST_VETH_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  // No router advertisements or forwarding on the host end (IPv6); redirects accepted as the
  // reference does. Set before the link is up so no RA is ever processed on it.
  ["accept_ra", "0"],
  ["accept_redirects", "1"],
  ["forwarding", "0"],
];

/** The host veth's IPv6 sysctls; absent (IPv6 disabled) is fine, as in the reference. */
async function setHostVethSysctls(host: HostSide, name: string): Promise<void> {
  if (host.netns === undefined) {
    // /proc/sys/net shows the namespace of the process that opens it: ours.
    for (const [key, value] of HOST_VETH_SYSCTLS) {
      try {
        writeFileSync(`/proc/sys/net/ipv6/conf/${name}/${key}`, value);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return;
  }
  // Another namespace's /proc/sys needs a process inside it. The name is an argument ($1), never
  // part of the script text.
  const script = 'd=/proc/sys/net/ipv6/conf/$1; [ -d "$d" ] || exit 0; ' + HOST_VETH_SYSCTLS.map(([key, value]) => `echo ${value} > "$d/${key}"`).join(" && ");
  await run("nsenter", [`--net=/var/run/netns/${host.netns}`, resolveTool("sh"), "-c", script, "sh", name]);
}

async function deleteHostLink(host: HostSide, name: string): Promise<void> {
  try {
    await run(host.runner.file, [...host.runner.args, "link", "del", "dev", name]);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Deletes the host link only if it carries the MAC we generated: proof that this ADD created it. */
async function deleteHostVethIfOurs(host: HostSide, name: string, mac: string): Promise<void> {
  let stdout: string;
  try {
    ({ stdout } = await run(host.runner.file, [...host.runner.args, "-j", "link", "show", "dev", name]));
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const entry = (JSON.parse(stdout) as Array<Record<string, unknown>>)[0];
  if (entry === undefined || String(entry["address"]).toLowerCase() !== mac) return;
  await deleteHostLink(host, name);
}

const ADD_TIMEOUT_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// ADD

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
  const address = validateIpv4(options.address, "pod address");
  const table = tableName(options.routeTableId);
  const mtu = validateMtu(options.mtu);
  const host = hostSide(options.hostNetns);
  const pod = podRunner(netnsPath);

  await assertNetns(netnsPath);

  let links: Map<string, string>;
  try {
    links = await hostLinks(host);
  } catch (error) {
    throw new PodNetworkError("host-links", `reading the host's links: ${message(error)}`, error);
  }
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

  // In the pod: created from inside, the host end placed directly in the host namespace, so the pod's
  // interface name never exists on the host (where eth0 is taken).
  const podSteps: PodNetworkStep[] = ["veth", "pod-link-up", "pod-gateway-route", "pod-default-route", "pod-address", "pod-neighbour"];
  const podLines = [
    `link add name ${ifName} address ${podMac} mtu ${mtu} type veth peer name ${hostVeth} address ${hostMac} mtu ${mtu} netns ${host.nsRef}`,
    `link set dev ${ifName} up`,
    `route replace ${POD_GATEWAY}/32 dev ${ifName} scope link`,
    `route replace default via ${POD_GATEWAY} dev ${ifName}`,
    `addr add ${address}/32 dev ${ifName}`,
    `neigh add ${POD_GATEWAY} lladdr ${hostMac} nud permanent dev ${ifName}`,
  ];
  let podFailure: BatchLineFailure | undefined;
  try {
    podFailure = (await ipBatch(pod, podLines, { timeoutMs: ADD_TIMEOUT_MS })).failures[0];
  } catch (error) {
    // Not attributable to a line (the namespace vanished, a timeout): the veth may or may not exist.
    const rollbackErrors = await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    throw new PodNetworkError("veth", `configuring the pod's namespace: ${message(error)}`, error, rollbackErrors);
  }
  if (podFailure !== undefined) {
    const step = podSteps[podFailure.line - 1] ?? "veth";
    // A refused `link add` created nothing (and the name may be someone else's); after it, the veth is ours.
    const rollbackErrors = step === "veth" ? [] : await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    const error = batchLineError(pod, podLines, podFailure);
    throw new PodNetworkError(step, error.message, error, rollbackErrors);
  }

  try {
    await setHostVethSysctls(host, hostVeth);
  } catch (error) {
    const rollbackErrors = await attempt([() => deleteHostVethIfOurs(host, hostVeth, hostMac)]);
    throw new PodNetworkError("host-sysctl", `IPv6 sysctls of ${hostVeth}: ${message(error)}`, error, rollbackErrors);
  }

  // On the host, with -force so every line runs and each refusal is known: an identical rule already
  // there (a leftover of an earlier pod with this address, or the live pod that has it) is refused
  // with "File exists" and is not ours to remove on rollback.
  const hostSteps: PodNetworkStep[] = ["host-link-up", "host-route", "to-rule"];
  const hostLines = [
    `link set dev ${hostVeth} up`,
    `route add ${address}/32 dev ${hostVeth} scope link`,
    `rule add to ${address}/32 lookup main priority ${TO_POD_RULE_PRIORITY}`,
  ];
  if (table !== "main") {
    hostSteps.push("from-rule");
    hostLines.push(`rule add from ${address}/32 lookup ${table} priority ${FROM_POD_RULE_PRIORITY}`);
  }
  const isRuleLine = (line: number) => hostSteps[line - 1] === "to-rule" || hostSteps[line - 1] === "from-rule";
  let hostFailures: BatchLineFailure[];
  try {
    hostFailures = (await ipBatch(host.runner, hostLines, { force: true, timeoutMs: ADD_TIMEOUT_MS })).failures;
  } catch (error) {
    // Outcome unknown (ip could not run, or timed out): the veth goes; the rules are identical to a
    // live pod's if one has this address, so they go only when no route to the address is left.
    const rollbackErrors = await attempt([
      () => deleteHostVethIfOurs(host, hostVeth, hostMac),
      async () => {
        if ((await routeHolder(host, address)) !== undefined) return;
        const dels = hostLines.filter((_, index) => isRuleLine(index + 1)).map((line) => line.replace(/^rule add /, "rule del "));
        await ipBatch(host.runner, dels, { force: true, timeoutMs: ADD_TIMEOUT_MS });
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
  const addedRules = hostLines.filter((_, index) => isRuleLine(index + 1) && !refused.has(index + 1)).map((line) => line.replace(/^rule add /, "rule del "));
  const rollbackErrors = await attempt([
    async () => {
      if (addedRules.length === 0) return;
      const outcome = await ipBatch(host.runner, addedRules, { force: true, timeoutMs: ADD_TIMEOUT_MS });
      const left = outcome.failures.filter((failure) => !/No such file or directory/.test(failure.message));
      const first = left[0];
      if (first !== undefined) throw batchLineError(host.runner, addedRules, first, { force: true });
    },
    () => deleteHostVethIfOurs(host, hostVeth, hostMac),
  ]);
  const first = fatal[0] as BatchLineFailure;
  const error = batchLineError(host.runner, hostLines, first, { force: true });
  const step = hostSteps[first.line - 1] ?? "host-link-up";
  if (step === "host-route" && /File exists/.test(first.message)) {
    throw new PodAddressInUseError(address, await routeHolder(host, address), error, rollbackErrors);
  }
  throw new PodNetworkError(step, error.message, error, rollbackErrors);
}

/** The device of the main-table route to `address`, for the error message only. */
async function routeHolder(host: HostSide, address: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(host.runner.file, [...host.runner.args, "-j", "-4", "route", "show", "table", "main", "exact", `${address}/32`]);
    return parseIpv4Routes(JSON.parse(stdout) as Array<Record<string, unknown>>)[0]?.dev;
  } catch {
    return undefined;
  }
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// DEL

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
  const address = validateIpv4(options.address, "pod address");
  const table = tableName(options.routeTableId);
  const hostVeth = options.hostVethName === undefined || options.hostVethName === "" ? undefined : validateIfName(options.hostVethName);
  const netnsPath = options.netnsPath === undefined || options.netnsPath === "" ? undefined : validateNetnsPath(options.netnsPath);
  const ifName = options.ifName === undefined || options.ifName === "" ? undefined : validateIfName(options.ifName);
  const host = hostSide(options.hostNetns);

  const toRule = `rule del to ${address}/32 lookup main priority ${TO_POD_RULE_PRIORITY}`;
  const fromRule = `rule del from ${address}/32 lookup ${table} priority ${FROM_POD_RULE_PRIORITY}`;
  // Each rule twice: the second is normally refused (gone), and if it is not, duplicates exist and
  // are deleted below until none is left.
  const lines = [toRule, toRule];
  if (table !== "main") lines.push(fromRule, fromRule);
  lines.push(`route del ${address}/32${hostVeth === undefined ? "" : ` dev ${hostVeth}`} table main scope link`);

  const hostPart = async () => {
    const outcome = await ipBatch(host.runner, lines, { force: true });
    const fatal = outcome.failures.find((failure) => !GONE.test(failure.message));
    if (fatal !== undefined) throw batchLineError(host.runner, lines, fatal, { force: true });
    const refused = new Set(outcome.failures.map((failure) => failure.line));
    for (const line of [2, 4]) {
      const text = lines[line - 1];
      if (text === undefined || !text.startsWith("rule del") || refused.has(line)) continue;
      for (let i = 0; i < MAX_DUPLICATE_RULES; i++) {
        const again = await ipBatch(host.runner, [text], { force: true });
        const failure = again.failures[0];
        if (failure === undefined) continue;
        if (!GONE.test(failure.message)) throw batchLineError(host.runner, [text], failure, { force: true });
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
      if (!(await podInterfaceHasAddress(podRunner(netnsPath), ifName, address))) return;
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

/** Whether `ifName` in the runner's namespace has `address`/32; false when it does not exist. */
async function podInterfaceHasAddress(runner: IpRunner, ifName: string, address: string): Promise<boolean> {
  const lines = [`addr show dev ${ifName}`];
  const outcome = await ipBatch(runner, lines, { ipOptions: ["-j", "-4"] });
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
      (entry["addr_info"] as Array<Record<string, unknown>>).some((info) => info["local"] === address && info["prefixlen"] === 32),
  );
}

// ---------------------------------------------------------------------------------------------
// CHECK

export type PodDriftItem =
  | "pod-interface"
  | "pod-address"
  | "pod-gateway-route"
  | "pod-default-route"
  | "neighbour"
  | "host-veth"
  | "host-route"
  | "to-rule"
  | "from-rule";

export interface PodDrift {
  item: PodDriftItem;
  /** What setupPodNetwork installs, in `ip` terms. */
  expected: string;
  /** What is there instead ("missing" when nothing is). */
  found: string;
}

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
  const address = validateIpv4(options.address, "pod address");
  const table = tableName(options.routeTableId);
  const host = hostSide(options.hostNetns);
  await assertNetns(netnsPath);

  const read = async (runner: IpRunner, lines: string[]) => {
    try {
      const outcome = await ipBatch(runner, lines, { ipOptions: ["-j", "-4"] });
      const failure = outcome.failures[0];
      if (failure !== undefined) throw batchLineError(runner, lines, failure);
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
  const [podLinks = [], podAddrs = [], podRoutesRaw = [], podNeigh = []] = podState;
  const [hostLinksRaw = [], hostRoutesRaw = [], hostRulesRaw = []] = hostState;

  const drifts: PodDrift[] = [];
  const drift = (item: PodDriftItem, expected: string, found: string) => drifts.push({ item, expected, found });

  const podLink = podLinks.find((entry) => entry["ifname"] === ifName);
  const flags = (entry: Record<string, unknown> | undefined) => (Array.isArray(entry?.["flags"]) ? (entry["flags"] as unknown[]).map(String) : []);
  if (podLink === undefined) drift("pod-interface", `${ifName} up`, "missing");
  else if (!flags(podLink).includes("UP")) drift("pod-interface", `${ifName} up`, `${ifName} down`);

  const podAddrInfo = podAddrs.find((entry) => entry["ifname"] === ifName)?.["addr_info"];
  const podAddresses = Array.isArray(podAddrInfo) ? (podAddrInfo as Array<Record<string, unknown>>).map((info) => `${String(info["local"])}/${String(info["prefixlen"])}`) : [];
  if (!podAddresses.includes(`${address}/32`)) drift("pod-address", `${address}/32 dev ${ifName}`, podAddresses.join(", ") || "missing");

  const podRoutes = parseIpv4Routes(podRoutesRaw);
  const gatewayRoute = podRoutes.find((route) => route.dst === POD_GATEWAY && route.dev === ifName);
  if (gatewayRoute === undefined || gatewayRoute.gateway !== undefined || gatewayRoute.scope !== "link") {
    drift("pod-gateway-route", `${POD_GATEWAY} dev ${ifName} scope link`, gatewayRoute === undefined ? "missing" : describeRoute(gatewayRoute));
  }
  const defaultRoutes = podRoutes.filter((route) => route.dst === "default");
  if (!defaultRoutes.some((route) => route.gateway === POD_GATEWAY && route.dev === ifName)) {
    drift("pod-default-route", `default via ${POD_GATEWAY} dev ${ifName}`, defaultRoutes.map(describeRoute).join(", ") || "missing");
  }

  const hostLink = hostLinksRaw.find((entry) => entry["ifname"] === hostVeth);
  const hostMac = typeof hostLink?.["address"] === "string" ? hostLink["address"].toLowerCase() : undefined;
  if (hostLink === undefined) drift("host-veth", `${hostVeth} up`, "missing");
  else if (!flags(hostLink).includes("UP")) drift("host-veth", `${hostVeth} up`, `${hostVeth} down`);

  const neighbour = podNeigh.find((entry) => entry["dst"] === POD_GATEWAY && entry["dev"] === ifName);
  const neighbourMac = typeof neighbour?.["lladdr"] === "string" ? neighbour["lladdr"].toLowerCase() : undefined;
  const permanent = Array.isArray(neighbour?.["state"]) && (neighbour["state"] as unknown[]).includes("PERMANENT");
  const wantedMac = hostMac ?? "<host veth MAC>";
  if (neighbour === undefined || !permanent || (hostMac !== undefined && neighbourMac !== hostMac)) {
    drift(
      "neighbour",
      `${POD_GATEWAY} dev ${ifName} lladdr ${wantedMac} PERMANENT`,
      neighbour === undefined ? "missing" : `lladdr ${neighbourMac ?? "none"} ${Array.isArray(neighbour["state"]) ? (neighbour["state"] as unknown[]).join(",") : ""}`.trim(),
    );
  }

  const hostRoutes = parseIpv4Routes(hostRoutesRaw).filter((route) => route.dst === address);
  if (!hostRoutes.some((route) => route.dev === hostVeth && route.gateway === undefined && route.scope === "link")) {
    drift("host-route", `${address} dev ${hostVeth} scope link`, hostRoutes.map(describeRoute).join(", ") || "missing");
  }

  const rules = parseIpv4Rules(hostRulesRaw);
  const toRules = rules.filter((rule) => rule.priority === TO_POD_RULE_PRIORITY && rule.dst === address && rule.dstlen === 32);
  if (!toRules.some((rule) => rule.table === "main" && rule.src === undefined && !rule.not && rule.other.length === 0)) {
    drift("to-rule", `${TO_POD_RULE_PRIORITY}: to ${address} lookup main`, toRules.map((rule) => `lookup ${rule.table}`).join(", ") || "missing");
  }
  const fromRules = rules.filter((rule) => rule.priority === FROM_POD_RULE_PRIORITY && rule.src === address && rule.srclen === 32);
  if (table === "main") {
    if (fromRules.length > 0) drift("from-rule", "none (primary ENI)", fromRules.map((rule) => `${FROM_POD_RULE_PRIORITY}: from ${address} lookup ${rule.table}`).join(", "));
  } else if (!fromRules.some((rule) => rule.table === table && rule.dst === undefined && !rule.not && rule.other.length === 0)) {
    drift("from-rule", `${FROM_POD_RULE_PRIORITY}: from ${address} lookup ${table}`, fromRules.map((rule) => `lookup ${rule.table}`).join(", ") || "missing");
  }
  return drifts;
}

function describeRoute(route: { dst: string; gateway?: string; dev?: string; scope?: string }): string {
  return [route.dst, route.gateway === undefined ? "" : `via ${route.gateway}`, route.dev === undefined ? "" : `dev ${route.dev}`, route.scope === undefined ? "" : `scope ${route.scope}`]
    .filter((part) => part !== "")
    .join(" ");
}
