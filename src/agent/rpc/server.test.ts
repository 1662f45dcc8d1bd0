import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server } from "node:net";
import { link, stat, writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startRpcServer, type RpcRequestEvent, type RpcServer } from "./server.ts";
import { MIN_CLIENT_PROTOCOL_VERSION, PROTOCOL_VERSION, RpcError, checkClientVersion } from "../../ipam-rpc/protocol.ts";
import { SocketInUseError } from "../unix-socket.ts";
import { silentLogger } from "../observability/log.ts";
import { tempDir, VALID_ALLOCATE, VALID_RELEASE } from "../../ipam-rpc/calls.test-support.ts";
import { ALLOCATED, rawCall, recordingHandlers, type RecordingHandlers } from "./server.test-support.ts";

const log = silentLogger();

function without<T extends object>(value: T, key: keyof T): Omit<T, typeof key> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

describe("RPC server: request validation", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RpcServer;
  let handlers: RecordingHandlers;
  let socketPath: string;
  const events: RpcRequestEvent[] = [];

  before(async () => {
    dir = await tempDir();
    socketPath = join(dir.dir, "ipamd.sock");
    handlers = recordingHandlers();
    server = await startRpcServer({ socketPath, handlers, log, onRequest: (e) => events.push(e) });
  });
  after(async () => {
    await server.close();
    await dir.cleanup();
  });
  beforeEach(() => {
    handlers.allocations.length = 0;
    handlers.releases.length = 0;
    events.length = 0;
  });

  const long = (n: number, c = "a") => c.repeat(n);
  const malformedAllocate: readonly [string, unknown][] = [
    ["an array body", []],
    ["a null body", null],
    ["a string body", "\"allocate\""],
    ["a number body", 42],
    ["no protocolVersion", without(VALID_ALLOCATE, "protocolVersion")],
    ["protocolVersion as a string", { ...VALID_ALLOCATE, protocolVersion: "1" }],
    ["a fractional protocolVersion", { ...VALID_ALLOCATE, protocolVersion: 1.5 }],
    ["a negative protocolVersion", { ...VALID_ALLOCATE, protocolVersion: -1 }],
    ["no clientVersion", without(VALID_ALLOCATE, "clientVersion")],
    ["a clientVersion with a blank", { ...VALID_ALLOCATE, clientVersion: "v 1" }],
    ["a 65-character clientVersion", { ...VALID_ALLOCATE, clientVersion: long(65) }],
    ["a podNamespace with '/'", { ...VALID_ALLOCATE, podNamespace: "kube/system" }],
    ["a podNamespace with a blank", { ...VALID_ALLOCATE, podNamespace: "kube system" }],
    ["a 254-character podNamespace", { ...VALID_ALLOCATE, podNamespace: long(254) }],
    ["no podName", without(VALID_ALLOCATE, "podName")],
    ["a podName with '/'", { ...VALID_ALLOCATE, podName: "web/0" }],
    ["a 254-character podName", { ...VALID_ALLOCATE, podName: long(254) }],
    ["a podName with a newline", { ...VALID_ALLOCATE, podName: "web\n" }],
    ["a podUid with '/'", { ...VALID_ALLOCATE, podUid: "abc/def" }],
    ["a numeric podUid", { ...VALID_ALLOCATE, podUid: 5 }],
    ["an infraContainerId starting with '-'", { ...VALID_ALLOCATE, infraContainerId: "-abc" }],
    ["no containerId", without(VALID_ALLOCATE, "containerId")],
    ["an empty containerId", { ...VALID_ALLOCATE, containerId: "" }],
    ["a containerId with ';'", { ...VALID_ALLOCATE, containerId: "abc;rm" }],
    ["a containerId with a newline", { ...VALID_ALLOCATE, containerId: "abc\n" }],
    ["a 257-character containerId", { ...VALID_ALLOCATE, containerId: long(257) }],
    ["a numeric containerId", { ...VALID_ALLOCATE, containerId: 123 }],
    ["a null containerId", { ...VALID_ALLOCATE, containerId: null }],
    ["no ifName", without(VALID_ALLOCATE, "ifName")],
    ["an empty ifName", { ...VALID_ALLOCATE, ifName: "" }],
    ["a 16-character ifName", { ...VALID_ALLOCATE, ifName: "eth0123456789abc" }],
    ["an ifName with a blank", { ...VALID_ALLOCATE, ifName: "eth 0" }],
    ["an ifName with '/'", { ...VALID_ALLOCATE, ifName: "eth/0" }],
    ["an ifName with ':'", { ...VALID_ALLOCATE, ifName: "eth:0" }],
    ["the ifName '.'", { ...VALID_ALLOCATE, ifName: "." }],
    ["the ifName '..'", { ...VALID_ALLOCATE, ifName: ".." }],
    ["a non-ASCII ifName", { ...VALID_ALLOCATE, ifName: "ethé" }],
    ["no networkName", without(VALID_ALLOCATE, "networkName")],
    ["a networkName with a blank", { ...VALID_ALLOCATE, networkName: "aws cni" }],
    ["no netns", without(VALID_ALLOCATE, "netns")],
    ["an empty netns", { ...VALID_ALLOCATE, netns: "" }],
    ["a relative netns", { ...VALID_ALLOCATE, netns: "var/run/netns/x" }],
    ["a netns with NUL", { ...VALID_ALLOCATE, netns: "/proc/1/ns/net\u0000" }],
    ["a non-boolean requiresMultiNicAttachment", { ...VALID_ALLOCATE, requiresMultiNicAttachment: "yes" }],
  ];

  for (const [name, body] of malformedAllocate) {
    it(`refuses allocate with ${name}: 400 invalid-request, handler not called`, async () => {
      const reply = await rawCall(socketPath, "POST", "/v1/allocate", typeof body === "string" ? body : JSON.stringify(body));
      assert.equal(reply.status, 400, reply.text);
      const json = reply.json as { protocolVersion: number; error: { code: string; message: string } };
      assert.equal(json.error.code, "invalid-request");
      assert.ok(json.error.message.length > 0);
      assert.equal(json.protocolVersion, PROTOCOL_VERSION);
      assert.equal(handlers.allocations.length, 0);
      assert.deepEqual(events.map((e) => [e.method, e.code]), [["allocate", "invalid-request"]]);
    });
  }

  const malformedRelease: readonly [string, unknown][] = [
    ["no reason", without(VALID_RELEASE, "reason")],
    ["a reason with a blank", { ...VALID_RELEASE, reason: "Pod Deleted" }],
    ["a 65-character reason", { ...VALID_RELEASE, reason: long(65, "R") }],
    ["no containerId", without(VALID_RELEASE, "containerId")],
    ["a 16-character ifName", { ...VALID_RELEASE, ifName: "abcdefghijklmnop" }],
    ["a relative netns", { ...VALID_RELEASE, netns: "netns" }],
    ["an object podName", { ...VALID_RELEASE, podName: { name: "x" } }],
  ];
  for (const [name, body] of malformedRelease) {
    it(`refuses release with ${name}: 400 invalid-request, handler not called`, async () => {
      const reply = await rawCall(socketPath, "POST", "/v1/release", body);
      assert.equal(reply.status, 400, reply.text);
      assert.equal((reply.json as { error: { code: string } }).error.code, "invalid-request");
      assert.equal(handlers.releases.length, 0);
    });
  }

  it("says which field is wrong", async () => {
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", { ...VALID_ALLOCATE, ifName: "eth0123456789abc" });
    assert.match((reply.json as { error: { message: string } }).error.message, /ifName is 16 characters long; at most 15/);
  });

  it("refuses a body that is not JSON", async () => {
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", "{\"protocolVersion\":");
    assert.equal(reply.status, 400);
    assert.match((reply.json as { error: { message: string } }).error.message, /not JSON/);
    assert.equal(handlers.allocations.length, 0);
  });

  it("refuses an oversized body with 413 without calling the handler", async () => {
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", { ...VALID_ALLOCATE, padding: "x".repeat(20_000) });
    assert.equal(reply.status, 413);
    assert.equal((reply.json as { error: { code: string } }).error.code, "invalid-request");
    assert.equal(handlers.allocations.length, 0);
  });

  it("refuses other methods and unknown paths", async () => {
    const get = await rawCall(socketPath, "GET", "/v1/allocate");
    assert.equal(get.status, 405);
    const unknown = await rawCall(socketPath, "POST", "/v1/steal", VALID_ALLOCATE);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.json as { error: { code: string } }).error.code, "invalid-request");
    assert.equal(handlers.allocations.length, 0);
  });

  it("passes a valid allocate to the handler and answers with every reply field", async () => {
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", VALID_ALLOCATE);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(handlers.allocations, [{ ...VALID_ALLOCATE, requiresMultiNicAttachment: false }]);
    assert.deepEqual(reply.json, {
      protocolVersion: PROTOCOL_VERSION,
      success: true,
      addresses: [{ ipv4Addr: "10.0.1.17", ipv6Addr: "", deviceNumber: 1, routeTableId: 2 }],
      useExternalSnat: false,
      vpcV4Cidrs: ["10.0.0.0/16", "192.168.0.0/24"],
      vpcV6Cidrs: [],
      podVlanId: 0,
      podEniMac: "",
      podEniSubnetGw: "",
      parentIfIndex: 0,
      networkPolicyMode: "",
    });
    assert.equal(reply.headers.connection, "close");
    assert.deepEqual(events.map((e) => [e.method, e.code]), [["allocate", "ok"]]);
  });

  it("passes a release with an empty netns (CNI DEL after the netns is gone) and reports its reason", async () => {
    const reply = await rawCall(socketPath, "POST", "/v1/release", VALID_RELEASE);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(handlers.releases, [VALID_RELEASE]);
    assert.deepEqual(reply.json, { protocolVersion: PROTOCOL_VERSION, success: true, addresses: ALLOCATED.addresses, podVlanId: 0, networkPolicyMode: "" });
    assert.equal(events[0]?.reason, "PodDeleted");
  });

  it("sends its replies byte for byte as protocol version 1 has them (plugins of every version read them)", async () => {
    const allocated = await rawCall(socketPath, "POST", "/v1/allocate", VALID_ALLOCATE);
    assert.equal(
      allocated.text,
      '{"protocolVersion":1,"success":true,"addresses":[{"ipv4Addr":"10.0.1.17","ipv6Addr":"","deviceNumber":1,"routeTableId":2}],' +
        '"useExternalSnat":false,"vpcV4Cidrs":["10.0.0.0/16","192.168.0.0/24"],"vpcV6Cidrs":[],"podVlanId":0,"podEniMac":"","podEniSubnetGw":"","parentIfIndex":0,"networkPolicyMode":""}',
    );
    const released = await rawCall(socketPath, "POST", "/v1/release", VALID_RELEASE);
    assert.equal(
      released.text,
      '{"protocolVersion":1,"success":true,"addresses":[{"ipv4Addr":"10.0.1.17","ipv6Addr":"","deviceNumber":1,"routeTableId":2}],"podVlanId":0,"networkPolicyMode":""}',
    );
    const collected = await rawCall(socketPath, "POST", "/v1/gc", { protocolVersion: 1, clientVersion: "v0.1.0", networkName: "aws-cni", validAttachments: [] });
    assert.equal(collected.text, '{"protocolVersion":1,"success":true,"released":[]}');
  });

  it("accepts boundary values: 15-character ifName, 63-character namespace, dotted pod name", async () => {
    const body = { ...VALID_ALLOCATE, ifName: "eth0123456789ab", podNamespace: long(63), podName: "kube-proxy-ip-10-0-1-5.ec2.internal", podUid: "" };
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", body);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(handlers.allocations.length, 1);
  });

  it("accepts what runtimes other than Kubernetes send: podman's container name and no namespace", async () => {
    const { podNamespace: _omitted, ...body } = { ...VALID_ALLOCATE, podName: "quirky_hopper" };
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", body);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(handlers.allocations.at(-1)?.podName, "quirky_hopper");
    assert.equal(handlers.allocations.at(-1)?.podNamespace, "");
  });
});

