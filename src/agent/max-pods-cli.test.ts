import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { MAX_PODS_USAGE, runMaxPodsCli } from "./max-pods-cli.ts";

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  const code = runMaxPodsCli(args, { write: (t: string) => (stdout += t) }, { write: (t: string) => (stderr += t) });
  return { code, stdout, stderr };
}

describe("vpc-cni-agent max-pods", () => {
  it("prints the recommended number", () => {
    assert.deepEqual(run("--instance-type", "m5.large"), { code: 0, stdout: "29\n", stderr: "" });
    assert.deepEqual(run("--instance-type=c5.18xlarge"), { code: 0, stdout: "250\n", stderr: "" });
  });

  it("takes the calculator's switches", () => {
    assert.equal(run("--instance-type", "c5.18xlarge", "--show-max-allowed").stdout, "737\n");
    assert.equal(run("--instance-type", "t3.small", "--prefix-delegation").stdout, "110\n");
    assert.equal(run("--instance-type", "t3.small", "--prefix-delegation", "--show-max-allowed").stdout, "146\n");
    assert.equal(run("--instance-type", "m5.large", "--custom-networking").stdout, "20\n");
    assert.equal(run("--instance-type", "m5.xlarge", "--max-eni", "2").stdout, "30\n");
    assert.equal(run("--instance-type", "mac1.metal", "--cpus", "12").stdout, "110\n");
  });

  it("notes on stderr when prefix delegation does not apply", () => {
    const result = run("--instance-type", "c4.large", "--prefix-delegation");
    assert.equal(result.stdout, "29\n");
    assert.match(result.stderr, /note: c4\.large is neither Nitro nor bare metal/);
  });

  it("exits 1 with a reason when the number cannot be computed", () => {
    const unknown = run("--instance-type", "m5.larg");
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, "");
    assert.match(unknown.stderr, /^vpc-cni-agent max-pods: unknown instance type "m5\.larg"; the m5 family has/);
    const noCpus = run("--instance-type", "mac1.metal");
    assert.equal(noCpus.code, 1);
    assert.match(noCpus.stderr, /--cpus N/);
  });

  it("exits 2 on usage errors", () => {
    for (const args of [[], ["--instance-type"], ["--bogus"], ["m5.large"], ["--instance-type", "m5.large", "--cpus", "many"], ["--instance-type", "m5.large", "--max-eni", "0"]]) {
      const result = run(...args);
      assert.equal(result.code, 2, args.join(" "));
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /vpc-cni-agent max-pods --help/);
    }
  });

  it("prints its help", () => {
    assert.deepEqual(run("--help"), { code: 0, stdout: MAX_PODS_USAGE, stderr: "" });
    assert.equal(run("-h").stdout, MAX_PODS_USAGE);
    for (const flag of ["--instance-type", "--prefix-delegation", "--custom-networking", "--show-max-allowed", "--cpus", "--max-eni"]) assert.ok(MAX_PODS_USAGE.includes(flag), flag);
  });

  it("runs as a program with exit codes", () => {
    const script = fileURLToPath(new URL("./max-pods-cli.ts", import.meta.url));
    const ok = spawnSync(process.execPath, [script, "--instance-type", "t3.medium"], { encoding: "utf8" });
    assert.equal(ok.status, 0);
    assert.equal(ok.stdout, "17\n");
    const usage = spawnSync(process.execPath, [script], { encoding: "utf8" });
    assert.equal(usage.status, 2);
  });
});
