// Test fixture: a throwaway "EC2 node" in network namespaces of the test's own. The node namespace
// has eth0 (primary ENI, addressed, default route) and eth1 (a secondary ENI, bare) with fixed MACs;
// their veth peers sit in a second namespace, so nothing ever touches the root namespace's links,
// rules or iptables, and no packet leaves these namespaces.

import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { run } from "./exec.ts";

export const PRIMARY_MAC = "02:dd:00:00:00:10";
export const ENI1_MAC = "02:dd:00:00:00:11";
export const PRIMARY_IP = "10.0.1.10";

/** Why root-only tests are skipped, or false when they can run. */
export function skipWithoutRoot(): string | false {
  if (typeof process.getuid === "function" && process.getuid() === 0) return false;
  return "needs root: creates network namespaces and programs iptables inside them";
}

export interface TestNode {
  /** The node's namespace. */
  netns: string;
  peer: string;
  prefix: string;
}

/** A per-run prefix `dp-<hex>-` so parallel or leftover runs never collide. */
export function runPrefix(): string {
  return `dp-${randomBytes(4).toString("hex")}-`;
}

let counter = 0;

export async function createTestNode(prefix: string): Promise<TestNode> {
  counter++;
  const netns = `${prefix}n${counter}`;
  const peer = `${prefix}p${counter}`;
  await run("ip", ["netns", "add", netns]);
  await run("ip", ["netns", "add", peer]);
  const lines = [
    `link add eth0 address ${PRIMARY_MAC} mtu 1500 type veth peer name p0 netns ${peer}`,
    `link add eth1 address ${ENI1_MAC} mtu 1500 type veth peer name p1 netns ${peer}`,
    "addr add 10.0.1.10/24 dev eth0",
    "link set eth0 up",
    "route add default via 10.0.1.1 dev eth0",
  ];
  await run("ip", ["-n", netns, "-batch", "-"], { input: lines.join("\n") + "\n" });
  await run("ip", ["-n", peer, "-batch", "-"], { input: "link set p0 up\nlink set p1 up\n" });
  return { netns, peer, prefix };
}

/** Adds another secondary-ENI-like link (for the late-appearing-link test). */
export async function addLink(node: TestNode, name: string, mac: string): Promise<void> {
  await run("ip", ["-n", node.netns, "link", "add", name, "address", mac, "type", "veth", "peer", "name", `q${name}`, "netns", node.peer]);
}

/** Deletes every namespace with the prefix (the run's), whatever state the test left. */
export async function removeNamespaces(prefix: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir("/run/netns");
  } catch {
    return;
  }
  for (const name of names.filter((candidate) => candidate.startsWith(prefix))) {
    await run("ip", ["netns", "del", name]).catch(() => {});
  }
}

/** iptables-save of the namespace without comment lines and counters: stable across runs. */
export async function iptablesSaveStable(netns: string): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "exec", netns, "iptables-save"]);
  return stdout
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ""));
}

export async function inNode(node: TestNode, file: string, args: readonly string[]): Promise<string> {
  return (await run("ip", ["netns", "exec", node.netns, file, ...args])).stdout;
}
