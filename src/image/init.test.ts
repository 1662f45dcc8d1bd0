import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runInit, type InitDeps } from "./init.ts";
import { run } from "../datapath/exec.ts";
import { createTestNode, removeNamespaces, runPrefix, skipWithoutRoot, PRIMARY_MAC } from "../datapath/node-netns.test-support.ts";

function capture() {
  let text = "";
  return { write: (s: string) => (text += s), get text() { return text; } };
}

function sourceDir(plugins: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-init-src-"));
  for (const p of plugins) writeFileSync(join(dir, p), `#!/bin/sh\necho ${p}\n`, { mode: 0o644 });
  return dir;
}

const noImds: InitDeps = { primaryMac: async () => { throw new Error("IMDS: connect ECONNREFUSED 169.254.169.254:80"); } };
const prefix = runPrefix();

describe("vpc-cni-init", () => {
  after(async () => {
    if (!skipWithoutRoot()) await removeNamespaces(prefix);
  });

  it("installs loopback, portmap, bandwidth and tuning, executable, then sets the node's sysctls on the primary ENI", { skip: skipWithoutRoot() }, async () => {
    const node = await createTestNode(prefix);
    await run("ip", ["netns", "exec", node.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0", "net.ipv4.conf.eth0.rp_filter=1"]);
    const deps: InitDeps = { primaryMac: async () => PRIMARY_MAC, target: { netns: node.netns } };
    const src = sourceDir(["loopback", "portmap", "bandwidth", "tuning", "bridge"]);
    const bin = join(mkdtempSync(join(tmpdir(), "vpc-cni-init-bin-")), "opt", "cni", "bin");
    const out = capture();
    const err = capture();
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, out, err, deps), 0, err.text);
    assert.deepEqual(readdirSync(bin).sort(), ["bandwidth", "loopback", "portmap", "tuning"]);
    assert.equal(statSync(join(bin, "portmap")).mode & 0o777, 0o755);
    assert.equal(readFileSync(join(bin, "portmap"), "utf8"), "#!/bin/sh\necho portmap\n");
    assert.match(out.text, /installed .*loopback, .*portmap, .*bandwidth, .*tuning/);
    assert.match(out.text, /primary ENI eth0 \(02:dd:00:00:00:10\); set net\/ipv4\/conf\/eth0\/rp_filter, net\/ipv4\/ip_forward/);
    const sysctl = (key: string) => execFileSync("ip", ["netns", "exec", node.netns, "sysctl", "-n", key], { encoding: "utf8" }).trim();
    assert.equal(sysctl("net.ipv4.conf.eth0.rp_filter"), "2");
    assert.equal(sysctl("net.ipv4.ip_forward"), "1");
    // Again over what it installed (an init container runs at every pod start).
    writeFileSync(join(src, "portmap"), "#!/bin/sh\necho newer\n");
    const again = capture();
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, again, capture(), deps), 0);
    assert.equal(readFileSync(join(bin, "portmap"), "utf8"), "#!/bin/sh\necho newer\n");
    assert.deepEqual(readdirSync(bin).sort(), ["bandwidth", "loopback", "portmap", "tuning"], "no staging file left");
    assert.match(again.text, /sysctls already set/);
    // A MAC no link has: a plain error, after the bounded wait.
    const lost = capture();
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), lost, { ...deps, primaryMac: async () => "02:dd:00:00:00:99", linkWait: { attempts: 2, intervalMs: 10 } }), 1);
    assert.match(lost.text, /cannot set the node's sysctls: .*02:dd:00:00:00:99/);
  });

  it("a missing plugin or no instance metadata fails with a message naming it", async () => {
    const src = sourceDir(["loopback"]);
    const bin = mkdtempSync(join(tmpdir(), "vpc-cni-init-bin-"));
    const err = capture();
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), err, noImds), 1);
    assert.match(err.text, /cannot install portmap: .*portmap does not exist \(installed: .*loopback\)/);
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: "relative/bin", VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), err, noImds), 1);
    assert.match(err.text, /CNI bin dir must be an absolute path, got relative\/bin/);
    assert.equal(await runInit(["extra"], {}, capture(), err, noImds), 2);
    for (const plugin of ["portmap", "bandwidth", "tuning"]) writeFileSync(join(src, plugin), "#!/bin/sh\n");
    const imds = capture();
    assert.equal(await runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), imds, noImds), 1);
    assert.match(imds.text, /cannot read the primary ENI's MAC from instance metadata: IMDS: connect ECONNREFUSED/);
  });

  it("bin/vpc-cni-init runs it with the project's Node.js", () => {
    const exe = resolve(import.meta.dirname, "../../bin/vpc-cni-init");
    assert.match(execFileSync(exe, ["--help"], { encoding: "utf8" }), /HOST_CNI_BIN_PATH/);
    const r = spawnSync(exe, ["bogus"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /takes no arguments, got: bogus/);
  });
});
