import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { link } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allocate, health, release, type RpcClientOptions } from "./client.ts";
import { startRpcServer, type RpcServer } from "./server.ts";
import { PROTOCOL_VERSION, RpcError } from "./protocol.ts";
import { silentLogger } from "../observability/log.ts";
import { ALLOCATED, recordingHandlers, tempDir, VALID_ALLOCATE, VALID_RELEASE, type RecordingHandlers } from "./testing.ts";

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

describe("RPC client: no agent, or a broken one", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.cleanup();
  });

  it("is unavailable when there is no socket", async () => {
    const result = await allocate({ socketPath: join(dir.dir, "missing.sock"), clientVersion: "v0" }, allocateParams);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "unavailable");
    assert.match(result.error.message, /no socket \(is the agent running\?\)/);
  });

  it("is unavailable when the socket is stale", async () => {
    const holder = join(dir.dir, "holder.sock");
    const stale = join(dir.dir, "stale.sock");
    const server = createNetServer();
    await new Promise<void>((resolve) => server.listen(holder, resolve));
    await link(holder, stale);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await release({ socketPath: stale, clientVersion: "v0" }, releaseParams);
    assert.ok(!result.ok);
    assert.equal(result.error.code, "unavailable");
  });

  async function fakeAgent(name: string, answer: (path: string) => { status: number; body: string }): Promise<{ socketPath: string; server: HttpServer }> {
    const socketPath = join(dir.dir, name);
    const server = createHttpServer((req, res) => {
      req.resume();
      const { status, body } = answer(req.url ?? "");
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return { socketPath, server };
  }

  it("reports a reply that is not JSON or not the protocol as bad-reply", async () => {
    const bodies = ["<html>oops</html>", JSON.stringify({ protocolVersion: 1, success: true }), JSON.stringify({ protocolVersion: 1, success: true, addresses: "10.0.0.1", useExternalSnat: false, vpcV4Cidrs: [] })];
    for (const [i, body] of bodies.entries()) {
      const agent = await fakeAgent(`bad-${i}.sock`, () => ({ status: 200, body }));
      try {
        const result = await allocate({ socketPath: agent.socketPath, clientVersion: "v0" }, allocateParams);
        assert.ok(!result.ok);
        assert.equal(result.error.code, "bad-reply", body);
      } finally {
        await new Promise<void>((resolve) => agent.server.close(() => resolve()));
      }
    }
  });

  it("accepts a newer agent's reply with fields it does not know, and defaults fields an older agent lacks", async () => {
    const reply = { protocolVersion: 7, success: true, addresses: [{ ipv4Addr: "10.0.0.9", deviceNumber: 0, routeTableId: 254, mtu: 9001 }], useExternalSnat: true, vpcV4Cidrs: ["10.0.0.0/16"], shinyNewField: { a: 1 } };
    const agent = await fakeAgent("newer.sock", () => ({ status: 200, body: JSON.stringify(reply) }));
    try {
      const result = await allocate({ socketPath: agent.socketPath, clientVersion: "v0" }, allocateParams);
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual(result.reply, {
        protocolVersion: 7,
        success: true,
        addresses: [{ ipv4Addr: "10.0.0.9", ipv6Addr: "", deviceNumber: 0, routeTableId: 254 }],
        useExternalSnat: true,
        vpcV4Cidrs: ["10.0.0.0/16"],
        vpcV6Cidrs: [],
        podVlanId: 0,
        podEniMac: "",
        podEniSubnetGw: "",
        parentIfIndex: 0,
        networkPolicyMode: "",
      });
    } finally {
      await new Promise<void>((resolve) => agent.server.close(() => resolve()));
    }
  });

  it("refuses an agent older than it supports, naming both versions", async () => {
    const agent = await fakeAgent("ancient.sock", () => ({ status: 200, body: JSON.stringify({ protocolVersion: 0, minProtocolVersion: 0, status: "serving" }) }));
    try {
      const result = await health({ socketPath: agent.socketPath, clientVersion: "v0" });
      assert.ok(!result.ok);
      assert.equal(result.error.code, "unsupported-version");
      assert.equal(result.error.serverProtocolVersion, 0);
      assert.match(result.error.message, new RegExp(`agent protocol version 0 .* plugin speaks version ${PROTOCOL_VERSION}`));
    } finally {
      await new Promise<void>((resolve) => agent.server.close(() => resolve()));
    }
  });

  it("maps an error code it does not know to internal", async () => {
    const agent = await fakeAgent("future-error.sock", () => ({ status: 429, body: JSON.stringify({ protocolVersion: 9, error: { code: "slow-down", message: "later" } }) }));
    try {
      const result = await allocate({ socketPath: agent.socketPath, clientVersion: "v0" }, allocateParams);
      assert.ok(!result.ok);
      assert.equal(result.error.code, "internal");
      assert.equal(result.error.message, "later");
      assert.equal(result.error.status, 429);
    } finally {
      await new Promise<void>((resolve) => agent.server.close(() => resolve()));
    }
  });
});

describe("RPC client: bundling", () => {
  it("imports only node built-ins and the protocol (it is bundled into the fast-starting plugin)", () => {
    const importsOf = (file: string) => [...readFileSync(new URL(file, import.meta.url), "utf8").matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
    for (const spec of importsOf("./client.ts")) assert.ok(spec?.startsWith("node:") || spec === "./protocol.ts", `client.ts imports ${spec}`);
    for (const spec of importsOf("./protocol.ts")) assert.fail(`protocol.ts imports ${spec}`);
  });
});
