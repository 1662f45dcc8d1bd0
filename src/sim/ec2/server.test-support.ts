// Test support for the wire layer's tests: the real EC2 model behind the real listener on
// 127.0.0.1, and the real @aws-sdk/client-ec2 pointed at it with an instance's temporary
// credentials. Only tests import it; nothing ships it.

import assert from "node:assert/strict";
import { request } from "node:http";
import { EC2Client } from "@aws-sdk/client-ec2";
import { CallLog } from "./call-log.ts";
import { CredentialStore, type TemporaryCredentials } from "./credentials.ts";
import { listenEc2, type Ec2Endpoint, type Ec2HandlerOptions } from "./server.ts";
import { makeWorld, type TestWorld } from "./model.test-support.ts";
import { Throttle } from "./throttle.ts";

export interface Rig {
  world: TestWorld;
  credentials: CredentialStore;
  creds: TemporaryCredentials;
  endpoint: Ec2Endpoint;
  client: EC2Client;
  callLog: CallLog;
}

export async function start(extra: Partial<Ec2HandlerOptions> = {}, maxAttempts = 1): Promise<Rig> {
  const world = makeWorld();
  const credentials = new CredentialStore();
  const callLog = new CallLog();
  const endpoint = await listenEc2(
    { host: "127.0.0.1", port: 0 },
    { api: world.model, credentials, callLog, throttle: new Throttle({ enabled: false }), onError: () => {}, ...extra },
  );
  const creds = credentials.issue(world.instanceId, 3_600_000);
  const client = new EC2Client({ endpoint: endpoint.url, region: "us-east-1", credentials: creds, maxAttempts });
  return { world, credentials, creds, endpoint, client, callLog };
}

export async function stop(rig: Rig): Promise<void> {
  rig.client.destroy();
  await rig.endpoint.close();
}

/** Runs `p` expecting an SDK error; returns it. */
export async function sdkError(p: Promise<unknown>): Promise<Error & { Code?: string; $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  assert.fail("expected the call to fail");
}

/** A raw HTTP exchange (for what the SDK cannot send). */
export function raw(url: string, opts: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer }): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "POST", headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}
