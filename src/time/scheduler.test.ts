import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const SCHEDULER = fileURLToPath(new URL("./scheduler.ts", import.meta.url));

/** Runs a small program on the real scheduler in a process of its own; its stdout and exit code. */
function program(body: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const source = `import { realScheduler as s } from ${JSON.stringify(SCHEDULER)};\n${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module-typescript", "-e", source], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("real scheduler: an unref timer does not keep the process alive, a plain one does", async () => {
  const out = await program(`
    s.after(600_000, () => console.log("housekeeping ran"), { unref: true });
    s.every(600_000, () => console.log("tick ran"), { unref: true });
    s.after(20, () => console.log("plain ran"));
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "plain ran\n", "the process waited for the plain timer and not for the unref ones");
});

test("real scheduler: every repeats until cancelled; a cancelled after never runs; sleep resolves", async () => {
  const out = await program(`
    const never = s.after(10, () => console.log("cancelled ran"));
    s.cancel(never);
    let n = 0;
    let third: () => void;
    const ticked = new Promise<void>((resolve) => (third = resolve));
    const tick = s.every(5, () => {
      console.log("tick " + ++n);
      if (n === 3) {
        s.cancel(tick);
        third();
      }
    });
    await ticked;
    // A fourth tick, were the cancel lost, would be due before the sleep ends.
    await s.sleep(30);
    console.log("slept");
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, "tick 1\ntick 2\ntick 3\nslept\n");
});