describe("RPC server: version skew", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: RpcServer;
  let handlers: RecordingHandlers;
  let socketPath: string;

  before(async () => {
    dir = await tempDir();
    socketPath = join(dir.dir, "ipamd.sock");
    handlers = recordingHandlers();
    server = await startRpcServer({ socketPath, handlers, log, agentVersion: "v0.1.0" });
  });
  after(async () => {
    await server.close();
    await dir.cleanup();
  });

  it("serves an older-but-supported client that sends only the fields it knows", async () => {
    // An older plugin at the minimum version that never learnt the optional fields.
    const old = { ...VALID_ALLOCATE, protocolVersion: MIN_CLIENT_PROTOCOL_VERSION } as Record<string, unknown>;
    delete old.podUid;
    delete old.infraContainerId;
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", old);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(handlers.allocations.at(-1)?.podUid, "");
    assert.equal(handlers.allocations.at(-1)?.infraContainerId, "");
    assert.equal((reply.json as { protocolVersion: number }).protocolVersion, PROTOCOL_VERSION);
  });

  it("serves a newer client, ignoring fields it does not know, and replies with its own version", async () => {
    const newer = { ...VALID_ALLOCATE, protocolVersion: PROTOCOL_VERSION + 5, clientVersion: "v9.0.0", futureField: { nested: [1, 2] }, bandwidth: 100 };
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", newer);
    assert.equal(reply.status, 200, reply.text);
    assert.equal((reply.json as { protocolVersion: number }).protocolVersion, PROTOCOL_VERSION);
    const seen = handlers.allocations.at(-1) as unknown as Record<string, unknown>;
    assert.equal(seen.futureField, undefined);
    assert.equal(seen.protocolVersion, PROTOCOL_VERSION + 5);
  });

  it("refuses a client older than the minimum, naming both versions, without calling the handler", async () => {
    const before = handlers.allocations.length;
    const reply = await rawCall(socketPath, "POST", "/v1/allocate", { ...VALID_ALLOCATE, protocolVersion: MIN_CLIENT_PROTOCOL_VERSION - 1 });
    assert.equal(reply.status, 400);
    const error = (reply.json as { error: { code: string; message: string } }).error;
    assert.equal(error.code, "unsupported-version");
    assert.match(error.message, new RegExp(`plugin protocol version ${MIN_CLIENT_PROTOCOL_VERSION - 1} `));
    assert.match(error.message, new RegExp(`agent speaks version ${PROTOCOL_VERSION} and serves clients from version ${MIN_CLIENT_PROTOCOL_VERSION}`));
    assert.equal(handlers.allocations.length, before);
    const release = await rawCall(socketPath, "POST", "/v1/release", { ...VALID_RELEASE, protocolVersion: 0 });
    assert.equal((release.json as { error: { code: string } }).error.code, "unsupported-version");
    assert.equal(handlers.releases.length, 0);
  });

  it("gates on the minimum, not on equality (once the protocol moves on)", () => {
    // An agent at protocol 3 that still serves 2: a version-2 plugin is older but supported.
    assert.equal(checkClientVersion(2, 2, 3), null);
    assert.equal(checkClientVersion(4, 2, 3), null);
    assert.match(checkClientVersion(1, 2, 3) ?? "", /version 1 is older .* speaks version 3 and serves clients from version 2/);
  });

  it("answers health without a body or version, for probes", async () => {
    const reply = await rawCall(socketPath, "GET", "/v1/health");
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.json, { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_CLIENT_PROTOCOL_VERSION, agentVersion: "v0.1.0", status: "serving", detail: "" });
  });
});

