// Prometheus metrics with aws-node's `awscni_*` names, types and labels (so the cni-metrics-helper,
// dashboards and alerts keep working), plus our own `vpccni_*` ones for what aws-node does not have
// (the EC2 request budget, waits for pool growth, allocation latency). Call sites use the typed facade
// below and never see prom-client; each facade has its own registry, so tests and several agents in
// one process do not share counters.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { listenHttp, type BindAddress, type HttpEndpoint } from "./http-listen.ts";
import type { Logger } from "./log.ts";

/** aws-node's `fn` values for awscni_ipamd_action_inprogress; others are allowed. */
export type IpamdAction = "nodeInit" | "increaseDatastorePool" | "decreaseDatastorePool" | "nodeIPPoolReconcile";

export interface PoolStatsInput {
  /** Managed ENIs attached (awscni_eni_allocated). */
  readonly enis: number;
  /** ENIs the node may have (awscni_eni_max). */
  readonly maxEnis: number;
  /** Addresses the node may have (awscni_ip_max). */
  readonly maxIps: number;
  readonly totalIps: number;
  readonly assignedIps: number;
  /** /28 prefixes held (0 outside prefix delegation). */
  readonly prefixes: number;
  /** Free addresses still inside IP_COOLDOWN_PERIOD. */
  readonly cooldownIps: number;
  /** Allocations waiting for pool growth. */
  readonly waitingAllocations: number;
  /** Assigned addresses per CIDR ("10.0.0.5/32", "10.0.2.0/28"); CIDRs left out are dropped. */
  readonly assignedPerCidr: Readonly<Record<string, number>>;
  /** Assigned addresses per ENI id. */
  readonly assignedPerEni: Readonly<Record<string, number>>;
}

export interface AwsCallInput {
  /** The API name: "CreateNetworkInterface", "AssignPrivateIpAddresses", ... */
  readonly api: string;
  readonly durationMs: number;
  /** The AWS error code ("RequestLimitExceeded", "InsufficientFreeAddressesInSubnet"), or null on success. */
  readonly errorCode: string | null;
  /** The HTTP status of the answer, when there was one. */
  readonly httpStatus?: number;
}

/** Same shape as the RPC server's RpcRequestEvent, so `onRequest: (e) => metrics.rpcRequest(e)` wires it. */
export interface RpcRequestInput {
  readonly method: "allocate" | "release" | "health" | "gc" | "unknown";
  readonly code: string;
  readonly seconds: number;
  readonly reason: string;
}

export interface AgentMetrics {
  /**
   * One plugin request. Counts awscni_add_ip_req_count (allocate), awscni_del_ip_req_count{reason}
   * (release), awscni_no_available_ip_addresses (a no-address answer) and the allocation latency; the
   * handlers must not count these again.
   */
  rpcRequest(event: RpcRequestInput): void;
  /** The pool's numbers after a change or a tick. */
  poolStats(stats: PoolStatsInput): void;
  /** One EC2 API call (awscni_ec2api_*, awscni_aws_api_*). */
  ec2Call(call: AwsCallInput): void;
  /** One IMDS read; aws-node reports these as api="GetMetadata". */
  imdsCall(call: Omit<AwsCallInput, "api">): void;
  /** awscni_aws_utils_error_count{fn,error}. */
  awsUtilsError(fn: string, errorCode: string): void;
  /** awscni_ipamd_error_count{fn}. */
  ipamdError(fn: string): void;
  /** awscni_pod_eni_error_count{fn}. */
  podEniError(fn: string): void;
  /** Marks `fn` in progress (awscni_ipamd_action_inprogress{fn}); call the returned function when done. */
  actionStarted(fn: IpamdAction | string): () => void;
  /** awscni_reconcile_count{fn}. */
  reconcile(fn: string): void;
  forceRemovedEnis(count?: number): void;
  forceRemovedIps(count?: number): void;
  /** awscni_ipamd_startup_duration_seconds. */
  startup(input: { readonly seconds: number; readonly success: boolean; readonly withApiServer: boolean; readonly failureReason: string }): void;
  /** awscni_ipamd_node_initialization_duration_seconds. */
  nodeInitialization(input: { readonly seconds: number; readonly success: boolean }): void;
  /** Time an EC2 call waited for the process's request budget (vpccni_ec2_budget_wait_seconds{api}). */
  ec2BudgetWait(input: { readonly api: string; readonly seconds: number }): void;
  /** Time an allocation waited for pool growth (vpccni_pool_growth_wait_seconds{outcome}). */
  poolGrowthWait(input: { readonly seconds: number; readonly outcome: "ok" | "timeout" | "failed" }): void;
  /** Growth paused after an insufficient-address error (vpccni_pool_growth_paused). */
  growthPaused(paused: boolean): void;
  /** The exposition text and its content type. */
  exposition(): Promise<{ readonly contentType: string; readonly text: string }>;
}

