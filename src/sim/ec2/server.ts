// vpcsim's EC2 endpoint: an HTTP request listener speaking EC2's Query protocol in front of an
// Ec2Api. Each request goes through, in order:
//   body size (over maxBodyBytes → 413 RequestEntityTooLarge, without reading the rest)
//   → Action and Version (MissingAction, InvalidAction, MissingParameter, NoSuchVersion)
//   → SigV4 authentication (MissingAuthenticationToken, AuthFailure, SignatureDoesNotMatch, ...)
//   → deny list (UnauthorizedOperation, 403)
//   → throttle (RequestLimitExceeded, 503)
//   → injected faults (throttle, 5xx, dropped connection) and latency
//   → parameter parsing (MissingParameter, InvalidParameterValue, ...) and DryRun (DryRunOperation, 412)
//   → the Ec2Api call → EC2's XML.
// Every request is recorded in the call log. The listener never throws: anything unexpected is
// answered as InternalError (500) and reported through `onError`.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { lstatSync, unlinkSync } from "node:fs";
import { setTimeout as sleepReal } from "node:timers/promises";
import type { Ec2Api } from "./api.ts";
import { CallLog, loggableParams } from "./call-log.ts";
import type { CredentialStore } from "./credentials.ts";
import { Faults } from "./faults.ts";
import { isDryRun, isFilteredOrPaged, parseAction, parseForm, parseInput, type Ec2Request } from "./query.ts";
import { verifySigV4 } from "./sigv4.ts";
import { requestLimitExceeded, Throttle } from "./throttle.ts";
import { Ec2Error, type InstanceState } from "./types.ts";
import { errorXml, ResponseWriter, responseXml, type XmlValue } from "./xml.ts";

export interface Ec2HandlerOptions {
  api: Ec2Api;
  credentials: CredentialStore;
  throttle?: Throttle; // default: EC2's buckets, enabled
  faults?: Faults; // default: none
  callLog?: CallLog; // default: a fresh 100k ring
  /** Base latency added to every authenticated request, per action (e.g. a profile's EC2 latency). */
  latencyMs?: (action: string) => number;
  maxBodyBytes?: number; // default 1 MiB
  requestId?: () => string; // default: random UUIDs, as EC2's
  denyActions?: Set<string>; // actions answered with UnauthorizedOperation
  region?: string; // the Region this endpoint serves; SigV4 scopes must name it. Default "us-east-1"
  clock?: { now(): number }; // for SigV4 skew/expiry and call-log times. Default Date.now
  sleep?: (ms: number) => Promise<void>; // how latency and held timeouts wait. Default real timers
  onError?: (err: unknown, action: string) => void; // unexpected exceptions. Default console.error
}

/** A node:http request listener; `denyActions` may be mutated or replaced at run time. */
export interface Ec2Handler {
  (req: IncomingMessage, res: ServerResponse): void;
  denyActions: Set<string>;
  readonly throttle: Throttle;
  readonly faults: Faults;
  readonly callLog: CallLog;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The client went away before its body arrived: there is no one to answer. */
class Aborted extends Error {}

/** A fault decided to drop this request without an answer. */
class Dropped extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): Ec2Error =>
      new Ec2Error("RequestEntityTooLarge", `Request body must be no larger than ${max} bytes.`, 413);
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, body?: Buffer): void => {
      if (done) return;
      done = true;
      req.off("data", onData);
      if (err !== undefined) reject(err);
      else resolve(body ?? Buffer.alloc(0));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        finish(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => finish(undefined, Buffer.concat(chunks)));
    req.on("aborted", () => finish(new Aborted("client aborted")));
    req.on("error", () => finish(new Aborted("request stream failed")));
    req.on("close", () => {
      if (!req.complete) finish(new Aborted("connection closed mid-body"));
    });
  });
}

