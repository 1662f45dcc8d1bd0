// The vpcsim command line: bring-up and teardown leave nothing behind, bad input changes nothing,
// and a crashed run is cleared by `down --all`.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datapathUnavailable, runCommand, SimRun, VPCSIM } from "./harness.ts";

const skip = datapathUnavailable();

async function namespacesWith(prefix: string): Promise<string[]> {
  const r = await runCommand("ip", ["netns", "list"]);
  return r.stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) => n.startsWith(prefix));
}

async function pidsIn(namespaces: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const ns of namespaces) {
    const r = await runCommand("ip", ["netns", "pids", ns]);
    pids.push(...r.stdout.split("\n").filter(Boolean).map(Number));
  }
  return pids;
}

/** A process that has ended but not yet been reaped by its parent (a zombie) counts as ended. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
const rootLinks = async () => (await runCommand("ip", ["-o", "link", "show"])).stdout.split("\n").map((l) => l.split(":")[1]?.trim()).filter(Boolean).sort();

describe("vpcsim CLI", { skip }, () => {
  test("up, then down, leaves no namespace, veth, process or file of the run", async () => {
    const linksBefore = await rootLinks();
    const run = await SimRun.up();
    const prefix = `vs-${run.name}-`;
    const namespaces = await namespacesWith(prefix);
    assert.ok(namespaces.length >= 5, `router, igw, ext and two instances: ${namespaces.join(" ")}`);
    const daemonPid = Number(readFileSync(`/run/vpcsim/${run.name}/daemon.pid`, "utf8"));
    const pids = [daemonPid, ...(await pidsIn(namespaces))];
    assert.ok(pids.every(alive));
    assert.deepEqual(await rootLinks(), linksBefore, "nothing is added to the root namespace");

    const status = await run.status();
    assert.deepEqual(status.instances.map((i) => i.name).sort(), ["node-a", "node-b"]);
    assert.equal(status.subnets.length, 2);
    const text = await run.vpcsim(["status", "--run", run.name]);
    assert.match(text.stdout, /INSTANCE\s+NAME\s+TYPE/);
    assert.match(text.stdout, /node-a\s+m5\.large\s+us-east-1a\s+running/);

    await run.down();
    assert.deepEqual(await namespacesWith(prefix), []);
    assert.deepEqual(pids.filter(alive), [], "every process of the run has ended");
    assert.equal(existsSync(`/run/vpcsim/${run.name}`), false, "the run directory is gone");
    assert.deepEqual(await rootLinks(), linksBefore);
  });

  test("launch and terminate instances in a running VPC", async () => {
    const run = await SimRun.up(["--instance", "one=t3.medium,a"]);
    try {
      const launched = await run.vpcsim(["launch", "--run", run.name, "two", "--type", "c5.18xlarge", "--subnet", "b", "--public"]);
      assert.equal(launched.code, 0, launched.stderr);
      const two = await run.instance("two");
      assert.equal(two.type, "c5.18xlarge");
      assert.ok(two.publicIp);
      assert.equal((await runCommand("ip", ["netns", "exec", two.netns, "ping", "-c1", "-W1", (await run.instance("one")).privateIp])).code, 0);
      const bad = await run.vpcsim(["launch", "--run", run.name, "three", "--type", "m9.huge", "--subnet", "a"]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /InvalidParameterValue|instance type/i);
      const term = await run.vpcsim(["terminate", "--run", run.name, "two"]);
      assert.equal(term.code, 0, term.stderr);
      assert.equal(existsSync(`/run/netns/${two.netns}`), false, "the instance's namespace is gone");
      assert.deepEqual((await run.status()).instances.map((i) => i.name), ["one"]);
    } finally {
      await run.down();
    }
  });

  test("a bad topology is refused with every problem named, and nothing is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpcsim-"));
    const file = join(dir, "topo.json");
    writeFileSync(file, JSON.stringify({ vpcCidr: "10.0.0.0/33", subnets: [{ name: "a", zone: "eu-west-1a", cidr: "192.168.0.0/24" }], instances: [{ name: "x", type: "nope", subnet: "zz" }] }));
    const before = await namespacesWith("vs-tbad");
    const r = await runCommand(VPCSIM, ["up", "--run", "tbad", "--topology", file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /vpcCidr/);
    assert.match(r.stderr, /zone/);
    assert.match(r.stderr, /type: 'nope'/);
    assert.match(r.stderr, /subnet: 'zz'/);
    assert.deepEqual(await namespacesWith("vs-tbad"), before);
    assert.equal(existsSync("/run/vpcsim/tbad"), false);

    writeFileSync(file, "{ not json");
    const garbage = await runCommand(VPCSIM, ["up", "--run", "tbad", "--topology", file]);
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /not valid JSON/);
    assert.equal(existsSync("/run/vpcsim/tbad"), false);
  });

  test("usage errors, help and the root check", async () => {
    const unknown = await runCommand(VPCSIM, ["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    for (const cmd of ["up", "status", "exec", "launch", "terminate", "faults", "calls", "down"]) {
      const help = await runCommand(VPCSIM, [cmd, "--help"]);
      assert.equal(help.code, 0, cmd);
      assert.match(help.stdout, new RegExp(`Usage: vpcsim ${cmd}`));
    }
    const badFlag = await runCommand(VPCSIM, ["up", "--profile", "sluggish", "--run", "tbad"]);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /instant, realistic/);
    const notUp = await runCommand(VPCSIM, ["status", "--run", "tnothere"]);
    assert.equal(notUp.code, 1);
    assert.match(notUp.stderr, /no vpcsim run 'tnothere' is up/);
    const nobody = await runCommand("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", VPCSIM, "status"]);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /vpcsim needs root/);
  });

  test("down clears what a crashed run left behind", async () => {
    const run = await SimRun.up(["--instance", "solo=t3.medium,a"]);
    const prefix = `vs-${run.name}-`;
    const namespaces = await namespacesWith(prefix);
    const daemonPid = Number(readFileSync(`/run/vpcsim/${run.name}/daemon.pid`, "utf8"));
    const pids = [daemonPid, ...(await pidsIn(namespaces))];
    process.kill(daemonPid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const crashed = await runCommand(VPCSIM, ["status", "--run", run.name]);
    assert.match(crashed.stderr, new RegExp(`no vpcsim run '${run.name}' is up`), "a dead daemon is not taken for a live one");
    // (`down --all` runs the same clean-up for every run and every vs-* namespace; it is not used
    // here because it would also take down runs that are not the test's.)
    const r = await runCommand(VPCSIM, ["down", "--run", run.name]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await namespacesWith(prefix), []);
    assert.deepEqual(pids.filter(alive), []);
    assert.equal(existsSync(`/run/vpcsim/${run.name}`), false);
  });
});
