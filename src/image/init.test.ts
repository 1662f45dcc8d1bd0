import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runInit } from "./init.ts";

function capture() {
  let text = "";
  return { write: (s: string) => (text += s), get text() { return text; } };
}

function sourceDir(plugins: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-init-src-"));
  for (const p of plugins) writeFileSync(join(dir, p), `#!/bin/sh\necho ${p}\n`, { mode: 0o644 });
  return dir;
}

test("installs loopback and portmap, executable, into the node's CNI bin dir, and nothing else", () => {
  const src = sourceDir(["loopback", "portmap", "bridge"]);
  const bin = join(mkdtempSync(join(tmpdir(), "vpc-cni-init-bin-")), "opt", "cni", "bin");
  const out = capture();
  const err = capture();
  assert.equal(runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, out, err), 0, err.text);
  assert.deepEqual(readdirSync(bin).sort(), ["loopback", "portmap"]);
  assert.equal(statSync(join(bin, "portmap")).mode & 0o777, 0o755);
  assert.equal(readFileSync(join(bin, "portmap"), "utf8"), "#!/bin/sh\necho portmap\n");
  assert.match(out.text, /installed .*loopback, .*portmap/);
  // Again over the installed ones (an init container runs on every pod start).
  writeFileSync(join(src, "portmap"), "#!/bin/sh\necho newer\n");
  assert.equal(runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), capture()), 0);
  assert.equal(readFileSync(join(bin, "portmap"), "utf8"), "#!/bin/sh\necho newer\n");
  assert.deepEqual(readdirSync(bin).sort(), ["loopback", "portmap"], "no staging file left");
});

test("a missing plugin fails with a message naming it", () => {
  const src = sourceDir(["loopback"]);
  const bin = mkdtempSync(join(tmpdir(), "vpc-cni-init-bin-"));
  const err = capture();
  assert.equal(runInit([], { HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), err), 1);
  assert.match(err.text, /cannot install portmap: .*portmap does not exist \(installed: .*loopback\)/);
  assert.equal(runInit([], { HOST_CNI_BIN_PATH: "relative/bin", VPC_CNI_CHAINED_PLUGIN_DIR: src }, capture(), err), 1);
  assert.match(err.text, /CNI bin dir must be an absolute path, got relative\/bin/);
  assert.equal(runInit(["extra"], {}, capture(), err), 2);
});

test("bin/vpc-cni-init runs it with the project's Node.js", () => {
  const src = sourceDir(["loopback", "portmap"]);
  const bin = mkdtempSync(join(tmpdir(), "vpc-cni-init-bin-"));
  mkdirSync(bin, { recursive: true });
  const exe = resolve(import.meta.dirname, "../../bin/vpc-cni-init");
  const out = execFileSync(exe, [], { env: { PATH: "/usr/bin:/bin", HOST_CNI_BIN_PATH: bin, VPC_CNI_CHAINED_PLUGIN_DIR: src }, encoding: "utf8" });
  assert.match(out, /installed/);
  assert.match(execFileSync(exe, ["--help"], { encoding: "utf8" }), /HOST_CNI_BIN_PATH/);
});
