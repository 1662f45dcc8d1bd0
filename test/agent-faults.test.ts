// vpc-cni-agent under injected EC2 faults (throttling, 5xx, slow attaches, address exhaustion) and
// malformed plugin requests. In each case the agent stays up (the same process throughout), serves
// what it can, recovers by itself once the fault is gone, and when its node is terminated vpcsim
// shows no ENI or address left behind. No timing is asserted: every wait is bounded, and what the
// agent, EC2 and the call log show afterwards is.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { AgentProcess, enisOf } from "./agent-harness.ts";
import { datapathUnavailable, ROOT, runCommand, SimRun, waitFor } from "./harness.ts";
import { MIN_CLIENT_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../src/ipam-rpc/protocol.ts";
import type { CallRecord } from "../src/sim/ec2/call-log.ts";

const skip = datapathUnavailable();

// ---------------------------------------------------------------------------------------------------
// Helpers

async function faults(run: SimRun, ...args: string[]): Promise<string> {
  const r = await run.vpcsim(["faults", "--run", run.name, ...args]);
  assert.equal(r.code, 0, `vpcsim faults ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The EC2 calls one instance made (its credentials name it as the principal). */
async function callsBy(run: SimRun, instanceId: string): Promise<CallRecord[]> {
  const r = await run.vpcsim(["calls", "--run", run.name, "--last", "1000000", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as CallRecord[]).filter((c) => c.principal === instanceId);
}

function tally(calls: CallRecord[], action: string): { ok: number; errors: Record<string, number> } {
  const out = { ok: 0, errors: {} as Record<string, number> };
  for (const c of calls.filter((c) => c.action === action)) {
    if (c.outcome === "ok") out.ok++;
    else out.errors[c.outcome] = (out.errors[c.outcome] ?? 0) + 1;
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function subnetFree(run: SimRun, name: string): Promise<number> {
  const s = (await run.status()).subnets.find((x) => x.name === name);
  assert.ok(s, `subnet ${name}`);
  return s.available;
}

/** Addresses the pods were given; fails on any error other than `no-address`. */
function addressesOf(results: Awaited<ReturnType<AgentProcess["allocate"]>>[]): { ok: string[]; noAddress: string[] } {
  const ok: string[] = [];
  const noAddress: string[] = [];
  for (const r of results) {
    if (r.ok) ok.push(r.reply.addresses[0]!.ipv4Addr);
    else {
      assert.equal(r.error.code, "no-address", `only a clear 'no address' is acceptable, got ${r.error.code}: ${r.error.message}`);
      noAddress.push(r.error.message);
    }
  }
  return { ok, noAddress };
}

/** The agent's pool and EC2's view of the node agree: same ENIs, same number of secondary addresses. */
async function assertAgentMatchesEc2(run: SimRun, agent: AgentProcess): Promise<void> {
  const enis = await enisOf(run, agent.node);
  const pool = await agent.introspect("/v1/pool");
  assert.equal(pool.stats.enis, enis.length, `agent ENIs vs EC2 ${JSON.stringify(enis.map((e) => e.id))}`);
  assert.equal(pool.stats.total, enis.reduce((n, e) => n + e.privateIps.length - 1, 0), "agent addresses vs EC2");
  for (const e of enis) assert.equal(e.attachment === null || e.attachment === "attached", true, `${e.id} is ${e.attachment}`);
}

interface Scenario {
  run: SimRun;
  agent: AgentProcess;
  pid: number;
  subnet: string;
  /** The subnet's free addresses before the agent started (the instance's primary address taken). */
  freeBefore: number;
}

/**
 * Starts a run with one node and an agent on it; `env` configures the agent. The node's subnet's free
 * count is taken before the agent makes any EC2 call.
 */
async function scenario(type: string, subnet: string, env: Record<string, string>): Promise<Scenario> {
  const run = await SimRun.up(["--subnet", "a=us-east-1a,10.0.0.0/20", "--subnet", "b=us-east-1b,10.0.16.0/20", "--instance", `node=${type},${subnet}`]);
  try {
    const freeBefore = await subnetFree(run, subnet);
    const agent = await new AgentProcess(run, "node", env).start();
    const pid = await agent.agentPid();
    await agent.settled();
    return { run, agent, pid, subnet, freeBefore };
  } catch (err) {
    await run.down();
    throw err;
  }
}

async function endScenario(s: Scenario | undefined): Promise<void> {
  if (!s) return;
  await s.run.vpcsim(["faults", "--run", s.run.name, "clear"]);
  await s.agent.stop("SIGKILL");
  s.agent.clean();
  await s.run.down();
}

/**
 * The node dies (agent killed, instance terminated, as a scale-in does): every ENI the agent created
 * had DeleteOnTermination, so none is left available, none of the node's is left anywhere, and the
 * subnet has every address back, the instance's own primary included.
 */
async function assertTeardownLeavesNothing(s: Scenario): Promise<void> {
  await faults(s.run, "clear"); // a failed test may have left one in force
  const instance = await s.run.instance("node");
  const created = (await enisOf(s.run, "node")).filter((e) => e.deviceIndex !== 0);
  assert.ok(alive(s.pid), "the agent ran throughout");
  await s.agent.crash();
  const r = await s.run.vpcsim(["terminate", "--run", s.run.name, "node"]);
  assert.equal(r.code, 0, r.stderr);
  const status = await s.run.status();
  assert.deepEqual(status.availableEnis.map((e) => `${e.id} (${e.description})`), [], "no ENI left available");
  const everyEni = [...status.availableEnis, ...status.instances.flatMap((i) => i.enis)];
  const ours = everyEni.filter((e) => e.description === `aws-K8S-${instance.id}` || created.some((c) => c.id === e.id));
  assert.deepEqual(ours.map((e) => e.id), [], "none of the agent's ENIs is left in the VPC");
  // freeBefore was taken with the instance up (its primary address in use); terminated, it frees that too.
  assert.equal(await subnetFree(s.run, s.subnet), s.freeBefore + 1, "every address of the subnet is free again");
}

// ---------------------------------------------------------------------------------------------------

describe("vpc-cni-agent under EC2 throttling", { skip }, () => {
  let s: Scenario;
  before(async () => {
    s = await scenario("m5.xlarge", "a", { VPC_CNI_ALLOCATION_WAIT: "20" });
  });
  after(() => endScenario(s));

  test("a burst needing new ENIs under throttling: each pod gets an address or a clear 'no address'; the pool converges once throttling is off", async () => {
    const { run, agent } = s;
    const node = await run.instance("node");
    const before = (await agent.introspect("/v1/pool")).stats;
    assert.equal(before.available, 14, "WARM_ENI_TARGET=1 on m5.xlarge: the primary ENI's 14 addresses");
    await faults(run, "throttling", "on", "--scale", "0.05");
    const pods = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
    let first: ReturnType<typeof addressesOf>;
    try {
      first = addressesOf(await Promise.all(pods.map((p) => agent.allocate(p))));
    } finally {
      await faults(run, "throttling", "off");
    }
    assert.equal(new Set(first.ok).size, first.ok.length, "no address given twice");
    assert.ok(first.ok.length >= before.available, `what the pool held was served: ${first.ok.length} of ${pods.length}`);
    assert.ok(alive(s.pid), "the agent did not exit");

    // EC2 refused some of what the agent sent while the burst grew the pool.
    const calls = await callsBy(run, node.id);
    const throttled = calls.filter((c) => c.outcome === "RequestLimitExceeded").length;
    assert.ok(throttled > 0, "the agent met throttling (otherwise this test tests nothing)");

    // Recovery: the pool converges by itself; the pods that were refused get addresses when retried.
    await agent.settled(90_000);
    const retried = await Promise.all(pods.map((p) => agent.allocate(p)));
    assert.deepEqual(retried.filter((r) => !r.ok), [], "every pod has an address once throttling is off");
    const all = retried.map((r) => (r.ok ? r.reply.addresses[0]!.ipv4Addr : ""));
    assert.equal(new Set(all).size, pods.length, "no address given twice");
    for (const a of first.ok) assert.ok(all.includes(a), `pod kept ${a}`);
    await agent.settled(90_000);
    await assertAgentMatchesEc2(run, agent);
    const enis = await enisOf(run, "node");
    assert.equal(enis.length, 4, "30 pods + 14 warm on m5.xlarge: 4 ENIs");
    assert.equal(tally(await callsBy(run, node.id), "CreateNetworkInterface").ok, 3, "one ENI created per ENI the node has, none extra");
    assert.deepEqual((await run.status()).availableEnis, [], "no ENI left behind by a failed attach");
  });

  test("teardown: nothing left behind", () => assertTeardownLeavesNothing(s));
});

describe("vpc-cni-agent under EC2 5xx", { skip }, () => {
  let s: Scenario;
  before(async () => {
    s = await scenario("m5.large", "a", { WARM_IP_TARGET: "2" });
  });
  after(() => endScenario(s));

  test("503s on AssignPrivateIpAddresses and CreateNetworkInterface are retried and the pool grows", async () => {
    const { run, agent } = s;
    const node = await run.instance("node");
    assert.equal((await agent.introspect("/v1/pool")).stats.total, 2, "WARM_IP_TARGET=2");
    await faults(run, "add", "--action", "AssignPrivateIpAddresses", "--kind", "error", "--status", "503", "--count", "2");
    await faults(run, "add", "--action", "CreateNetworkInterface", "--kind", "error", "--status", "503", "--count", "2");
    const pods = Array.from({ length: 12 }, (_, i) => `p-${i}`);
    const got = addressesOf(await Promise.all(pods.map((p) => agent.allocate(p))));
    // A pod refused while the faults ran is retried, as kubelet retries a failed ADD.
    for (let i = 0; i < 3 && got.noAddress.length > 0; i++) {
      got.noAddress = [];
      const again = addressesOf(await Promise.all(pods.map((p) => agent.allocate(p))));
      got.ok = again.ok;
      got.noAddress = again.noAddress;
    }
    assert.deepEqual(got.noAddress, []);
    assert.equal(new Set(got.ok).size, 12, "no address given twice");
    assert.ok(alive(s.pid));

    const calls = await callsBy(run, node.id);
    const assign = tally(calls, "AssignPrivateIpAddresses");
    const create = tally(calls, "CreateNetworkInterface");
    assert.deepEqual(assign.errors, { Unavailable: 2 }, "both injected Assign failures were met");
    assert.deepEqual(create.errors, { Unavailable: 2 }, "both injected Create failures were met");
    assert.ok(assign.ok >= 1);
    await agent.settled(60_000);
    await assertAgentMatchesEc2(run, agent);
    const secondary = (await enisOf(run, "node")).filter((e) => e.deviceIndex !== 0);
    assert.equal(secondary.length, 1, "12 pods + 2 warm on m5.large: the primary ENI's 9 and one more ENI");
    assert.equal(create.ok, secondary.length, "a retried create makes one ENI (ClientToken), not one per try");
    assert.deepEqual((await run.status()).availableEnis, []);
  });

  test("teardown: nothing left behind", () => assertTeardownLeavesNothing(s));
});

describe("vpc-cni-agent with slow ENI attaches", { skip }, () => {
  let s: Scenario;
  before(async () => {
    s = await scenario("m5.large", "a", { VPC_CNI_ALLOCATION_WAIT: "30" });
  });
  after(() => endScenario(s));

  test("allocations on an empty pool wait for the slow attach and succeed; one ENI per ENI needed", async () => {
    const { run, agent } = s;
    const node = await run.instance("node");
    await faults(run, "slow-attach", "--ms", "3000");
    // 12 pods on m5.large with WARM_ENI_TARGET=1: 9 from the primary ENI, 3 wait for a new ENI; then
    // one more ENI's worth free: 3 ENIs, so exactly 2 creations.
    const pods = Array.from({ length: 12 }, (_, i) => `slow-${i}`);
    const got = addressesOf(await Promise.all(pods.map((p) => agent.allocate(p))));
    assert.deepEqual(got.noAddress, [], "the growth wait covers a 3 s attach");
    assert.equal(new Set(got.ok).size, 12);
    await agent.settled(60_000);
    await assertAgentMatchesEc2(run, agent);
    const enis = await enisOf(run, "node");
    assert.equal(enis.length, 3);
    const calls = await callsBy(run, node.id);
    const create = tally(calls, "CreateNetworkInterface");
    assert.equal(create.ok, 2, "no duplicate ENI while an attach is in progress");
    assert.deepEqual(create.errors, {});
    assert.equal(tally(calls, "AttachNetworkInterface").ok, 2);
    assert.equal(tally(calls, "DeleteNetworkInterface").ok, 0, "no ENI made and given back");
    assert.deepEqual((await run.status()).availableEnis, []);
    assert.ok(alive(s.pid));
  });

  test("teardown: nothing left behind", () => assertTeardownLeavesNothing(s));
});

describe("vpc-cni-agent when the subnet runs out of addresses", { skip }, () => {
  let s: Scenario;
  before(async () => {
    // Subnet b, so the exhaustion is of the node's own subnet; a short growth pause keeps the test short.
    s = await scenario("m5.large", "b", { VPC_CNI_GROWTH_PAUSE: "5" });
  });
  after(() => endScenario(s));

  test("the pool is served, beyond it a quick 'no address' naming the subnet, and growth resumes after the fault", async () => {
    const { run, agent } = s;
    const node = await run.instance("node");
    assert.equal((await agent.introspect("/v1/pool")).stats.available, 9);
    await faults(run, "exhaust", "--subnet", "b");
    const pods = Array.from({ length: 9 }, (_, i) => `ex-${i}`);
    const held = addressesOf(await Promise.all(pods.map((p) => agent.allocate(p))));
    assert.deepEqual(held.noAddress, [], "what the pool holds is still served");
    assert.equal(new Set(held.ok).size, 9);

    // Topping the pool up fails with EC2's insufficient-address error, which pauses growth.
    const paused = await waitFor(async () => {
      const p = await agent.introspect("/v1/pool");
      return p.growthPause ? p : undefined;
    }, 30_000);
    assert.equal(paused.growthPause.reason, "InsufficientFreeAddressesInSubnet");
    // Operators see it too.
    const status = await runCommand(join(ROOT, "bin", "vpc-cni-agent"), ["status"], {
      env: { ...process.env, VPC_CNI_STATE_DIR: agent.dir, INTROSPECTION_BIND_ADDRESS: `unix:${join(agent.dir, "introspection.sock")}` },
    });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /growth paused until .*: InsufficientFreeAddressesInSubnet/);
    const refused = await agent.allocate("ex-more");
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? "" : refused.error.code, "no-address");
    assert.match(refused.ok ? "" : refused.error.message, /subnet is out of addresses/);
    assert.doesNotMatch(refused.ok ? "" : refused.error.message, /did not grow within/, "answered at once, not after the growth wait");
    // The pod that was served keeps its address; a retried ADD returns it.
    const again = await agent.allocate("ex-3");
    assert.equal(again.ok && again.reply.addresses[0]!.ipv4Addr, held.ok[3]);
    assert.ok(alive(s.pid));

    await faults(run, "clear");
    // Growth resumes by itself after the pause; the refused pod, retried, gets an address.
    const late = await waitFor(async () => {
      const r = await agent.allocate("ex-more");
      if (r.ok) return r;
      assert.equal(r.error.code, "no-address", r.error.message);
      await new Promise((res) => setTimeout(res, 500));
      return undefined;
    }, 60_000);
    assert.ok(!held.ok.includes(late.reply.addresses[0]!.ipv4Addr));
    await agent.settled(60_000);
    await assertAgentMatchesEc2(run, agent);
    const calls = await callsBy(run, node.id);
    const create = tally(calls, "CreateNetworkInterface");
    assert.ok((create.errors["InsufficientFreeAddressesInSubnet"] ?? 0) >= 1, JSON.stringify(create));
    assert.equal(create.ok, (await enisOf(run, "node")).length - 1);
    assert.deepEqual((await run.status()).availableEnis, []);
  });

  test("teardown: nothing left behind", () => assertTeardownLeavesNothing(s));
});

// ---------------------------------------------------------------------------------------------------

interface RawAnswer {
  status: number;
  body: any;
}

/** One HTTP request straight to the agent's socket, as a broken or hostile client would send it. */
function raw(socketPath: string, method: string, path: string, body?: string | Buffer, options: { chunked?: boolean; declaredBytes?: number } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (body !== undefined && !options.chunked) headers["content-length"] = options.declaredBytes ?? Buffer.byteLength(body);
    let answered = false;
    const req = request({ socketPath, method, path, headers, timeout: 15_000 }, (res) => {
      answered = true;
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => {
        req.destroy(); // a request left open on purpose is done with
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`not JSON (${res.statusCode}): ${text}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 15 s")));
    // The agent may answer (and close) before a huge body is all written: that is its right.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (body !== undefined) req.write(body);
    // A huge body is sent only in part, and the request left open: the agent must answer before it has
    // it all (and may close the connection while a client is still writing, which would race here).
    if (options.declaredBytes === undefined && !options.chunked) req.end();
  });
}

