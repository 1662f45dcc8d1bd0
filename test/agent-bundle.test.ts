// The agent's bundle (scripts/build-agent.ts): what it ships and what it leaves out, and that its
// entry points run. Uses dist/agent as npm test builds it, or builds one into a temporary directory.

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import ts from "typescript";
import { buildAgent, markPureLiterals } from "../scripts/build-agent.ts";
import { ROOT, runCommand } from "./harness.ts";

const NODE = join(ROOT, "node_modules", ".bin", "node");

describe("markPureLiterals", () => {
  it("wraps each top-level array and object initializer in a pure call, and the values stay the same", () => {
    const source = 'const _A = "Address";\nexport var A$ = [3, "n", _A, 0, [_A], [[0, { [_A]: `x` }]]];\nvar L = [1, "n", _A, 0, () => A$];\nconst o = { a: 1 };\nreg.add(A$);\n';
    const out = markPureLiterals(ts, source, "schemas_0.js");
    assert.equal(out.match(/\/\* @__PURE__ \*\//g)?.length, 3);
    assert.match(out, /const _A = "Address";/);
    assert.match(out, /reg\.add\(A\$\);/);
    const evaluate = (code: string) => {
      const added: unknown[] = [];
      const context: Record<string, unknown> = { reg: { add: (x: unknown) => added.push(x) } };
      runInNewContext(code.replace("export var", "var") + "\nresult = { A$, L: L[4]() === A$, o };", context);
      return JSON.stringify({ result: context["result"], added });
    };
    assert.equal(evaluate(out), evaluate(source));
    assert.match(evaluate(out), /"L":true/);
  });

  it("refuses a file with no literals (the SDK's layout changed)", () => {
    assert.throws(() => markPureLiterals(ts, "export function f() {}\n", "schemas_0.js"), /no schema literals found/);
  });
});

describe("the agent's bundle", () => {
  let dir = join(ROOT, "dist", "agent");
  let scratch: string | undefined;
  before(async () => {
    if (!existsSync(join(dir, "meta.json"))) {
      scratch = mkdtempSync(join(tmpdir(), "vpc-cni-agent-bundle-"));
      dir = (await buildAgent(join(scratch, "dist", "agent"))).dir;
    }
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  const meta = () => JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { inputs: Record<string, unknown>; outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };

  it("holds no tests, test helpers or emulator code", () => {
    const shipped = Object.keys(meta().inputs).filter((f) => /\.test(-support)?\.ts$|(^|\/)src\/sim\/|(^|\/)test\//.test(f));
    assert.deepEqual(shipped, []);
  });

  it("keeps the schemas of the EC2 calls the agent makes and drops the rest", () => {
    let schemaBytes = 0;
    const code: string[] = [];
    for (const [file, out] of Object.entries(meta().outputs)) {
      for (const [input, i] of Object.entries(out.inputs)) if (/client-ec2\/dist-es\/schemas\//.test(input)) schemaBytes += i.bytesInOutput;
      if (file.endsWith(".mjs")) code.push(readFileSync(join(dir, file.split("/").pop()!), "utf8"));
    }
    const all = code.join("\n");
    for (const action of ["DescribeNetworkInterfaces", "AssignPrivateIpAddresses", "AttachNetworkInterface", "DescribeInstanceTypes", "DescribeSubnets"]) assert.ok(all.includes(`"${action}"`), `${action} is missing`);
    assert.ok(!all.includes('"UnlockSnapshot"'), "the schema of a call the agent never makes is shipped");
    // All of EC2's schemas are over 1 MB; the agent's calls need a small part of them.
    assert.ok(schemaBytes < 256 * 1024, `${schemaBytes} bytes of EC2 schemas`);
  });

  it("does not make Node.js load its built-in undici (fetch), which node:http imported as an ES module does", async () => {
    const probe = join(mkdtempSync(join(tmpdir(), "vpc-cni-undici-")), "probe.cjs");
    writeFileSync(probe, 'process.on("exit", () => process.stderr.write(`undici loaded: ${process.moduleLoadList.some((m) => m.includes("undici"))}\\n`));\n');
    try {
      const r = await runCommand(NODE, ["--require", probe, join(dir, "vpc-cni-agent.mjs"), "--version"]);
      assert.match(r.stderr, /undici loaded: false/);
    } finally {
      rmSync(join(probe, ".."), { recursive: true, force: true });
    }
  });

  it("runs the agent's and the init container's entry points", async () => {
    const version = await runCommand(NODE, [join(dir, "vpc-cni-agent.mjs"), "--version"]);
    assert.equal(version.stdout.trim(), "0.1.0", version.stderr);
    const maxPods = await runCommand(NODE, [join(dir, "vpc-cni-agent.mjs"), "max-pods", "--instance-type", "m5.large"]);
    assert.equal(maxPods.stdout.trim(), "29", maxPods.stderr);
    const init = await runCommand(NODE, [join(dir, "vpc-cni-init.mjs"), "--help"]);
    assert.match(init.stdout, /^vpc-cni-init: prepares a node/, init.stderr);
  });
});
