// The plugin's RPC client against the agent's server: what a plugin sees of the agent.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { allocate, health, release, type RpcClientOptions } from "../../ipam-rpc/client.ts";
import { startRpcServer, type RpcServer } from "./server.ts";
import { PROTOCOL_VERSION, RpcError } from "../../ipam-rpc/protocol.ts";
import { silentLogger } from "../observability/log.ts";
import { tempDir, VALID_ALLOCATE, VALID_RELEASE } from "../../ipam-rpc/calls.test-support.ts";
import { ALLOCATED, recordingHandlers, type RecordingHandlers } from "./server.test-support.ts";

const log = silentLogger();

const { protocolVersion: _p, clientVersion: _c, ...allocateParams } = VALID_ALLOCATE;
const { protocolVersion: _rp, clientVersion: _rc, ...releaseParams } = VALID_RELEASE;

describe("RPC client against the server", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RpcServer;
  let handlers: RecordingHandlers;
  let options: RpcClientOptions;
  let allocateBehaviour: () => Promise<typeof ALLOCATED> = () => Promise.resolve(ALLOCATED);
  let serving = true;

  before(async () => {
    dir = await tempDir();
    const socketPath = join(dir.dir, "ipamd.sock");
    handlers = recordingHandlers({ allocate: () => allocateBehaviour(), health: () => (serving ? { serving: true } : { serving: false, detail: "initialising" }) });
    server = await startRpcServer({ socketPath, handlers, log, agentVersion: "v0.1.0" });
    options = { socketPath, clientVersion: "v0.2.0" };
  });
  after(async () => {
    // The timeout test leaves a handler that never answers; do not wait the full grace period for it.
    await server.close({ graceMs: 100 });
    await dir.cleanup();
  });

  it("allocates: sends the pod's keys with its versions, returns the typed reply", async () => {
    const result = await allocate(options, allocateParams);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.reply.addresses, ALLOCATED.addresses);
    assert.deepEqual(result.reply.vpcV4Cidrs, ALLOCATED.vpcV4Cidrs);
    assert.equal(result.reply.useExternalSnat, false);
    assert.equal(result.reply.protocolVersion, PROTOCOL_VERSION);
    assert.deepEqual(handlers.allocations.at(-1), { ...VALID_ALLOCATE, protocolVersion: PROTOCOL_VERSION, clientVersion: "v0.2.0", requiresMultiNicAttachment: false });
  });

  it("releases: returns the addresses the pod held", async () => {
    const result = await release(options, releaseParams);
    assert.ok(result.ok);
    assert.deepEqual(result.reply.addresses, ALLOCATED.addresses);
    assert.equal(handlers.releases.at(-1)?.reason, "PodDeleted");
  });

  it("reports health, serving or not, as a successful call", async () => {
    const up = await health(options);
    assert.ok(up.ok);
    assert.equal(up.reply.status, "serving");
    assert.equal(up.reply.agentVersion, "v0.1.0");
    serving = false;
    const down = await health(options);
    serving = true;
    assert.ok(down.ok);
    assert.equal(down.reply.status, "not-serving");
    assert.equal(down.reply.detail, "initialising");
  });

  it("returns the agent's typed errors", async () => {
    const cases: [Error, string, number][] = [
      [new RpcError("no-address", "no address: max pods (29) reached"), "no-address", 503],
      [new RpcError("shutting-down", "stopping"), "shutting-down", 503],
      [new Error("boom"), "internal", 500],
    ];
    for (const [error, code, status] of cases) {
      allocateBehaviour = () => Promise.reject(error);
      const result = await allocate(options, allocateParams);
      assert.ok(!result.ok);
      assert.equal(result.error.code, code);
      assert.equal(result.error.status, status);
      assert.ok(result.error.message.includes(error.message));
      assert.equal(result.error.serverProtocolVersion, PROTOCOL_VERSION);
    }
    allocateBehaviour = () => Promise.resolve(ALLOCATED);
  });

  it("returns invalid-request for a request the agent refuses", async () => {
    const result = await allocate(options, { ...allocateParams, ifName: "a-very-long-interface-name" });
    assert.ok(!result.ok);
    assert.equal(result.error.code, "invalid-request");
    assert.equal(result.error.status, 400);
    assert.match(result.error.message, /ifName/);
  });

  it("times out within its deadline and says so", async () => {
    allocateBehaviour = () => new Promise(() => undefined);
    const started = Date.now();
    const result = await allocate({ ...options, timeoutMs: 150 }, allocateParams);
    allocateBehaviour = () => Promise.resolve(ALLOCATED);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "timeout");
    assert.match(result.error.message, /within 150 ms/);
    assert.ok(Date.now() - started < 1000);
  });
});
