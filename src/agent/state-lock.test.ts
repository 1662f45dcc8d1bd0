import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import { loadConfig } from "./config.ts";
import { openDatastore } from "./start-up.ts";
import { lockStateDirectory, StateLockError } from "./state-lock.ts";

const NODE = process.execPath;
const HERE = import.meta.dirname;

function withDir(body: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpc-cni-state-lock-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Another process that takes the directory's lock as the agent does and holds it until killed. */
async function holder(dir: string): Promise<ReturnType<typeof spawn>> {
  const script = `
    const { openDatastore } = await import(${JSON.stringify(resolve(HERE, "start-up.ts"))});
    const { loadConfig } = await import(${JSON.stringify(resolve(HERE, "config.ts"))});
    const loaded = loadConfig({ VPC_CNI_STATE_DIR: ${JSON.stringify(dir)} });
    const { lock } = openDatastore(loaded.config, () => 0);
    lock.describe({ pid: process.pid, instanceId: "i-0holder" });
    process.stdout.write("held\\n");
    setInterval(() => undefined, 1 << 30);
  `;
  const child = spawn(NODE, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const held = await Promise.race([
    once(child.stdout!, "data").then(([chunk]) => String(chunk).trim()),
    once(child, "exit").then(([code]) => `exited with ${code} before holding the lock`),
  ]);
  assert.equal(held, "held");
  return child;
}

const config = (dir: string) => {
  const loaded = loadConfig({ VPC_CNI_STATE_DIR: dir });
  assert.ok(loaded.ok);
  return loaded.config;
};

test(
  "a second agent on a state directory in use refuses before the checkpoint is read or written, naming the holder",
  withDir(async (dir) => {
    const checkpoint = join(dir, "ipam.json");
    const live = '{"version":"vpc-cni-ipam/1","allocations":[]}\n';
    writeFileSync(checkpoint, live);
    const other = await holder(dir);
    try {
      assert.throws(
        () => openDatastore(config(dir), () => 0),
        (err: unknown) => {
          assert.ok(err instanceof StateLockError, String(err));
          assert.match(err.message, new RegExp(`state directory ${dir} is in use by another vpc-cni-agent \\(pid ${other.pid}, instance i-0holder`));
          assert.match(err.message, /nothing was read or written/);
          return true;
        },
      );
      assert.equal(readFileSync(checkpoint, "utf8"), live);
    } finally {
      other.kill("SIGKILL");
      await once(other, "exit");
    }
  }),
);

test(
  "the lock goes with its holder however it ends (SIGKILL leaves no stale lock)",
  withDir(async (dir) => {
    const other = await holder(dir);
    assert.throws(() => lockStateDirectory(dir), StateLockError);
    other.kill("SIGKILL");
    await once(other, "exit");
    const lock = lockStateDirectory(dir);
    lock.release();
  }),
);

test(
  "within one process too, a second hold is refused until the first is released",
  withDir((dir) => {
    const first = lockStateDirectory(dir);
    assert.throws(() => lockStateDirectory(dir), /in use by another vpc-cni-agent \(pid \d+, started /);
    first.release();
    lockStateDirectory(dir).release();
  }),
);

test(
  "without flock(1) the refusal says what is missing",
  withDir((dir) => {
    assert.throws(() => lockStateDirectory(dir, { flockPath: join(dir, "no-such-flock") }), /util-linux's flock is needed/);
  }),
);