export interface CreateMetricsOptions {
  /** The agent's build version (awscni_build_info{version}). */
  readonly version: string;
  /** Process and Node.js runtime collectors; on by default (aws-node has Go's). */
  readonly processMetrics?: boolean;
}

const SECONDS_BUCKETS_LONG = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const SECONDS_BUCKETS_SHORT = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

export function createAgentMetrics(options: CreateMetricsOptions): AgentMetrics {
  const registers = [new Registry()];
  const registry = registers[0] as Registry;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers });

  // aws-node's families (utils/prometheusmetrics/prometheusmetrics.go), same names, types and labels.
  const ipamdErrors = counter("awscni_ipamd_error_count", "The number of errors encountered in ipamd", ["fn"]);
  const actionInProgress = gauge("awscni_ipamd_action_inprogress", "The number of ipamd actions in progress", ["fn"]);
  const eniMax = gauge("awscni_eni_max", "The maximum number of ENIs that can be attached to the instance, accounting for unmanaged ENIs");
  const ipMax = gauge("awscni_ip_max", "The maximum number of IP addresses that can be allocated to the instance");
  const reconcileCount = counter("awscni_reconcile_count", "The number of times ipamd reconciles on ENIs and IP/Prefix addresses", ["fn"]);
  const addRequests = counter("awscni_add_ip_req_count", "The number of add IP address requests");
  const delRequests = counter("awscni_del_ip_req_count", "The number of delete IP address requests", ["reason"]);
  const podEniErrors = counter("awscni_pod_eni_error_count", "The number of errors encountered for pod ENIs", ["fn"]);
  const apiLatency = new Summary<"api" | "error" | "status">({
    name: "awscni_aws_api_latency_ms",
    help: "AWS API call latency in ms",
    labelNames: ["api", "error", "status"],
    percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 600,
    ageBuckets: 5,
    registers,
  });
  const apiErrors = counter("awscni_aws_api_error_count", "The number of times AWS API returns an error", ["api", "error"]);
  const utilsErrors = counter("awscni_aws_utils_error_count", "The number of errors not handled in awsutils library", ["fn", "error"]);
  const ec2Requests = counter("awscni_ec2api_req_count", "The number of requests made to EC2 APIs by CNI", ["fn"]);
  const ec2Errors = counter("awscni_ec2api_error_count", "The number of failed EC2 APIs requests", ["fn"]);
  const eniAllocated = gauge("awscni_eni_allocated", "The number of ENIs allocated");
  const totalIps = gauge("awscni_total_ip_addresses", "The total number of IP addresses");
  const assignedIps = gauge("awscni_assigned_ip_addresses", "The number of IP addresses assigned to pods");
  const forceRemovedEnis = counter("awscni_force_removed_enis", "The number of ENIs force removed while they had assigned pods");
  const forceRemovedIps = counter("awscni_force_removed_ips", "The number of IPs force removed while they had assigned pods");
  const totalPrefixes = gauge("awscni_total_ipv4_prefixes", "The total number of IPv4 prefixes");
  const perCidr = gauge("awscni_assigned_ip_per_cidr", "The total number of IP addresses assigned per cidr", ["cidr"]);
  const noAddress = counter("awscni_no_available_ip_addresses", "The number of pod IP assignments that fail due to no available IP addresses");
  const perEni = gauge("awscni_assigned_ip_per_eni", "The number of IP addresses assigned per ENI", ["eni"]);
  const startupDuration = histogram("awscni_ipamd_startup_duration_seconds", "Time taken for ipamd to start up", SECONDS_BUCKETS_LONG, [
    "success",
    "with_api_server",
    "failure_reason",
  ]);
  const nodeInitDuration = histogram("awscni_ipamd_node_initialization_duration_seconds", "Time taken for ipamd node initialization", SECONDS_BUCKETS_LONG, ["success"]);
  const buildInfo = gauge("awscni_build_info", "A metric with a constant '1' value labeled by version and goversion (the Node.js version here)", ["version", "goversion"]);
  buildInfo.set({ version: options.version, goversion: process.version }, 1);

  // Our own.
  const allocationLatency = histogram("vpccni_allocation_latency_seconds", "Time from a plugin's allocate request to the agent's answer", SECONDS_BUCKETS_SHORT, ["outcome"]);
  const rpcRequests = counter("vpccni_rpc_requests_total", "Plugin RPC requests by method and answer code", ["method", "code"]);
  const budgetWait = histogram("vpccni_ec2_budget_wait_seconds", "Time an EC2 call waited for the process's EC2 request budget", SECONDS_BUCKETS_SHORT, ["api"]);
  const growthWait = histogram("vpccni_pool_growth_wait_seconds", "Time an allocation waited for the pool to grow", SECONDS_BUCKETS_LONG, ["outcome"]);
  const cooldownIps = gauge("vpccni_cooldown_ip_addresses", "Free addresses still inside IP_COOLDOWN_PERIOD (not available to pods)");
  const availableIps = gauge("vpccni_available_ip_addresses", "Addresses a pod could get now: total - assigned - cooldown");
  const waiting = gauge("vpccni_waiting_allocations", "Allocations waiting for the pool to grow");
  const growthPaused = gauge("vpccni_pool_growth_paused", "1 while pool growth is paused after an insufficient-address error");

  const awsCall = (call: AwsCallInput) => {
    const failed = call.errorCode !== null;
    const status = call.httpStatus !== undefined ? String(call.httpStatus) : failed ? "" : "200";
    apiLatency.observe({ api: call.api, error: String(failed), status }, call.durationMs);
    if (failed) apiErrors.inc({ api: call.api, error: call.errorCode ?? "" });
  };

  return {
    rpcRequest(event) {
      rpcRequests.inc({ method: event.method, code: event.code });
      if (event.method === "allocate") {
        addRequests.inc();
        allocationLatency.observe({ outcome: event.code }, event.seconds);
        if (event.code === "no-address") noAddress.inc();
      } else if (event.method === "release") {
        delRequests.inc({ reason: event.reason });
      }
    },
    poolStats(stats) {
      eniAllocated.set(stats.enis);
      eniMax.set(stats.maxEnis);
      ipMax.set(stats.maxIps);
      totalIps.set(stats.totalIps);
      assignedIps.set(stats.assignedIps);
      totalPrefixes.set(stats.prefixes);
      cooldownIps.set(stats.cooldownIps);
      availableIps.set(Math.max(0, stats.totalIps - stats.assignedIps - stats.cooldownIps));
      waiting.set(stats.waitingAllocations);
      // Reset, then set, in one synchronous step: a scrape never sees a CIDR or ENI that is gone.
      perCidr.reset();
      for (const [cidr, n] of Object.entries(stats.assignedPerCidr)) perCidr.set({ cidr }, n);
      perEni.reset();
      for (const [eni, n] of Object.entries(stats.assignedPerEni)) perEni.set({ eni }, n);
    },
    ec2Call(call) {
      ec2Requests.inc({ fn: call.api });
      if (call.errorCode !== null) ec2Errors.inc({ fn: call.api });
      awsCall(call);
    },
    imdsCall(call) {
      awsCall({ ...call, api: "GetMetadata" });
    },
    awsUtilsError: (fn, errorCode) => utilsErrors.inc({ fn, error: errorCode }),
    ipamdError: (fn) => ipamdErrors.inc({ fn }),
    podEniError: (fn) => podEniErrors.inc({ fn }),
    actionStarted(fn) {
      actionInProgress.inc({ fn });
      let done = false;
      return () => {
        if (done) return;
        done = true;
        actionInProgress.dec({ fn });
      };
    },
    reconcile: (fn) => reconcileCount.inc({ fn }),
    forceRemovedEnis: (count = 1) => forceRemovedEnis.inc(count),
    forceRemovedIps: (count = 1) => forceRemovedIps.inc(count),
    startup: (input) =>
      startupDuration.observe({ success: String(input.success), with_api_server: String(input.withApiServer), failure_reason: input.failureReason }, input.seconds),
    nodeInitialization: (input) => nodeInitDuration.observe({ success: String(input.success) }, input.seconds),
    ec2BudgetWait: (input) => budgetWait.observe({ api: input.api }, input.seconds),
    poolGrowthWait: (input) => growthWait.observe({ outcome: input.outcome }, input.seconds),
    growthPaused: (paused) => growthPaused.set(paused ? 1 : 0),
    async exposition() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}

export interface MetricsServerOptions {
  readonly bind: BindAddress;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
}

/** Serves GET /metrics (aws-node: :61678, every interface). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<HttpEndpoint> {
  const { metrics, log } = options;
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0];
    const finish = (status: number, contentType: string, text: string) => {
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
      res.end(req.method === "HEAD" ? undefined : text);
      log.debug({ method: req.method, path, status, ms: Math.round(performance.now() - started) }, "metrics request");
    };
    if (path !== "/metrics") return finish(404, "text/plain; charset=utf-8", "404 page not found\n");
    if (req.method !== "GET" && req.method !== "HEAD") return finish(405, "text/plain; charset=utf-8", "method not allowed\n");
    metrics.exposition().then(
      ({ contentType, text }) => finish(200, contentType, text),
      (error: unknown) => {
        log.error({ err: error }, "collecting metrics failed");
        finish(500, "text/plain; charset=utf-8", `collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
  server.setTimeout(10_000, (socket) => socket.destroy());
  const endpoint = await listenHttp(server, options.bind);
  log.info({ address: endpoint.address }, "metrics listening");
  return endpoint;
}
