// Test helpers for the RPC server: an allocation reply, handlers that record their calls, and a raw
// HTTP call over a unix socket (to send what the real client never would).

import { request } from "node:http";
import { allocateReply, gcReply, releaseReply, type AllocateReply, type AllocateRequest, type GcRequest, type ReleaseReply, type ReleaseRequest } from "../../ipam-rpc/protocol.ts";
import type { Readiness, RpcContext, RpcHandlers } from "./server.ts";

export const ALLOCATED: AllocateReply = allocateReply({
  addresses: [{ ipv4Addr: "10.0.1.17", ipv6Addr: "", deviceNumber: 1, routeTableId: 2 }],
  useExternalSnat: false,
  vpcV4Cidrs: ["10.0.0.0/16", "192.168.0.0/24"],
});

export interface RecordingHandlers extends RpcHandlers {
  readonly allocations: AllocateRequest[];
  readonly releases: ReleaseRequest[];
  readonly gcs: GcRequest[];
  readonly contexts: RpcContext[];
}

/** Handlers that record their calls; behaviour can be replaced per test. */
export function recordingHandlers(overrides: {
  allocate?: (request: AllocateRequest, context: RpcContext) => Promise<AllocateReply>;
  release?: (request: ReleaseRequest, context: RpcContext) => Promise<ReleaseReply>;
  health?: () => Readiness;
} = {}): RecordingHandlers {
  const allocations: AllocateRequest[] = [];
  const releases: ReleaseRequest[] = [];
  const gcs: GcRequest[] = [];
  const contexts: RpcContext[] = [];
  return {
    allocations,
    releases,
    gcs,
    contexts,
    gc(request, context) {
      gcs.push(request);
      contexts.push(context);
      return Promise.resolve(gcReply([]));
    },
    allocate(request, context) {
      allocations.push(request);
      contexts.push(context);
      return overrides.allocate ? overrides.allocate(request, context) : Promise.resolve(ALLOCATED);
    },
    release(request, context) {
      releases.push(request);
      contexts.push(context);
      return overrides.release ? overrides.release(request, context) : Promise.resolve(releaseReply({ addresses: ALLOCATED.addresses }));
    },
    health: () => (overrides.health ? overrides.health() : { serving: true }),
  };
}

export interface RawReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
}

/** One HTTP request over a unix socket; `body` is sent as given when a string, else as JSON. */
export function rawCall(socketPath: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawReply> {
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false, headers: { ...(payload === undefined ? {} : { "content-type": "application/json" }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}
