import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, parseLogLevel } from "./log.ts";

function captured(level: string) {
  const lines: string[] = [];
  const logger = createLogger({ level, target: { kind: "stream", stream: { write: (chunk: string) => lines.push(chunk) } } });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe("agent logs", () => {
  it("writes one JSON object per line with level, ts, component and msg", () => {
    const { logger, lines, records } = captured("debug");
    logger.component("rpc").info({ pod: "default/web-0" }, "allocated 10.0.1.17");
    logger.root.warn({}, "no component");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.ok(line.endsWith("\n"));
      assert.equal(line.indexOf("\n"), line.length - 1, "exactly one line");
    }
    const [first, second] = records();
    assert.deepEqual(Object.keys(first ?? {}), ["level", "ts", "component", "pod", "msg"]);
    assert.equal(first?.level, "info");
    assert.equal(first?.component, "rpc");
    assert.equal(first?.msg, "allocated 10.0.1.17");
    assert.match(String(first?.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(Object.keys(second ?? {}), ["level", "ts", "msg"]);
    assert.equal(second?.level, "warn");
  });

  it("every line carries the node's instance id once it is bound, children's lines made earlier too", () => {
    const { logger, records } = captured("info");
    const rpc = logger.component("rpc");
    rpc.info({}, "before IMDS answered");
    logger.bind({ instanceId: "i-0abc" });
    rpc.info({ pod: "default/web-0" }, "allocated");
    logger.root.warn({}, "root line");
    logger.component("pool").info({}, "new child");
    const [before, ...after] = records();
    assert.equal(before?.instanceId, undefined);
    assert.deepEqual(after.map((r) => r.instanceId), ["i-0abc", "i-0abc", "i-0abc"]);
    assert.deepEqual(Object.keys(after[0] ?? {}), ["level", "ts", "component", "instanceId", "pod", "msg"]);
  });

  it("filters by level, with the level name in any case", () => {
    for (const [level, expected] of [
      ["DEBUG", ["debug", "info", "warn", "error"]],
      ["Info", ["info", "warn", "error"]],
      ["warn", ["warn", "error"]],
      ["ERROR", ["error"]],
    ] as const) {
      const { logger, records } = captured(level);
      const log = logger.component("pool");
      log.debug({}, "d");
      log.info({}, "i");
      log.warn({}, "w");
      log.error({}, "e");
      assert.deepEqual(records().map((r) => r.level), expected, level);
    }
  });

  it("refuses an unknown level", () => {
    assert.throws(() => createLogger({ level: "verbose", target: { kind: "stderr" } }), /unknown log level "verbose"/);
  });

  it("reads the reference's level spellings", () => {
    assert.equal(parseLogLevel("Debug"), "debug");
    assert.equal(parseLogLevel(" INFO "), "info");
    assert.equal(parseLogLevel("Warning"), "warn");
    assert.equal(parseLogLevel("error"), "error");
    assert.equal(parseLogLevel("trace"), null);
  });

  it("serialises errors under err or error", () => {
    const { logger, records } = captured("info");
    logger.root.error({ err: new Error("EC2 said no") }, "grow failed");
    const err = records()[0]?.err as { message: string; type: string };
    assert.equal(err.message, "EC2 said no");
    assert.equal(err.type, "Error");
  });

  it("writes to a file, creating its directory, and appends across restarts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vpccni-log-"));
    try {
      const path = join(dir, "aws-routed-eni", "ipamd.log");
      for (const n of [1, 2]) {
        const logger = createLogger({ level: "info", target: { kind: "file", path } });
        logger.component("agent").info({ n }, "start");
        logger.close();
      }
      const lines = (await readFile(path, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines.map((l) => [l.n, l.component, l.msg]), [
        [1, "agent", "start"],
        [2, "agent", "start"],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("loses no line when the process exits right after logging (stdout and file)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "vpccni-log-"));
    try {
      const path = join(dir, "ipamd.log");
      const script = `
        import { createLogger } from ${JSON.stringify(new URL("./log.ts", import.meta.url).href)};
        const out = createLogger({ level: "info", target: { kind: "stdout" } }).component("agent");
        const file = createLogger({ level: "info", target: { kind: "file", path: ${JSON.stringify(path)} } }).component("agent");
        for (let i = 0; i < 500; i++) { out.info({ i }, "line"); file.info({ i }, "line"); }
        process.exit(3);
      `;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      assert.equal(child.status, 3, child.stderr);
      assert.equal(child.stdout.trimEnd().split("\n").length, 500);
      assert.equal((await readFile(path, "utf8")).trimEnd().split("\n").length, 500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