function execute(api: Ec2Api, region: string, r: Ec2Request): Record<string, XmlValue> {
  // The writer reads the world after the call, so an answer shows the call's own effects.
  const writer = (): ResponseWriter => new ResponseWriter(api, region);
  switch (r.action) {
    case "CreateSubnet": {
      const subnet = api.createSubnet(r.input);
      // The answer shows the new subnet as DescribeSubnets would, with its free address count.
      return writer().createSubnet(api.subnet(subnet.subnetId)!);
    }
    case "AssociateVpcCidrBlock":
      return writer().associateVpcCidrBlock(api.associateVpcCidrBlock(r.input));
    case "AssociateSubnetCidrBlock":
      return writer().associateSubnetCidrBlock(api.associateSubnetCidrBlock(r.input));
    case "DisassociateVpcCidrBlock":
      return writer().associateVpcCidrBlock(api.disassociateVpcCidrBlock(r.input));
    case "DeleteSubnet":
      api.deleteSubnet(r.input);
      return writer().ok();
    case "CreateSecurityGroup":
      return writer().createSecurityGroup(api.createSecurityGroup(r.input));
    case "DescribeInstances":
      return writer().describeInstances(api.describeInstances(r.input));
    case "DescribeInstanceTypes":
      return writer().describeInstanceTypes(api.describeInstanceTypes(r.input));
    case "DescribeVpcs":
      return writer().describeVpcs(api.describeVpcs(r.input));
    case "DescribeSubnets":
      return writer().describeSubnets(api.describeSubnets(r.input));
    case "DescribeSecurityGroups":
      return writer().describeSecurityGroups(api.describeSecurityGroups(r.input));
    case "DescribeNetworkInterfaces":
      return writer().describeNetworkInterfaces(api.describeNetworkInterfaces(r.input));
    case "CreateNetworkInterface":
      return writer().networkInterface(api.createNetworkInterface(r.input));
    case "AttachNetworkInterface":
      return writer().attach(api.attachNetworkInterface(r.input));
    case "DetachNetworkInterface":
      api.detachNetworkInterface(r.input);
      return writer().ok();
    case "DeleteNetworkInterface":
      api.deleteNetworkInterface(r.input);
      return writer().ok();
    case "ModifyNetworkInterfaceAttribute":
      api.modifyNetworkInterfaceAttribute(r.input);
      return writer().ok();
    case "AssignPrivateIpAddresses":
      return writer().assignPrivate(api.assignPrivateIpAddresses(r.input));
    case "UnassignPrivateIpAddresses":
      api.unassignPrivateIpAddresses(r.input);
      return writer().ok();
    case "AssignIpv6Addresses":
      return writer().assignIpv6(api.assignIpv6Addresses(r.input));
    case "UnassignIpv6Addresses":
      api.unassignIpv6Addresses(r.input);
      return writer().unassignIpv6(r.input.networkInterfaceId, r.input.ipv6Addresses ?? [], r.input.ipv6Prefixes ?? []);
    case "CreateTags":
      api.createTags(r.input);
      return writer().ok();
    case "DeleteTags":
      api.deleteTags(r.input);
      return writer().ok();
    case "RunInstances":
      return writer().runInstances(api.runInstance(r.input));
    case "TerminateInstances": {
      // EC2 terminates all or none: check every id before touching any.
      const unknown = r.input.instanceIds.filter((id) => api.instance(id) === undefined);
      if (unknown.length === 1) throw new Ec2Error("InvalidInstanceID.NotFound", `The instance ID '${unknown[0]}' does not exist`);
      if (unknown.length > 1) throw new Ec2Error("InvalidInstanceID.NotFound", `The instance IDs '${unknown.join(", ")}' do not exist`);
      const changes: { instanceId: string; previous: InstanceState; current: InstanceState }[] = [];
      for (const id of new Set(r.input.instanceIds)) {
        const previous = api.instance(id)?.state ?? "terminated";
        const after = api.terminateInstance(id);
        changes.push({ instanceId: id, previous, current: after.state });
      }
      return writer().terminateInstances(changes);
    }
  }
}

function send(res: ServerResponse, status: number, requestId: string, xml: string, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(xml, "utf8");
  res.writeHead(status, {
    "Content-Type": "text/xml;charset=UTF-8",
    "Content-Length": body.length,
    "x-amzn-RequestId": requestId,
    Server: "AmazonEC2",
    ...(close ? { Connection: "close" } : {}),
  });
  res.end(body);
}

