// The plugin's RPC client against no agent, a broken one, and agents of other versions (against the
// agent's own server: src/agent/rpc/server-and-client.test.ts).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { link } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allocate, health, release } from "./client.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";
import { tempDir, VALID_ALLOCATE, VALID_RELEASE } from "./calls.test-support.ts";

const { protocolVersion: _p, clientVersion: _c, ...allocateParams } = VALID_ALLOCATE;
const { protocolVersion: _rp, clientVersion: _rc, ...releaseParams } = VALID_RELEASE;

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
    const protocol = new Set(["./protocol.ts", "./validation.ts"]);
    for (const spec of importsOf("./client.ts")) assert.ok(spec?.startsWith("node:") || protocol.has(spec ?? ""), `client.ts imports ${spec}`);
    for (const spec of importsOf("./validation.ts")) assert.ok(spec === "./protocol.ts", `validation.ts imports ${spec}`);
    for (const spec of importsOf("./protocol.ts")) assert.fail(`protocol.ts imports ${spec}`);
  });
});
