import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { createAgentMetrics, startMetricsServer } from "./metrics.ts";
import { silentLogger } from "./log.ts";

// aws-node's families (reference section 9) that the agent must expose, with their types and labels.
const REFERENCE_FAMILIES: readonly [string, "counter" | "gauge" | "summary" | "histogram", readonly string[]][] = [
  ["awscni_ipamd_error_count", "counter", ["fn"]],
  ["awscni_ipamd_action_inprogress", "gauge", ["fn"]],
  ["awscni_eni_max", "gauge", []],
  ["awscni_ip_max", "gauge", []],
  ["awscni_reconcile_count", "counter", ["fn"]],
  ["awscni_add_ip_req_count", "counter", []],
  ["awscni_del_ip_req_count", "counter", ["reason"]],
  ["awscni_pod_eni_error_count", "counter", ["fn"]],
  ["awscni_aws_api_latency_ms", "summary", ["api", "error", "status"]],
  ["awscni_aws_api_error_count", "counter", ["api", "error"]],
  ["awscni_aws_utils_error_count", "counter", ["fn", "error"]],
  ["awscni_ec2api_req_count", "counter", ["fn"]],
  ["awscni_ec2api_error_count", "counter", ["fn"]],
  ["awscni_eni_allocated", "gauge", []],
  ["awscni_total_ip_addresses", "gauge", []],
  ["awscni_assigned_ip_addresses", "gauge", []],
  ["awscni_force_removed_enis", "counter", []],
  ["awscni_force_removed_ips", "counter", []],
  ["awscni_total_ipv4_prefixes", "gauge", []],
  ["awscni_assigned_ip_per_cidr", "gauge", ["cidr"]],
  ["awscni_no_available_ip_addresses", "counter", []],
  ["awscni_assigned_ip_per_eni", "gauge", ["eni"]],
  ["awscni_ipamd_startup_duration_seconds", "histogram", ["success", "with_api_server", "failure_reason"]],
  ["awscni_ipamd_node_initialization_duration_seconds", "histogram", ["success"]],
  ["awscni_build_info", "gauge", ["version", "goversion"]],
];

const OUR_FAMILIES: readonly [string, string][] = [
  ["vpccni_allocation_latency_seconds", "histogram"],
  ["vpccni_rpc_requests_total", "counter"],
  ["vpccni_ec2_budget_wait_seconds", "histogram"],
  ["vpccni_pool_growth_wait_seconds", "histogram"],
  ["vpccni_cooldown_ip_addresses", "gauge"],
  ["vpccni_available_ip_addresses", "gauge"],
  ["vpccni_waiting_allocations", "gauge"],
  ["vpccni_pool_growth_paused", "gauge"],
];

/** Exercises every facade method once, so every labelled family has a sample. */
function exercised() {
  const metrics = createAgentMetrics({ version: "v0.1.0", processMetrics: false });
  metrics.rpcRequest({ method: "allocate", code: "ok", seconds: 0.004, reason: "" });
  metrics.rpcRequest({ method: "allocate", code: "no-address", seconds: 2.5, reason: "" });
  metrics.rpcRequest({ method: "release", code: "ok", seconds: 0.002, reason: "PodDeleted" });
  metrics.rpcRequest({ method: "release", code: "ok", seconds: 0.002, reason: "SetupNSFailed" });
  metrics.rpcRequest({ method: "health", code: "ok", seconds: 0.001, reason: "" });
  metrics.poolStats({
    enis: 2,
    maxEnis: 3,
    maxIps: 29,
    totalIps: 18,
    assignedIps: 3,
    prefixes: 1,
    cooldownIps: 2,
    waitingAllocations: 1,
    assignedPerCidr: { "10.0.1.17/32": 1, "10.0.2.16/28": 2 },
    assignedPerEni: { "eni-0aaa": 1, "eni-0bbb": 2 },
  });
  metrics.ec2Call({ api: "AssignPrivateIpAddresses", durationMs: 120, errorCode: null });
  metrics.ec2Call({ api: "AssignPrivateIpAddresses", durationMs: 40, errorCode: "RequestLimitExceeded", httpStatus: 503 });
  metrics.imdsCall({ durationMs: 2, errorCode: null });
  metrics.awsUtilsError("GetAttachedENIs", "InvalidNetworkInterfaceID.NotFound");
  metrics.ipamdError("increaseDatastorePool");
  metrics.podEniError("getPodENI");
  const done = metrics.actionStarted("increaseDatastorePool");
  metrics.actionStarted("nodeIPPoolReconcile")();
  metrics.reconcile("eniReconcileAdd");
  metrics.forceRemovedEnis();
  metrics.forceRemovedIps(3);
  metrics.startup({ seconds: 4.2, success: true, withApiServer: false, failureReason: "" });
  metrics.nodeInitialization({ seconds: 3.1, success: true });
  metrics.ec2BudgetWait({ api: "CreateNetworkInterface", seconds: 0.2 });
  metrics.poolGrowthWait({ seconds: 1.5, outcome: "ok" });
  metrics.growthPaused(true);
  return { metrics, done };
}

