// Issue 10's data loss, end to end: a second agent started with a running agent's state directory
// (node-b's agent given node-a's variables, as the README's demo once invited) must refuse before it
// reads or writes the checkpoint, and the running agent keep serving its pods' addresses.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AGENT_STATE_ROOT, AgentProcess } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, VPCSIM } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");
const skip = datapathUnavailable();

describe("vpc-cni-agent: a second agent on a state directory in use", { skip }, () => {
  let run: SimRun;
  let agent: AgentProcess | undefined;

  before(async () => {
    run = await SimRun.up(["--instance", "node-a=m5.large,a", "--instance", "node-b=m5.large,a"]);
  });
  after(async () => {
    await agent?.stop();
    agent?.clean();
    if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
    await run?.down();
  });

  test("refuses naming the running agent; the checkpoint is untouched and the running agent serves on", async () => {
    agent = await new AgentProcess(run, "node-a").start();
    const first = await agent.allocate("web-0");
    assert.ok(first.ok, first.ok ? "" : first.error.message);
    const address = first.reply.addresses[0]!.ipv4Addr;
    const checkpoint = join(agent.dir, "ipam.json");
    const before = readFileSync(checkpoint, "utf8");
    assert.ok(before.includes(address));

    const second = await runCommand(VPCSIM, ["exec", "--run", run.name, "node-b", "--", join(ROOT, "bin", "vpc-cni-agent")], {
      env: { ...process.env, VPC_CNI_STATE_DIR: agent.dir, VPC_CNI_BIN_DIR: join(agent.dir, "bin"), VPC_CNI_CONF_DIR: join(agent.dir, "net.d"), AWS_VPC_K8S_CNI_LOG_FILE: "stderr", DISABLE_LEAKED_ENI_CLEANUP: "true" },
      timeoutMs: 60_000,
    });
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`nothing was started: the state directory ${agent.dir} is in use by another vpc-cni-agent \\(pid \\d+, instance i-`));
    assert.equal(readFileSync(checkpoint, "utf8"), before, "the running agent's checkpoint was rewritten");

    // The running agent still serves the pod and hands its address to no one else.
    const again = await agent.allocate("web-0");
    assert.ok(again.ok && again.reply.addresses[0]!.ipv4Addr === address);
    const other = await agent.allocate("web-1");
    assert.ok(other.ok && other.reply.addresses[0]!.ipv4Addr !== address);
  });
});