describe("RPC server: typed handler errors", () => {
  it("answers RpcError codes with their status and other exceptions as internal", async () => {
    const dir = await tempDir();
    const socketPath = join(dir.dir, "ipamd.sock");
    let next: Error = new RpcError("no-address", "no IPv4 address available: the pool is at max pods (58)");
    const handlers = recordingHandlers({ allocate: () => Promise.reject(next), health: () => ({ serving: false, detail: "initialising" }) });
    const server = await startRpcServer({ socketPath, handlers, log });
    try {
      const cases: [Error, number, string][] = [
        [new RpcError("no-address", "no IPv4 address available: the pool is at max pods (58)"), 503, "no-address"],
        [new RpcError("shutting-down", "the agent is stopping"), 503, "shutting-down"],
        [new Error("datastore exploded"), 500, "internal"],
      ];
      for (const [error, status, code] of cases) {
        next = error;
        const reply = await rawCall(socketPath, "POST", "/v1/allocate", VALID_ALLOCATE);
        assert.equal(reply.status, status);
        const body = (reply.json as { error: { code: string; message: string } }).error;
        assert.equal(body.code, code);
        assert.ok(body.message.includes(error.message), body.message);
      }
      const health = await rawCall(socketPath, "GET", "/v1/health");
      assert.equal(health.status, 503);
      assert.equal((health.json as { status: string; detail: string }).detail, "initialising");
    } finally {
      await server.close();
      await dir.cleanup();
    }
  });
});

