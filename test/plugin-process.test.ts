// The plugin executable's command handlers, run as the runtime runs them (a process, the CNI
// environment, the config on stdin) against a fake agent (the agent's RPC server with recording
// handlers) on a unix socket. It sits here, not beside the plugin, because it needs the agent's server
// and the plugin's folder imports nothing of the agent's. Root-only parts run the plugin inside a
// namespace of their own (prefix pl-<hex>-), never in the machine's.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startRpcServer, type RpcServer } from "../src/agent/rpc/server.ts";
import { allocateReply, gcReply } from "../src/ipam-rpc/protocol.ts";
import { tempDir } from "../src/ipam-rpc/calls.test-support.ts";
import { recordingHandlers, type RecordingHandlers } from "../src/agent/rpc/server.test-support.ts";
import { run } from "../src/datapath/exec.ts";
import { removeNamespaces, skipWithoutRoot } from "../src/datapath/node-netns.test-support.ts";

const MAIN = fileURLToPath(new URL("../src/plugin/main.ts", import.meta.url));
const skip = skipWithoutRoot();
const prefix = `pl-${randomBytes(4).toString("hex")}-`;
const silentLog = { debug() {}, info() {}, warn() {}, error() {} } as never;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the plugin once; `netns` runs it inside that namespace (as the node's host namespace). */
function plugin(env: Record<string, string>, config: object, netns?: string): Promise<Outcome> {
  const argv = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, MAIN];
  const [file, ...args] = netns === undefined ? argv : ["ip", "netns", "exec", netns, ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(JSON.stringify(config));
  });
}

describe("vpc-cni plugin process", () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  let server: RpcServer | undefined;
  let handlers: RecordingHandlers;
  let released: Array<{ ipv4Addr: string; ipv6Addr: string; deviceNumber: number; routeTableId: number }> = [];
  const conf = (cniVersion = "1.0.0") => ({ cniVersion, name: "aws-cni", type: "vpc-cni", agentSocket: join(dir.dir, "ipamd.sock"), pluginLogFile: "stderr" });

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await server?.close({ graceMs: 0 });
    await dir.cleanup();
    await removeNamespaces(prefix);
  });

  async function agent(overrides: Parameters<typeof recordingHandlers>[0] = {}): Promise<void> {
    await server?.close({ graceMs: 0 });
    handlers = recordingHandlers(overrides);
    handlers.gc = (request) => {
      handlers.gcs.push(request);
      return Promise.resolve(gcReply(released));
    };
    server = await startRpcServer({ socketPath: join(dir.dir, "ipamd.sock"), handlers, log: silentLog });
  }

  const addEnv = (ifname: string) => ({
    CNI_COMMAND: "ADD",
    CNI_CONTAINERID: "c0ffee",
    CNI_NETNS: "/proc/self/ns/net",
    CNI_IFNAME: ifname,
    CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
  });

  it("ADD with a CNI_IFNAME the datapath cannot take is an environment error (4), before any address is allocated", async () => {
    await agent();
    const out = await plugin(addEnv("eth0#1"), conf());
    assert.equal(out.code, 1, out.stderr);
    const error = JSON.parse(out.stdout) as { code: number; msg: string };
    assert.equal(error.code, 4, out.stdout);
    assert.match(error.msg, /CNI_IFNAME/);
    assert.equal(handlers.allocations.length, 0);
  });

  it("DEL after such a refused ADD succeeds (DEL is idempotent whatever the CNI_IFNAME)", { skip }, async () => {
    const host = `${prefix}h2`;
    await run("ip", ["netns", "add", host]);
    await agent();
    const out = await plugin({ ...addEnv("eth0#1"), CNI_COMMAND: "DEL", CNI_NETNS: "" }, conf(), host);
    assert.equal(out.code, 0, `${out.stdout} ${out.stderr}`);
    assert.equal(out.stdout, "");
    assert.equal(handlers.releases.length, 1);
  });

  it("ADD answered without an IPv4 address gives the allocation back", async () => {
    await agent({ allocate: () => Promise.resolve(allocateReply({ addresses: [], useExternalSnat: false, vpcV4Cidrs: ["10.0.0.0/16"] })) });
    const out = await plugin(addEnv("eth0"), conf());
    assert.equal(out.code, 1, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { code: number }).code, 100);
    assert.equal(handlers.allocations.length, 1);
    assert.equal(handlers.releases.length, 1);
    assert.equal(handlers.releases[0]?.containerId, "c0ffee");
  });

  it("GC unwires every released address even when one of them fails", { skip }, async () => {
    const host = `${prefix}h1`;
    await run("ip", ["netns", "add", host]);
    const rules = ["to 10.9.0.1/32 lookup main priority 512", "to 10.9.0.2/32 lookup main priority 512", "from 10.9.0.2/32 lookup 3 priority 1536"];
    await run("ip", ["-n", host, "-batch", "-"], { input: rules.map((rule) => `rule add ${rule}`).join("\n") + "\n" });
    // The first cannot be unwired (a table no ENI has); the second must still be.
    released = [
      { ipv4Addr: "10.9.0.1", ipv6Addr: "", deviceNumber: 1, routeTableId: 255 },
      { ipv4Addr: "10.9.0.2", ipv6Addr: "", deviceNumber: 2, routeTableId: 3 },
    ];
    await agent();
    const out = await plugin({ CNI_COMMAND: "GC" }, { ...conf("1.1.0"), "cni.dev/valid-attachments": [] }, host);
    assert.equal(out.code, 1, "the failure is still reported");
    const left = (await run("ip", ["-n", host, "-4", "rule", "show"])).stdout;
    assert.doesNotMatch(left, /10\.9\.0\.2/, left);
    assert.match(left, /10\.9\.0\.1/);
  });
});
