// The plugin's side of the protocol. It is bundled into the CNI plugin, which kubelet execs for every
// pod, so it imports only node built-ins and this folder. One connection per call (like aws-node's
// plugin), one deadline per call covering connect, request and reply, and no exceptions: every outcome
// is a typed result the plugin must handle.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { checkServerVersion, MAX_REPLY_BYTES, PROTOCOL_VERSION, RPC_PATHS } from "./protocol.ts";
import type { AllocateReply, AllocateRequest, GcReply, GcRequest, HealthReply, ReleaseReply, ReleaseRequest, RpcErrorCode } from "./protocol.ts";
import { decodeAllocateReply, decodeErrorReply, decodeGcReply, decodeHealthReply, decodeReleaseReply, type Validated } from "./validation.ts";

/**
 * The agent's error codes, plus what only the client can see:
 * - `unavailable`: no agent answers on the socket (not running, not yet started, or no permission);
 * - `timeout`: the agent did not answer within the deadline (the request may or may not have taken effect);
 * - `bad-reply`: the answer was not the protocol.
 */
export type ClientErrorCode = RpcErrorCode | "unavailable" | "timeout" | "bad-reply";

export interface RpcCallError {
  readonly code: ClientErrorCode;
  readonly message: string;
  /** The HTTP status, when the agent answered. */
  readonly status?: number;
  /** The agent's protocol version, when it said. */
  readonly serverProtocolVersion?: number;
}

export type RpcResult<T> = { readonly ok: true; readonly reply: T } | { readonly ok: false; readonly error: RpcCallError };

export interface RpcClientOptions {
  readonly socketPath: string;
  /** The plugin's build version, sent as clientVersion (informational). */
  readonly clientVersion: string;
  /** Deadline for the whole call. Defaults: allocate 60 s (the agent may be growing the pool), release 30 s, health 5 s. */
  readonly timeoutMs?: number;
}

export type AllocateParams = Omit<AllocateRequest, "protocolVersion" | "clientVersion" | "podUid" | "infraContainerId" | "requiresMultiNicAttachment"> &
  Partial<Pick<AllocateRequest, "podUid" | "infraContainerId" | "requiresMultiNicAttachment">>;

export type ReleaseParams = Omit<ReleaseRequest, "protocolVersion" | "clientVersion" | "podUid" | "infraContainerId" | "netns"> &
  Partial<Pick<ReleaseRequest, "podUid" | "infraContainerId" | "netns">>;

export const DEFAULT_TIMEOUTS_MS = { allocate: 60_000, release: 30_000, health: 5_000 } as const;

export function allocate(options: RpcClientOptions, params: AllocateParams): Promise<RpcResult<AllocateReply>> {
  const body = { podUid: "", infraContainerId: "", requiresMultiNicAttachment: false, ...params, protocolVersion: PROTOCOL_VERSION, clientVersion: options.clientVersion };
  return call(options, "POST", RPC_PATHS.allocate, body, options.timeoutMs ?? DEFAULT_TIMEOUTS_MS.allocate, decodeAllocateReply, false);
}

export function release(options: RpcClientOptions, params: ReleaseParams): Promise<RpcResult<ReleaseReply>> {
  const body = { podUid: "", infraContainerId: "", netns: "", ...params, protocolVersion: PROTOCOL_VERSION, clientVersion: options.clientVersion };
  return call(options, "POST", RPC_PATHS.release, body, options.timeoutMs ?? DEFAULT_TIMEOUTS_MS.release, decodeReleaseReply, false);
}

export type GcParams = Omit<GcRequest, "protocolVersion" | "clientVersion">;

/** CNI GC: the agent releases the network's allocations that are not in validAttachments. */
export function gc(options: RpcClientOptions, params: GcParams): Promise<RpcResult<GcReply>> {
  const body = { ...params, protocolVersion: PROTOCOL_VERSION, clientVersion: options.clientVersion };
  return call(options, "POST", RPC_PATHS.gc, body, options.timeoutMs ?? DEFAULT_TIMEOUTS_MS.release, decodeGcReply, false);
}

/** A not-serving agent is a successful call with `reply.status === "not-serving"`. */
export function health(options: RpcClientOptions): Promise<RpcResult<HealthReply>> {
  const body = { protocolVersion: PROTOCOL_VERSION, clientVersion: options.clientVersion };
  return call(options, "POST", RPC_PATHS.health, body, options.timeoutMs ?? DEFAULT_TIMEOUTS_MS.health, decodeHealthReply, true);
}

function call<T extends { protocolVersion: number }>(
  options: RpcClientOptions,
  method: string,
  path: string,
  body: object,
  timeoutMs: number,
  decode: (body: unknown) => Validated<T>,
  replyOnServiceUnavailable: boolean,
): Promise<RpcResult<T>> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: RpcResult<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const fail = (code: ClientErrorCode, message: string, extra: Partial<RpcCallError> = {}) => settle({ ok: false, error: { code, message, ...extra } });

    const req = httpRequest({
      socketPath: options.socketPath,
      method,
      path,
      agent: false,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), connection: "close" },
    });
    const timer = setTimeout(() => fail("timeout", `the agent did not answer ${path} within ${timeoutMs} ms (socket ${options.socketPath})`), timeoutMs);
    req.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED" || error.code === "EACCES" || error.code === "ENOTSOCK") {
        fail("unavailable", `cannot reach the agent at ${options.socketPath}: ${error.code === "ENOENT" ? "no socket (is the agent running?)" : error.message}`);
      } else if (error.code === "ECONNRESET" || error.code === "EPIPE") {
        fail("unavailable", `the agent closed the connection on ${path}: ${error.message}`);
      } else {
        fail("unavailable", `calling the agent at ${options.socketPath} failed: ${error.message}`);
      }
    });
    req.once("response", (res: IncomingMessage) => {
      readReply(res, (text) => {
        if (text === null) return fail("bad-reply", `the agent's reply to ${path} is over ${MAX_REPLY_BYTES} bytes`, { status: res.statusCode });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return fail("bad-reply", `the agent's reply to ${path} (HTTP ${res.statusCode}) is not JSON`, { status: res.statusCode });
        }
        const status = res.statusCode ?? 0;
        if (status === 200 || (replyOnServiceUnavailable && status === 503)) {
          const reply = decode(parsed);
          if (reply.ok) {
            const tooOld = checkServerVersion(reply.value.protocolVersion);
            if (tooOld !== null) return fail("unsupported-version", tooOld, { status, serverProtocolVersion: reply.value.protocolVersion });
            return settle({ ok: true, reply: reply.value });
          }
          if (status === 200) return fail("bad-reply", `the agent's reply to ${path} is not the protocol: ${reply.message}`, { status });
        }
        const error = decodeErrorReply(parsed);
        if (!error.ok) return fail("bad-reply", `the agent answered ${path} with HTTP ${status} and no error: ${error.message}`, { status });
        fail(error.value.error.code, error.value.error.message, { status, serverProtocolVersion: error.value.protocolVersion });
      });
      res.once("error", (error) => fail("unavailable", `reading the agent's reply to ${path} failed: ${error.message}`));
    });
    req.end(payload);
  });
}

/** Calls back with the reply text, or null when it exceeds MAX_REPLY_BYTES. */
function readReply(res: IncomingMessage, done: (text: string | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  res.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REPLY_BYTES) {
      if (!over) done(null);
      over = true;
      return;
    }
    chunks.push(chunk);
  });
  res.once("end", () => {
    if (!over) done(Buffer.concat(chunks).toString("utf8"));
  });
}