describe("RPC server: the socket", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await dir.cleanup();
  });

  it("creates the parent directory 0755 and the socket 0600 by default", async () => {
    const socketPath = join(dir.dir, "run", "aws-node", "ipamd.sock");
    const server = await startRpcServer({ socketPath, handlers: recordingHandlers(), log });
    try {
      const socket = await stat(socketPath);
      assert.ok(socket.isSocket());
      assert.equal(socket.mode & 0o777, 0o600);
      assert.equal((await stat(join(dir.dir, "run", "aws-node"))).mode & 0o777, 0o755);
    } finally {
      await server.close();
    }
    await assert.rejects(stat(socketPath), { code: "ENOENT" }, "close removes the socket");
  });

  it("sets a configured mode", async () => {
    const socketPath = join(dir.dir, "mode.sock");
    const server = await startRpcServer({ socketPath, mode: 0o660, handlers: recordingHandlers(), log });
    try {
      assert.equal((await stat(socketPath)).mode & 0o777, 0o660);
    } finally {
      await server.close();
    }
  });

  it("replaces a stale socket nobody answers on", async () => {
    const socketPath = join(dir.dir, "stale.sock");
    // A socket file whose listener is gone: hard-link a live socket, then close the listener.
    const holder = join(dir.dir, "holder.sock");
    const old = await listenNet(holder);
    await link(holder, socketPath);
    await closeNet(old);
    const oldIno = (await stat(socketPath)).ino;
    const server = await startRpcServer({ socketPath, handlers: recordingHandlers(), log });
    try {
      assert.notEqual((await stat(socketPath)).ino, oldIno);
      const reply = await rawCall(socketPath, "GET", "/v1/health");
      assert.equal(reply.status, 200);
    } finally {
      await server.close();
    }
  });

  it("refuses a live socket and leaves its owner serving", async () => {
    const socketPath = join(dir.dir, "live.sock");
    const owner = await listenNet(socketPath);
    const ino = (await stat(socketPath)).ino;
    try {
      await assert.rejects(startRpcServer({ socketPath, handlers: recordingHandlers(), log }), (error: unknown) => {
        assert.ok(error instanceof SocketInUseError);
        assert.match(error.message, /another process is serving on this socket/);
        return true;
      });
      assert.equal((await stat(socketPath)).ino, ino);
      await new Promise<void>((resolve, reject) => connect({ path: socketPath }).once("connect", function (this: { destroy(): void }) {
        this.destroy();
        resolve();
      }).once("error", reject));
    } finally {
      await closeNet(owner);
    }
  });

  it("refuses a path that is not a socket and leaves the file alone", async () => {
    const socketPath = join(dir.dir, "not-a-socket");
    await writeFile(socketPath, "important");
    await assert.rejects(startRpcServer({ socketPath, handlers: recordingHandlers(), log }), /exists and is not a socket/);
    assert.equal(await readFile(socketPath, "utf8"), "important");
  });

  it("does not remove a successor's socket on close", async () => {
    const socketPath = join(dir.dir, "succession.sock");
    const first = await startRpcServer({ socketPath, handlers: recordingHandlers(), log });
    // Someone replaced the file behind our back (e.g. an operator started another agent by hand).
    const { rm } = await import("node:fs/promises");
    await rm(socketPath);
    const second = await listenNet(socketPath);
    try {
      await first.close();
      assert.ok((await stat(socketPath)).isSocket());
    } finally {
      await closeNet(second);
    }
  });
});