describe("vpc-cni-agent RPC socket: malformed requests and version skew", { skip }, () => {
  let s: Scenario;
  const valid = {
    protocolVersion: PROTOCOL_VERSION,
    clientVersion: "raw-test",
    podNamespace: "default",
    podName: "probe",
    podUid: "",
    containerId: "c-probe",
    ifName: "eth0",
    networkName: "aws-cni",
    netns: "/var/run/netns/probe",
  };
  before(async () => {
    s = await scenario("m5.large", "a", {});
  });
  after(() => endScenario(s));

  test("malformed requests get a 4xx with a reason and change nothing", async () => {
    const { agent } = s;
    for (const p of ["keep-1", "keep-2"]) assert.equal((await agent.allocate(p)).ok, true);
    await agent.settled();
    const checkpoint = join(agent.dir, "ipam.json");
    const statsBefore = (await agent.introspect("/v1/pool")).stats;
    const enisBefore = await agent.introspect("/v1/enis");
    const fileBefore = readFileSync(checkpoint);

    const json = (o: unknown) => JSON.stringify(o);
    const cases: [string, string, string, string | Buffer | undefined, number, RegExp, { chunked?: boolean; declaredBytes?: number }?][] = [
      ["bad JSON", "POST", "/v1/allocate", "{not json", 400, /not JSON/],
      ["empty body", "POST", "/v1/allocate", "", 400, /not JSON/],
      ["a JSON array", "POST", "/v1/allocate", "[1,2]", 400, /JSON object/],
      ["JSON null", "POST", "/v1/release", "null", 400, /JSON object/],
      ["podName a number", "POST", "/v1/allocate", json({ ...valid, podName: 42 }), 400, /podName must be a string/],
      ["protocolVersion a string", "POST", "/v1/allocate", json({ ...valid, protocolVersion: "1" }), 400, /protocolVersion must be a whole number/],
      ["protocolVersion fractional", "POST", "/v1/allocate", json({ ...valid, protocolVersion: 1.5 }), 400, /protocolVersion/],
      ["requiresMultiNicAttachment a string", "POST", "/v1/allocate", json({ ...valid, requiresMultiNicAttachment: "yes" }), 400, /must be a boolean/],
      ["containerId missing", "POST", "/v1/allocate", json({ ...valid, containerId: undefined }), 400, /containerId is missing/],
      ["only the version", "POST", "/v1/allocate", json({ protocolVersion: 1, clientVersion: "x" }), 400, /is missing/],
      ["protocolVersion missing", "POST", "/v1/allocate", json({ ...valid, protocolVersion: undefined }), 400, /protocolVersion is missing/],
      ["ifName too long", "POST", "/v1/allocate", json({ ...valid, ifName: "x".repeat(16) }), 400, /ifName/],
      ["podName with a slash", "POST", "/v1/allocate", json({ ...valid, podName: "bad/name" }), 400, /podName/],
      ["netns relative", "POST", "/v1/allocate", json({ ...valid, netns: "relative/path" }), 400, /netns/],
      ["release without reason", "POST", "/v1/release", json({ ...valid, containerId: "c-keep-1", podName: "keep-1" }), 400, /reason is missing/],
      ["release with a bad key type", "POST", "/v1/release", json({ ...valid, containerId: ["c-keep-1"], reason: "PodDeleted" }), 400, /containerId must be a string/],
      ["huge body (declared)", "POST", "/v1/allocate", Buffer.alloc(1024, 0x61), 413, /bytes/, { declaredBytes: 1024 * 1024 }],
      ["huge body (chunked)", "POST", "/v1/release", Buffer.alloc(64 * 1024, 0x61), 413, /bytes/, { chunked: true }],
      ["unknown path", "POST", "/v1/frobnicate", json(valid), 404, /unknown path/],
      ["path with a prefix", "POST", "/x/v1/allocate", json(valid), 404, /unknown path/],
      ["GET on allocate", "GET", "/v1/allocate", undefined, 405, /not allowed/],
      ["PUT on release", "PUT", "/v1/release", json(valid), 405, /not allowed/],
      ["DELETE on health", "DELETE", "/v1/health", undefined, 405, /not allowed/],
    ];
    for (const [what, method, path, body, status, reason, options] of cases) {
      const a = await raw(agent.socket, method, path, body, options);
      assert.equal(a.status, status, `${what}: ${JSON.stringify(a.body)}`);
      assert.equal(a.body.error?.code, "invalid-request", `${what}: ${JSON.stringify(a.body)}`);
      assert.match(a.body.error.message, reason, what);
      assert.equal(a.body.protocolVersion, PROTOCOL_VERSION, `${what}: the agent says which protocol it speaks`);
    }

    // A client older than the agent serves (protocol 0 when the minimum is 1) is refused with both versions named.
    const old = await raw(agent.socket, "POST", "/v1/allocate", json({ ...valid, protocolVersion: MIN_CLIENT_PROTOCOL_VERSION - 1 }));
    assert.equal(old.status, 400);
    assert.equal(old.body.error.code, "unsupported-version");
    assert.match(old.body.error.message, new RegExp(`version ${MIN_CLIENT_PROTOCOL_VERSION - 1}.*version ${PROTOCOL_VERSION}.*from version ${MIN_CLIENT_PROTOCOL_VERSION}`));
    const oldRelease = await raw(agent.socket, "POST", "/v1/release", json({ ...valid, protocolVersion: 0, podName: "keep-1", containerId: "c-keep-1", reason: "PodDeleted" }));
    assert.equal(oldRelease.body.error.code, "unsupported-version", "a refused DEL releases nothing");

    // Nothing changed: the pool, the ENIs, the checkpoint's bytes; and the agent still serves.
    assert.deepEqual((await agent.introspect("/v1/pool")).stats, statsBefore);
    assert.deepEqual(await agent.introspect("/v1/enis"), enisBefore);
    assert.ok(readFileSync(checkpoint).equals(fileBefore), "the checkpoint was not rewritten");
    assert.ok(alive(s.pid));
    const health = await raw(agent.socket, "GET", "/v1/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "serving");
    assert.equal(health.body.minProtocolVersion, MIN_CLIENT_PROTOCOL_VERSION);
    const again = await agent.allocate("keep-1");
    assert.equal(again.ok, true, "a valid request is still served");
  });

  test("a newer client (higher protocolVersion, fields the agent does not know) is served; the reply names the agent's version", async () => {
    const { agent } = s;
    const newer = { ...valid, protocolVersion: PROTOCOL_VERSION + 5, clientVersion: "v9.0.0", podName: "newer", containerId: "c-newer", futureField: { anything: [1, 2] }, podPriority: 7 };
    const a = await raw(agent.socket, "POST", "/v1/allocate", JSON.stringify(newer));
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.success, true);
    assert.equal(a.body.protocolVersion, PROTOCOL_VERSION);
    assert.match(a.body.addresses[0].ipv4Addr, /^10\.0\./);
    const pool = await agent.introspect("/v1/enis");
    assert.ok(JSON.stringify(pool).includes(a.body.addresses[0].ipv4Addr));
    const r = await raw(agent.socket, "POST", "/v1/release", JSON.stringify({ ...newer, reason: "PodDeleted", anotherNewField: true }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.protocolVersion, PROTOCOL_VERSION);
    assert.equal(r.body.addresses[0].ipv4Addr, a.body.addresses[0].ipv4Addr, "the DEL released what the ADD gave");
    const h = await raw(agent.socket, "POST", "/v1/health", JSON.stringify({ protocolVersion: PROTOCOL_VERSION + 5 }));
    assert.equal(h.status, 200);
    assert.equal(h.body.protocolVersion, PROTOCOL_VERSION);
    assert.ok(alive(s.pid));
  });

  test("teardown: nothing left behind", () => assertTeardownLeavesNothing(s));
});