describe("metrics exposition", () => {
  it("has aws-node's families with their types and labels", async () => {
    const { metrics } = exercised();
    const { text, contentType } = await metrics.exposition();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    for (const [name, type, labels] of REFERENCE_FAMILIES) {
      assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `# TYPE ${name} ${type}`);
      const suffix = type === "histogram" ? "_bucket" : type === "summary" ? "_count" : "";
      const sample = text.split("\n").find((line) => line.startsWith(`${name}${suffix}{`) || line.startsWith(`${name}${suffix} `));
      assert.ok(sample, `a sample of ${name}`);
      const found = [...(sample.match(/\{(.*)\}/)?.[1] ?? "").matchAll(/(\w+)="/g)].map((m) => m[1]).filter((l) => l !== "le" && l !== "quantile");
      assert.deepEqual(found, labels, name);
    }
    for (const [name, type] of OUR_FAMILIES) assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `# TYPE ${name} ${type}`);
  });

  it("counts plugin requests as aws-node does", async () => {
    const { metrics } = exercised();
    const { text } = await metrics.exposition();
    const lines = new Set(text.split("\n"));
    for (const line of [
      "awscni_add_ip_req_count 2",
      'awscni_del_ip_req_count{reason="PodDeleted"} 1',
      'awscni_del_ip_req_count{reason="SetupNSFailed"} 1',
      "awscni_no_available_ip_addresses 1",
      'vpccni_rpc_requests_total{method="health",code="ok"} 1',
      'vpccni_allocation_latency_seconds_count{outcome="no-address"} 1',
    ]) {
      assert.ok(lines.has(line), line);
    }
  });

  it("reports EC2 and IMDS calls under aws-node's names", async () => {
    const { metrics } = exercised();
    const lines = new Set((await metrics.exposition()).text.split("\n"));
    for (const line of [
      'awscni_ec2api_req_count{fn="AssignPrivateIpAddresses"} 2',
      'awscni_ec2api_error_count{fn="AssignPrivateIpAddresses"} 1',
      'awscni_aws_api_error_count{api="AssignPrivateIpAddresses",error="RequestLimitExceeded"} 1',
      'awscni_aws_api_latency_ms_count{api="AssignPrivateIpAddresses",error="false",status="200"} 1',
      'awscni_aws_api_latency_ms_sum{api="AssignPrivateIpAddresses",error="true",status="503"} 40',
      'awscni_aws_api_latency_ms_count{api="GetMetadata",error="false",status="200"} 1',
      'awscni_aws_utils_error_count{fn="GetAttachedENIs",error="InvalidNetworkInterfaceID.NotFound"} 1',
    ]) {
      assert.ok(lines.has(line), line);
    }
  });

  it("sets the pool gauges and drops CIDRs and ENIs that are gone", async () => {
    const { metrics } = exercised();
    let lines = new Set((await metrics.exposition()).text.split("\n"));
    for (const line of [
      "awscni_eni_allocated 2",
      "awscni_eni_max 3",
      "awscni_ip_max 29",
      "awscni_total_ip_addresses 18",
      "awscni_assigned_ip_addresses 3",
      "awscni_total_ipv4_prefixes 1",
      'awscni_assigned_ip_per_cidr{cidr="10.0.2.16/28"} 2',
      'awscni_assigned_ip_per_eni{eni="eni-0bbb"} 2',
      "vpccni_cooldown_ip_addresses 2",
      "vpccni_available_ip_addresses 13",
      "vpccni_waiting_allocations 1",
      "vpccni_pool_growth_paused 1",
    ]) {
      assert.ok(lines.has(line), line);
    }
    metrics.poolStats({ enis: 1, maxEnis: 3, maxIps: 29, totalIps: 9, assignedIps: 1, prefixes: 0, cooldownIps: 0, waitingAllocations: 0, assignedPerCidr: { "10.0.1.17/32": 1 }, assignedPerEni: { "eni-0aaa": 1 } });
    const text = (await metrics.exposition()).text;
    lines = new Set(text.split("\n"));
    assert.ok(lines.has('awscni_assigned_ip_per_cidr{cidr="10.0.1.17/32"} 1'));
    assert.ok(!text.includes("10.0.2.16/28"));
    assert.ok(!text.includes("eni-0bbb"));
  });

  it("tracks actions in progress and the other aws-node counters", async () => {
    const { metrics, done } = exercised();
    let lines = new Set((await metrics.exposition()).text.split("\n"));
    assert.ok(lines.has('awscni_ipamd_action_inprogress{fn="increaseDatastorePool"} 1'));
    assert.ok(lines.has('awscni_ipamd_action_inprogress{fn="nodeIPPoolReconcile"} 0'));
    done();
    done(); // a second call must not go negative
    lines = new Set((await metrics.exposition()).text.split("\n"));
    assert.ok(lines.has('awscni_ipamd_action_inprogress{fn="increaseDatastorePool"} 0'));
    for (const line of [
      'awscni_ipamd_error_count{fn="increaseDatastorePool"} 1',
      'awscni_pod_eni_error_count{fn="getPodENI"} 1',
      'awscni_reconcile_count{fn="eniReconcileAdd"} 1',
      "awscni_force_removed_enis 1",
      "awscni_force_removed_ips 3",
      'awscni_ipamd_startup_duration_seconds_count{success="true",with_api_server="false",failure_reason=""} 1',
      'awscni_ipamd_node_initialization_duration_seconds_count{success="true"} 1',
      `awscni_build_info{version="v0.1.0",goversion="${process.version}"} 1`,
      'vpccni_ec2_budget_wait_seconds_count{api="CreateNetworkInterface"} 1',
      'vpccni_pool_growth_wait_seconds_count{outcome="ok"} 1',
    ]) {
      assert.ok(lines.has(line), line);
    }
  });

  it("keeps registries apart and includes process collectors when asked", async () => {
    const a = createAgentMetrics({ version: "a" });
    const b = createAgentMetrics({ version: "b", processMetrics: false });
    a.forceRemovedEnis(5);
    const textA = (await a.exposition()).text;
    const textB = (await b.exposition()).text;
    assert.ok(textA.includes("awscni_force_removed_enis 5"));
    assert.ok(textB.includes("awscni_force_removed_enis 0"));
    assert.match(textA, /# TYPE process_cpu_seconds_total counter/);
    assert.match(textA, /# TYPE process_resident_memory_bytes gauge/);
    assert.doesNotMatch(textB, /process_cpu_seconds_total/);
  });
});

describe("metrics server", () => {
  function get(port: number, path: string): Promise<{ status: number; contentType: string | undefined; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], text: Buffer.concat(chunks).toString("utf8") }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("serves /metrics and nothing else", async () => {
    const { metrics } = exercised();
    const endpoint = await startMetricsServer({ bind: { kind: "tcp", host: "127.0.0.1", port: 0 }, metrics, log: silentLogger() });
    try {
      assert.ok(endpoint.port);
      const got = await get(endpoint.port, "/metrics");
      assert.equal(got.status, 200);
      assert.match(got.contentType ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(got.text, /# TYPE awscni_add_ip_req_count counter\nawscni_add_ip_req_count 2\n/);
      assert.equal((await get(endpoint.port, "/")).status, 404);
    } finally {
      await endpoint.close();
    }
  });
});