describe("RPC server: close", () => {
  it("lets a request in progress finish, then removes the socket", async () => {
    const dir = await tempDir();
    const socketPath = join(dir.dir, "ipamd.sock");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handlers = recordingHandlers({ allocate: async () => (await gate, ALLOCATED) });
    const server = await startRpcServer({ socketPath, handlers, log });
    const pending = rawCall(socketPath, "POST", "/v1/allocate", VALID_ALLOCATE);
    while (handlers.allocations.length === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = server.close({ graceMs: 2000 });
    setTimeout(release, 50);
    const reply = await pending;
    await closing;
    assert.equal(reply.status, 200);
    await assert.rejects(stat(socketPath), { code: "ENOENT" });
    await dir.cleanup();
  });

  it("aborts the handler's signal when the client hangs up", async () => {
    const dir = await tempDir();
    const socketPath = join(dir.dir, "ipamd.sock");
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    const handlers = recordingHandlers({
      allocate: (_request, context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener("abort", () => {
            aborted();
            reject(new RpcError("internal", "abandoned"));
          });
        }),
    });
    const server = await startRpcServer({ socketPath, handlers, log });
    try {
      const { allocate } = await import("../../ipam-rpc/client.ts");
      const result = await allocate({ socketPath, clientVersion: "v0.1.0", timeoutMs: 100 }, VALID_ALLOCATE);
      assert.equal(result.ok, false);
      await sawAbort;
    } finally {
      await server.close();
      await dir.cleanup();
    }
  });
});

function listenNet(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end());
    server.once("error", reject);
    server.listen(path, () => resolve(server));
  });
}

function closeNet(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
