import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { ensureNodeSysctls } from "./node-sysctls.ts";
import { run } from "./exec.ts";
import { createTestNode, removeNamespaces, runPrefix, skipWithoutRoot } from "./node-netns.test-support.ts";

const skip = skipWithoutRoot();
const prefix = runPrefix();
const sysctl = async (netns: string, key: string) => (await run("ip", ["netns", "exec", netns, "sysctl", "-n", key])).stdout.trim();

/** Runs ensureNodeSysctls in a child whose /proc/sys is read-only, as in a container without privileges. */
function inReadOnlyProcSys(netns: string): { status: number; stdout: string; stderr: string } {
  const module = resolve(import.meta.dirname, "node-sysctls.ts");
  const script = `const m = await import(${JSON.stringify(module)}); console.log(JSON.stringify(await m.ensureNodeSysctls({ netns: ${JSON.stringify(netns)} }, "eth0")));`;
  const node = process.execPath;
  const r = spawnSync("unshare", ["--mount", "sh", "-c", 'mount --bind -o ro /proc/sys /proc/sys && exec "$0" "$@"', node, "--input-type=module", "-e", script], { encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("node sysctls", { skip }, () => {
  after(async () => {
    await removeNamespaces(prefix);
  });

  it("sets rp_filter=2 on the primary interface and IPv4 forwarding, writing only what differs", async () => {
    const node = await createTestNode(prefix);
    await run("ip", ["netns", "exec", node.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0", "net.ipv4.conf.eth0.rp_filter=1"]);
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0"), ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/ip_forward"]);
    assert.equal(await sysctl(node.netns, "net.ipv4.conf.eth0.rp_filter"), "2");
    assert.equal(await sysctl(node.netns, "net.ipv4.ip_forward"), "1");
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0"), []);
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0", { rpFilter: false }), []);
  });

  it("on IPv6 nodes: IPv6 on, accept_ra=2 on the primary interface, IPv6 forwarding (ENABLE_V6_EGRESS: the last two)", async () => {
    const node = await createTestNode(prefix);
    await run("ip", ["netns", "exec", node.netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=0", "net.ipv6.conf.eth0.accept_ra=1", "net.ipv6.conf.all.disable_ipv6=1"]);
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0", { v6Egress: true }), ["net/ipv4/conf/eth0/rp_filter", "net/ipv4/ip_forward", "net/ipv6/conf/eth0/accept_ra", "net/ipv6/conf/all/forwarding"]);
    assert.equal(await sysctl(node.netns, "net.ipv6.conf.all.disable_ipv6"), "1", "ENABLE_V6_EGRESS alone leaves disable_ipv6 as it is");
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0", { ipv6: true }), ["net/ipv6/conf/all/disable_ipv6"]);
    assert.equal(await sysctl(node.netns, "net.ipv6.conf.eth0.accept_ra"), "2");
    assert.equal(await sysctl(node.netns, "net.ipv6.conf.all.forwarding"), "1");
    assert.deepEqual(await ensureNodeSysctls({ netns: node.netns }, "eth0", { ipv6: true }), []);
  });

  it("with a read-only /proc/sys (an unprivileged container) it succeeds when the init container set them, and fails plainly when not", async () => {
    const node = await createTestNode(prefix);
    await ensureNodeSysctls({ netns: node.netns }, "eth0");
    const ok = inReadOnlyProcSys(node.netns);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "[]");
    await run("ip", ["netns", "exec", node.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);
    const refused = inReadOnlyProcSys(node.netns);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /sysctl .*net\/ipv4\/ip_forward=1.*(permission denied|Read-only)/is);
    assert.equal(await sysctl(node.netns, "net.ipv4.ip_forward"), "0");
  });
});
