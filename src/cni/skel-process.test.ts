// pluginMain against a real process: stdin/stdout wiring, exit codes, stray console output kept
// off stdout, and the VERSION probe's cold start.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";

const SKEL = new URL("./skel.ts", import.meta.url).href;

const PLUGIN = `
import { pluginMain } from ${JSON.stringify(SKEL)};
await pluginMain({
  add(req) {
    console.log("stray log that must not reach stdout");
    return { ips: [{ address: "10.0.0.9/32" }] };
  },
  del() {},
});
`;

function run(env: Record<string, string>, stdin: string) {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", PLUGIN], { env: { PATH: process.env["PATH"] ?? "", ...env }, input: stdin, encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test("VERSION with podman's dummy environment", () => {
  const r = run({ CNI_COMMAND: "VERSION", CNI_CONTAINERID: "", CNI_NETNS: "dummy", CNI_IFNAME: "dummy", CNI_PATH: "dummy" }, '{"cniVersion":"1.0.0"}');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n');
});

test("ADD prints only the result; console output goes to stderr", () => {
  const r = run({ CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0" }, '{"cniVersion":"0.4.0","name":"n","type":"t"}');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.9/32"}]}\n');
  assert.match(r.stderr, /stray log/);
});

test("errors exit non-zero with the error object on stdout", () => {
  const r = run({ CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_IFNAME: "eth0" }, '{"cniVersion":"1.0.0","name":"n","type":"t"}');
  assert.equal(r.status, 1);
  assert.deepEqual(JSON.parse(r.stdout), { cniVersion: "1.0.0", code: 4, msg: "required env variables [CNI_NETNS] missing" });
  const t = run({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c1", CNI_IFNAME: "eth0" }, '{"cniVersion":"1.0.0","name":"n"');
  assert.equal(t.status, 1);
  assert.equal(JSON.parse(t.stdout).code, 6);
});

test("DEL success prints nothing and exits 0", () => {
  const r = run({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c1", CNI_IFNAME: "eth0" }, '{"cniVersion":"1.0.0","name":"n","type":"t"}');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "");
});

/** The plugin with a stdin the "runtime" writes to and never closes. */
async function runOpen(env: Record<string, string>, written: string, options = "{ stdinTimeoutMs: 500 }") {
  const source = PLUGIN.replace(/\n\}\);\n$/, `\n}, ${options});\n`);
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.write(written);
  // Bounded by the test runner's timeout if the plugin hangs: it must exit by itself, stdin still open.
  const [status] = (await once(child, "exit")) as [number | null];
  child.stdin.destroy();
  return { stdout, stderr, status };
}

const ADD_ENV = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0" };

test("ADD on a stdin never closed, with half a config: the spec's I/O error (code 5), not a hang", { timeout: 30_000 }, async () => {
  const r = await runOpen(ADD_ENV, '{"cniVersion":"1.0.0","name":"n",');
  assert.equal(r.status, 1, r.stderr);
  const reply = JSON.parse(r.stdout) as { code: number; msg: string; cniVersion: string };
  assert.equal(reply.code, 5);
  assert.match(reply.msg, /stdin was not closed within 500 ms \(33 bytes read, not a whole network config\)/);
});

test("ADD on a stdin never closed after a whole config: served once nothing more comes", { timeout: 30_000 }, async () => {
  const r = await runOpen(ADD_ENV, '{"cniVersion":"0.4.0","name":"n","type":"t"}', "{ stdinTimeoutMs: 60_000 }");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.9/32"}]}\n');
});