export function createEc2Handler(opts: Ec2HandlerOptions): Ec2Handler {
  const throttle = opts.throttle ?? new Throttle();
  const faults = opts.faults ?? new Faults();
  const callLog = opts.callLog ?? new CallLog();
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const nextRequestId = opts.requestId ?? randomUUID;
  const region = opts.region ?? "us-east-1";
  const clock = opts.clock;
  const now = clock === undefined ? Date.now : () => clock.now();
  const sleep = opts.sleep ?? ((ms: number) => sleepReal(ms).then(() => undefined));
  const onError = opts.onError ?? ((err: unknown, action: string) => console.error(`vpcsim ec2: unexpected error in ${action || "request"}:`, err));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const time = now();
    const requestId = nextRequestId();
    let action = "";
    let params: ReadonlyMap<string, string> = new Map();
    let who: { accessKeyId?: string; principal?: string } = {};
    let outcome = "ok";
    let status = 200;
    try {
      try {
        const method = req.method ?? "";
        if (method !== "POST" && method !== "GET") {
          throw new Ec2Error("MethodNotAllowed", `The HTTP method ${method} is not supported; use POST or GET.`, 405);
        }
        const url = req.url ?? "/";
        const body = await readBody(req, maxBody);
        const q = url.indexOf("?");
        const merged = parseForm(q < 0 ? "" : url.slice(q + 1));
        // A POST carries its parameters in the body; they win over the query string's.
        if (method === "POST") for (const [k, v] of parseForm(body.toString("utf8"))) merged.set(k, v);
        params = merged;
        const parsedAction = parseAction(params);
        action = parsedAction;
        const verified = verifySigV4(
          { method, url, headers: req.headers, body },
          { lookup: (id) => opts.credentials.lookup(id), now: now(), region },
        );
        who = verified;
        if (handler.denyActions.has(parsedAction)) {
          throw new Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.", 403);
        }
        throttle.take(parsedAction, isFilteredOrPaged(params));
        const decision = faults.decide(parsedAction);
        if (decision.fail?.kind === "timeout") {
          await sleep(decision.fail.ms);
          throw new Dropped();
        }
        const delay = (opts.latencyMs?.(parsedAction) ?? 0) + decision.latencyMs;
        if (delay > 0) await sleep(delay);
        if (decision.fail?.kind === "throttle") throw requestLimitExceeded();
        if (decision.fail?.kind === "error") {
          const message = decision.fail.code === "Unavailable" ? "The service is unavailable. Please try again shortly." : "An internal error has occurred";
          throw new Ec2Error(decision.fail.code, message, decision.fail.status);
        }
        const request = parseInput(parsedAction, params);
        if (isDryRun(params)) throw new Ec2Error("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
        const result = execute(opts.api, region, request);
        send(res, 200, requestId, responseXml(parsedAction, requestId, result));
      } catch (err) {
        if (err instanceof Aborted || err instanceof Dropped) {
          outcome = err instanceof Aborted ? "RequestAborted" : "Timeout";
          status = 0;
          req.socket.destroy();
          return;
        }
        const e = err instanceof Ec2Error ? err : new Ec2Error("InternalError", "An internal error has occurred", 500);
        if (!(err instanceof Ec2Error)) onError(err, action);
        outcome = e.code;
        status = e.status;
        // After refusing an oversized body, close rather than read the rest of it.
        send(res, e.status, requestId, errorXml(e.code, e.message, requestId), e.status === 413);
      }
    } finally {
      callLog.record({
        time,
        requestId,
        action,
        params: loggableParams(params),
        ...(who.accessKeyId === undefined ? {} : { accessKeyId: who.accessKeyId }),
        ...(who.principal === undefined ? {} : { principal: who.principal }),
        outcome,
        status,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    }
  }

  const handler = ((req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      // Only a failure inside the error path itself lands here (e.g. the call log threw).
      try {
        onError(err, "");
        if (!res.headersSent) send(res, 500, "", errorXml("InternalError", "An internal error has occurred", ""));
        else res.destroy();
      } catch {
        // nothing left to do: never let the listener throw
      }
    });
  }) as Ec2Handler;
  handler.denyActions = opts.denyActions ?? new Set<string>();
  Object.defineProperties(handler, {
    throttle: { value: throttle, enumerable: true },
    faults: { value: faults, enumerable: true },
    callLog: { value: callLog, enumerable: true },
  });
  return handler;
}

/** Where the endpoint listens: TCP (use 127.0.0.1 and port 0 in tests) or a unix socket path. */
export type ListenTarget = { host: string; port: number } | { path: string };

export interface Ec2Endpoint {
  server: Server;
  handler: Ec2Handler;
  /** "http://host:port" for TCP; for a unix socket, the socket path. */
  url: string;
  close(): Promise<void>;
}

/** Creates the handler and serves it on `target`. A stale unix socket file at `path` is replaced. */
export async function listenEc2(target: ListenTarget, opts: Ec2HandlerOptions): Promise<Ec2Endpoint> {
  const handler = createEc2Handler(opts);
  const server = createServer(handler);
  if ("path" in target) {
    try {
      if (lstatSync(target.path).isSocket()) unlinkSync(target.path);
    } catch {
      // no such file: nothing to replace
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const ready = (): void => {
      server.off("error", reject);
      resolve();
    };
    if ("path" in target) server.listen(target.path, ready);
    else server.listen(target.port, target.host, ready);
  });
  // A client error (malformed HTTP) must not take the process down; answer 400 and move on.
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });
  let url: string;
  if ("path" in target) url = target.path;
  else {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : target.port;
    const host = target.host.includes(":") ? `[${target.host}]` : target.host;
    url = `http://${host}:${port}`;
  }
  return {
    server,
    handler,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
