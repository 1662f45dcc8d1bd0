// The agent's side of the plugin protocol (src/ipam-rpc): an HTTP/1.1 server on a unix socket that
// checks every request before a handler sees it and sends what the handler answers. The handlers
// (handlers.ts, over the agent core) are injected, so this file knows nothing about pools, datastores
// or EC2.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import {
  checkClientVersion,
  MAX_REQUEST_BYTES,
  MIN_CLIENT_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  RPC_ERROR_STATUS,
  RPC_PATHS,
  RpcError,
} from "../../ipam-rpc/protocol.ts";
import type {
  AllocateReply,
  AllocateRequest,
  ErrorReply,
  GcReply,
  GcRequest,
  HealthReply,
  ReleaseReply,
  ReleaseRequest,
  RpcErrorCode,
  RpcMethod,
} from "../../ipam-rpc/protocol.ts";
import { validateAllocateRequest, validateGcRequest, validateReleaseRequest } from "../../ipam-rpc/validation.ts";
import { listenOnUnixSocket } from "../unix-socket.ts";
import type { Logger } from "../observability/log.ts";

export interface RpcContext {
  /** Aborted when the client hangs up (e.g. its timeout) or the server is closed past its grace period. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/**
 * Whether the agent can serve an ADD. The health reply around it is the server's: its versions, and
 * "not serving" once it is closing.
 */
export interface Readiness {
  readonly serving: boolean;
  /** Why not serving, e.g. "initialising". */
  readonly detail?: string;
}

/**
 * Each call's handler answers with the call's reply (built with ipam-rpc's allocateReply, releaseReply
 * and gcReply). Throw `RpcError` for a typed answer (`no-address`, `shutting-down`, ...); any other
 * exception is answered as `internal` and logged.
 */
export interface RpcHandlers {
  allocate(request: AllocateRequest, context: RpcContext): Promise<AllocateReply>;
  release(request: ReleaseRequest, context: RpcContext): Promise<ReleaseReply>;
  gc(request: GcRequest, context: RpcContext): Promise<GcReply>;
  health(): Readiness | Promise<Readiness>;
}

/** One per answered request, for metrics (`AgentMetrics.rpcRequest` takes it as is). */
export interface RpcRequestEvent {
  readonly method: RpcMethod | "unknown";
  readonly code: "ok" | RpcErrorCode;
  readonly seconds: number;
  /** The release reason, for `awscni_del_ip_req_count{reason}`; "" when unknown. */
  readonly reason: string;
}

export interface RpcServerOptions {
  readonly socketPath: string;
  /** File mode of the socket; 0600 by default (aws-node uses 0660). */
  readonly mode?: number;
  readonly handlers: RpcHandlers;
  readonly log: Logger;
  /** The agent's build version, reported by health. */
  readonly agentVersion?: string;
  readonly maxBodyBytes?: number;
  /** Time allowed to receive a whole request (not to answer it). */
  readonly requestTimeoutMs?: number;
  readonly onRequest?: (event: RpcRequestEvent) => void;
}

export interface RpcServer {
  readonly socketPath: string;
  /**
   * Stops accepting connections, lets requests in progress finish for up to `graceMs` (default 5 s),
   * then aborts them and removes the socket (if it is still ours).
   */
  close(options?: { readonly graceMs?: number }): Promise<void>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_GRACE_MS = 5_000;

type Answer = { readonly status: number; readonly body: object; readonly code: "ok" | RpcErrorCode };

function errorAnswer(code: RpcErrorCode, message: string, status = RPC_ERROR_STATUS[code]): Answer {
  const body: ErrorReply = { protocolVersion: PROTOCOL_VERSION, error: { code, message } };
  return { status, body, code };
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { handlers, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_REQUEST_BYTES;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const inFlight = new Set<AbortController>();
  let closing = false;

  const server = createServer({ requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, keepAliveTimeout: 1000 }, (req, res) => {
    void serve(req, res);
  });
  server.maxHeadersCount = 32;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? "").split("?")[0] ?? "";
    const method = methodFor(path);
    const controller = new AbortController();
    // 'close' before the answer is written means the client gave up; tell the handler.
    res.once("close", () => {
      if (!res.writableFinished) controller.abort(new Error("client closed the connection"));
    });
    inFlight.add(controller);
    let reason = "";
    let answer: Answer;
    try {
      answer = await route(req, method, controller.signal, (r) => (reason = r));
    } catch (error) {
      log.error({ err: error, method }, "RPC handler failed");
      answer = errorAnswer("internal", `internal error: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      inFlight.delete(controller);
    }
    send(res, answer);
    const seconds = (performance.now() - started) / 1000;
    const level = answer.code === "ok" || answer.code === "no-address" ? (method === "health" ? "debug" : "info") : "warn";
    log[level]({ method, path, status: answer.status, code: answer.code, ms: Math.round(seconds * 1000), ...(reason ? { reason } : {}) }, "RPC request");
    try {
      options.onRequest?.({ method, code: answer.code, seconds, reason });
    } catch (error) {
      log.error({ err: error }, "RPC request observer failed");
    }
  }

  async function route(req: IncomingMessage, method: RpcMethod | "unknown", signal: AbortSignal, noteReason: (r: string) => void): Promise<Answer> {
    if (method === "unknown") return errorAnswer("invalid-request", `unknown path ${JSON.stringify(req.url)}; use ${Object.values(RPC_PATHS).join(", ")}`, 404);
    if (method === "health") {
      if (req.method !== "GET" && req.method !== "POST") return errorAnswer("invalid-request", `${req.method} not allowed on ${RPC_PATHS.health}; use GET or POST`, 405);
      // The body, if any, is not needed: health answers every client, so probes need no version.
      const drained = await readBody(req, maxBodyBytes);
      if (!drained.ok) return errorAnswer("invalid-request", drained.message, drained.status);
      const result = closing ? { serving: false, detail: "shutting down" } : await handlers.health();
      const body: HealthReply = {
        protocolVersion: PROTOCOL_VERSION,
        minProtocolVersion: MIN_CLIENT_PROTOCOL_VERSION,
        agentVersion: options.agentVersion ?? "",
        status: result.serving ? "serving" : "not-serving",
        detail: result.detail ?? "",
      };
      return { status: result.serving ? 200 : 503, body, code: "ok" };
    }
    if (req.method !== "POST") return errorAnswer("invalid-request", `${req.method} not allowed on ${RPC_PATHS[method]}; use POST`, 405);
    const read = await readBody(req, maxBodyBytes);
    if (!read.ok) return errorAnswer("invalid-request", read.message, read.status);
    let decoded: unknown;
    try {
      decoded = JSON.parse(read.text);
    } catch (error) {
      return errorAnswer("invalid-request", `the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const context: RpcContext = { signal, log };
    if (method === "allocate") {
      const request = validateAllocateRequest(decoded);
      if (!request.ok) return errorAnswer("invalid-request", request.message);
      const refused = refusal(request.value.protocolVersion);
      if (refused) return refused;
      return call(() => handlers.allocate(request.value, context));
    }
    if (method === "gc") {
      const request = validateGcRequest(decoded);
      if (!request.ok) return errorAnswer("invalid-request", request.message);
      const refused = refusal(request.value.protocolVersion);
      if (refused) return refused;
      return call(() => handlers.gc(request.value, context));
    }
    const request = validateReleaseRequest(decoded);
    if (!request.ok) return errorAnswer("invalid-request", request.message);
    noteReason(request.value.reason);
    const refused = refusal(request.value.protocolVersion);
    if (refused) return refused;
    return call(() => handlers.release(request.value, context));
  }

  function refusal(protocolVersion: number): Answer | null {
    const tooOld = checkClientVersion(protocolVersion);
    if (tooOld !== null) return errorAnswer("unsupported-version", tooOld);
    if (closing) return errorAnswer("shutting-down", "the agent is shutting down; retry when it is back");
    return null;
  }

  async function call(run: () => Promise<object>): Promise<Answer> {
    try {
      return { status: 200, body: await run(), code: "ok" };
    } catch (error) {
      if (error instanceof RpcError) return errorAnswer(error.code, error.message);
      throw error;
    }
  }

  const listener = await listenOnUnixSocket(server, options.socketPath, options.mode ?? 0o600);
  log.info({ socket: options.socketPath, mode: `0${(options.mode ?? 0o600).toString(8)}`, protocolVersion: PROTOCOL_VERSION }, "RPC server listening");

  let closed: Promise<void> | null = null;
  async function shutdown(graceMs: number): Promise<void> {
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (inFlight.size > 0 && Date.now() < deadline) await sleep(Math.min(20, deadline - Date.now()));
    for (const controller of inFlight) controller.abort(new Error("RPC server closed"));
    server.closeAllConnections();
    await stopped;
    await listener.unlinkIfOurs();
    log.info({ socket: options.socketPath }, "RPC server closed");
  }

  return {
    socketPath: options.socketPath,
    close(closeOptions) {
      closed ??= shutdown(closeOptions?.graceMs ?? DEFAULT_GRACE_MS);
      return closed;
    },
  };
}

function methodFor(path: string): RpcMethod | "unknown" {
  for (const [method, p] of Object.entries(RPC_PATHS)) if (p === path) return method as RpcMethod;
  return "unknown";
}

type BodyRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly status: number; readonly message: string };

function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false, status: 413, message: `the body is ${declared} bytes; at most ${maxBytes} allowed` });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyRead) => {
      if (done) return;
      done = true;
      resolve(result);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering but keep draining, so the error answer can still be written.
        chunks.length = 0;
        finish({ ok: false, status: 413, message: `the body is over ${maxBytes} bytes` });
      } else if (!done) chunks.push(chunk);
    });
    req.once("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      finish({ ok: true, text });
    });
    req.once("error", (error) => finish({ ok: false, status: 400, message: `reading the body failed: ${error.message}` }));
  });
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(answer.body);
  // One connection per call: say so, so the socket is not kept for a request that never comes.
  res.writeHead(answer.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), connection: "close" });
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
