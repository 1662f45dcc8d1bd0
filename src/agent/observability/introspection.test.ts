import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startIntrospectionServer, type HealthView, type IntrospectionSource, type PoolView } from "./introspection.ts";
import { goIpNet, goTime, GO_ZERO_TIME } from "./go-json.ts";
import type { HttpEndpoint } from "./http-listen.ts";
import { createLogger } from "./log.ts";

const T1 = Date.UTC(2024, 0, 2, 3, 4, 5, 120);
const T2 = Date.UTC(2024, 0, 2, 3, 14, 5, 0);
const T3 = Date.UTC(2024, 0, 2, 3, 20, 0, 7);

function source(overrides: Partial<IntrospectionSource> = {}): IntrospectionSource {
  const pool: PoolView = {
    stats: { total: 18, assigned: 2, cooldown: 1, available: 15, prefixes: 1, waiting: 0 },
    targets: { mode: "warm-ip", warmIpTarget: 5, minimumIpTarget: 0, prefixDelegation: false },
    lastPlan: { kind: "none", reason: "at target" },
    lastPlanAt: T2,
    growthPausedUntil: T3,
    growthPauseReason: "InsufficientFreeAddressesInSubnet",
  };
  const health: HealthView = { status: "serving", detail: "", version: "v0.1.0", startedAt: T1, checks: { imds: { ok: true, detail: "" } } };
  return {
    // Given out of order: the document sorts keys as Go's encoding/json does.
    networkCards: () => [
      {
        networkCard: 0,
        totalIps: 18,
        assignedIps: 2,
        enis: [
          {
            id: "eni-0bbb",
            isPrimary: false,
            isTrunk: false,
            isEfa: false,
            deviceNumber: 1,
            ipv4Cidrs: [
              {
                cidr: "10.0.2.16/28",
                isPrefix: true,
                addresses: [{ address: "10.0.2.17", networkName: "aws-cni", podNamespace: "kube-system", podName: "coredns-1", interfacesCount: 1, assignedAt: T3, unassignedAt: null }],
              },
            ],
            ipv6Cidrs: [],
            isExcludedForPodIps: false,
            routeTableId: 2,
            subnetId: "subnet-0b",
          },
          {
            id: "eni-0aaa",
            isPrimary: true,
            isTrunk: false,
            isEfa: false,
            deviceNumber: 0,
            ipv4Cidrs: [
              { cidr: "10.0.1.18/32", isPrefix: false, addresses: [{ address: "10.0.1.18", networkName: "", podNamespace: "", podName: "", interfacesCount: 0, assignedAt: T1, unassignedAt: T2 }] },
              { cidr: "10.0.1.17/32", isPrefix: false, addresses: [{ address: "10.0.1.17", networkName: "aws-cni", podNamespace: "default", podName: "web-0", interfacesCount: 1, assignedAt: T1, unassignedAt: null }] },
              { cidr: "10.0.1.19/32", isPrefix: false, addresses: [] },
            ],
            ipv6Cidrs: [],
            isExcludedForPodIps: false,
            routeTableId: 254,
            subnetId: "subnet-0a",
          },
        ],
      },
    ],
    eniConfigName: () => "us-west-2a",
    networkUtilsSettings: () => ({
      connmark: 0x80,
      excludeSnatCidrs: [],
      externalSnat: false,
      externalServiceCidrs: ["172.16.0.0/12"],
      eniMtu: 9001,
      vethPrefix: "eni",
      nodePortSupport: true,
      randomizeSnat: "prng",
      // The config's HostNetworkConfig has more fields; they are not shown.
      podMtu: 9001,
    } as never),
    ipamdSettings: () => ({ warmIpTarget: 5, warmEniTarget: 1, customNetworking: false, manageEnisNonSchedulable: false, subnetDiscovery: true }),
    pool: () => pool,
    health: () => health,
    ...overrides,
  };
}

// What aws-node's introspection writes for this state, key order included (Go struct order; map keys sorted).
const EXPECTED_ENIS =
  `{"0":{"TotalIPs":18,"AssignedIPs":2,"ENIs":{` +
  `"eni-0aaa":{"ID":"eni-0aaa","IsPrimary":true,"IsTrunk":false,"IsEFA":false,"DeviceNumber":0,"AvailableIPv4Cidrs":{` +
  `"10.0.1.17/32":{"Cidr":{"IP":"10.0.1.17","Mask":"/////w=="},"IPAddresses":{"10.0.1.17":{"Address":"10.0.1.17","IPAMKey":{"networkName":"aws-cni","containerID":"","ifName":""},"IPAMMetadata":{"k8sPodNamespace":"default","k8sPodName":"web-0","interfacesCount":1},"AssignedTime":"2024-01-02T03:04:05.12Z","UnassignedTime":"0001-01-01T00:00:00Z"}},"IsPrefix":false,"AddressFamily":""},` +
  `"10.0.1.18/32":{"Cidr":{"IP":"10.0.1.18","Mask":"/////w=="},"IPAddresses":{"10.0.1.18":{"Address":"10.0.1.18","IPAMKey":{"networkName":"","containerID":"","ifName":""},"IPAMMetadata":{},"AssignedTime":"2024-01-02T03:04:05.12Z","UnassignedTime":"2024-01-02T03:14:05Z"}},"IsPrefix":false,"AddressFamily":""},` +
  `"10.0.1.19/32":{"Cidr":{"IP":"10.0.1.19","Mask":"/////w=="},"IPAddresses":{},"IsPrefix":false,"AddressFamily":""}` +
  `},"IPv6Cidrs":{},"IsExcludedForPodIPs":false,"RouteTableID":254,"SubnetID":"subnet-0a"},` +
  `"eni-0bbb":{"ID":"eni-0bbb","IsPrimary":false,"IsTrunk":false,"IsEFA":false,"DeviceNumber":1,"AvailableIPv4Cidrs":{` +
  `"10.0.2.16/28":{"Cidr":{"IP":"10.0.2.16","Mask":"////8A=="},"IPAddresses":{"10.0.2.17":{"Address":"10.0.2.17","IPAMKey":{"networkName":"aws-cni","containerID":"","ifName":""},"IPAMMetadata":{"k8sPodNamespace":"kube-system","k8sPodName":"coredns-1","interfacesCount":1},"AssignedTime":"2024-01-02T03:20:00.007Z","UnassignedTime":"0001-01-01T00:00:00Z"}},"IsPrefix":true,"AddressFamily":""}` +
  `},"IPv6Cidrs":{},"IsExcludedForPodIPs":false,"RouteTableID":2,"SubnetID":"subnet-0b"}` +
  `}}}`;

interface Got {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
  readonly json: unknown;
}

function get(endpoint: HttpEndpoint, path: string, method = "GET"): Promise<Got> {
  const target = endpoint.port === null ? { socketPath: endpoint.address.slice("unix:".length) } : { host: "127.0.0.1", port: endpoint.port };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method, agent: false }, (res) => {
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
        resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], text, json });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("introspection over TCP", () => {
  let endpoint: HttpEndpoint;
  const lines: string[] = [];

  before(async () => {
    const logger = createLogger({ level: "info", target: { kind: "stream", stream: { write: (line: string) => lines.push(line) } } });
    endpoint = await startIntrospectionServer({ bind: { kind: "tcp", host: "127.0.0.1", port: 0 }, source: source(), log: logger.component("introspection") });
  });
  after(async () => {
    await endpoint.close();
  });

  it("binds 127.0.0.1 on the port asked for", () => {
    assert.ok(endpoint.port !== null && endpoint.port > 0);
    assert.equal(endpoint.address, `127.0.0.1:${endpoint.port}`);
  });

  it("/v1/enis has aws-node's document, byte for byte", async () => {
    const got = await get(endpoint, "/v1/enis");
    assert.equal(got.status, 200);
    assert.equal(got.contentType, "application/json");
    // Field by field first (readable diffs), then the exact text (key order).
    assert.deepEqual(got.json, JSON.parse(EXPECTED_ENIS));
    assert.equal(got.text, EXPECTED_ENIS);
  });

  it("lists the commands at / and at any unknown path", async () => {
    const expected = { AvailableCommands: ["/v1/enis", "/v1/eni-configs", "/v1/networkutils-env-settings", "/v1/ipamd-env-settings", "/v1/pool", "/v1/health"] };
    for (const path of ["/", "/v1/pods", "/nope?x=1"]) {
      const got = await get(endpoint, path);
      assert.equal(got.status, 200, path);
      assert.deepEqual(got.json, expected, path);
    }
  });

  it("/v1/eni-configs is a JSON string", async () => {
    const got = await get(endpoint, "/v1/eni-configs");
    assert.equal(got.status, 200);
    assert.equal(got.text, `"us-west-2a"`);
  });

  it("/v1/networkutils-env-settings has the reference's keys and types (nil slice as null, SNAT enum)", async () => {
    const got = await get(endpoint, "/v1/networkutils-env-settings");
    assert.equal(
      got.text,
      `{"AWS_VPC_K8S_CNI_CONNMARK":128,"AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS":null,"AWS_VPC_K8S_CNI_EXTERNALSNAT":false,"AWS_EXTERNAL_SERVICE_CIDRS":["172.16.0.0/12"],"AWS_VPC_ENI_MTU":9001,"AWS_VPC_K8S_CNI_VETHPREFIX":"eni","AWS_VPC_CNI_NODE_PORT_SUPPORT":true,"AWS_VPC_K8S_CNI_RANDOMIZESNAT":2}`,
    );
  });

  it("/v1/ipamd-env-settings has the reference's keys and types", async () => {
    const got = await get(endpoint, "/v1/ipamd-env-settings");
    assert.deepEqual(got.json, {
      WARM_IP_TARGET: 5,
      WARM_ENI_TARGET: 1,
      AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: false,
      AWS_MANAGE_ENIS_NON_SCHEDULABLE: false,
      ENABLE_SUBNET_DISCOVERY: true,
    });
  });

  it("/v1/pool shows stats, targets, the last plan and the growth pause", async () => {
    const got = await get(endpoint, "/v1/pool");
    assert.deepEqual(got.json, {
      stats: { total: 18, assigned: 2, cooldown: 1, available: 15, prefixes: 1, waiting: 0 },
      targets: { mode: "warm-ip", warmIpTarget: 5, minimumIpTarget: 0, prefixDelegation: false },
      lastPlan: { kind: "none", reason: "at target" },
      lastPlanAt: "2024-01-02T03:14:05.000Z",
      growthPause: { until: "2024-01-02T03:20:00.007Z", reason: "InsufficientFreeAddressesInSubnet" },
    });
  });

  it("/v1/health is 200 when serving", async () => {
    const got = await get(endpoint, "/v1/health");
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, { status: "serving", detail: "", version: "v0.1.0", startedAt: "2024-01-02T03:04:05.120Z", checks: { imds: { ok: true, detail: "" } } });
  });

  it("is read-only", async () => {
    const got = await get(endpoint, "/v1/enis", "POST");
    assert.equal(got.status, 405);
  });

  it("logs every request", async () => {
    lines.length = 0;
    await get(endpoint, "/v1/ipamd-env-settings");
    await get(endpoint, "/whatever");
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "introspection request");
    assert.deepEqual(logged.map((l) => [l.path, l.status, l.component]), [
      ["/v1/ipamd-env-settings", 200, "introspection"],
      ["/whatever", 200, "introspection"],
    ]);
  });
});

describe("introspection edge cases", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vpccni-introspect-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves on a unix: bind", async () => {
    const path = join(dir, "introspect.sock");
    const endpoint = await startIntrospectionServer({ bind: { kind: "unix", path }, source: source(), log: createLogger({ level: "error", target: { kind: "stream", stream: { write: () => true } } }).root });
    try {
      assert.equal(endpoint.address, `unix:${path}`);
      assert.ok((await stat(path)).isSocket());
      const got = await get(endpoint, "/v1/enis");
      assert.equal(got.text, EXPECTED_ENIS);
    } finally {
      await endpoint.close();
    }
    await assert.rejects(stat(path), { code: "ENOENT" });
  });

  it("answers 404 when the ENIConfig cannot be read, 503 health while starting, 500 when the source fails", async () => {
    const starting: HealthView = { status: "starting", detail: "waiting for IMDS", version: "v0.1.0", startedAt: T1, checks: {} };
    const endpoint = await startIntrospectionServer({
      bind: { kind: "tcp", host: "127.0.0.1", port: 0 },
      source: source({
        eniConfigName: () => null,
        health: () => starting,
        pool: () => {
          throw new Error("pool not ready");
        },
      }),
      log: createLogger({ level: "fatal", target: { kind: "stream", stream: { write: () => true } } }).root,
    });
    try {
      assert.equal((await get(endpoint, "/v1/eni-configs")).status, 404);
      const health = await get(endpoint, "/v1/health");
      assert.equal(health.status, 503);
      assert.equal((health.json as { status: string }).status, "starting");
      const pool = await get(endpoint, "/v1/pool");
      assert.equal(pool.status, 500);
      assert.deepEqual(pool.json, { error: "pool not ready" });
    } finally {
      await endpoint.close();
    }
  });
});

describe("Go JSON values", () => {
  it("writes time.Time as Go does: trailing zeros of the fraction dropped, zero time when unset", () => {
    assert.equal(goTime(null), GO_ZERO_TIME);
    assert.equal(GO_ZERO_TIME, "0001-01-01T00:00:00Z");
    assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 0)), "2024-01-02T03:04:05Z");
    assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 100)), "2024-01-02T03:04:05.1Z");
    assert.equal(goTime(Date.UTC(2024, 0, 2, 3, 4, 5, 123)), "2024-01-02T03:04:05.123Z");
  });

  it("writes net.IPNet as the network address and the base64 mask bytes", () => {
    assert.deepEqual(goIpNet("10.0.0.5/32"), { IP: "10.0.0.5", Mask: "/////w==" });
    assert.deepEqual(goIpNet("10.0.2.16/28"), { IP: "10.0.2.16", Mask: "////8A==" });
    assert.deepEqual(goIpNet("10.0.2.20/28"), { IP: "10.0.2.16", Mask: "////8A==" });
    assert.deepEqual(goIpNet("10.0.0.0/16"), { IP: "10.0.0.0", Mask: "//8AAA==" });
    assert.deepEqual(goIpNet("2600:1f14:abc:de01:1234:5678::/80"), { IP: "2600:1f14:abc:de01:1234::", Mask: "/////////////wAAAAAAAA==" });
    // RFC 5952, as Go: the longest run of zero groups is compressed, the first one on a tie.
    assert.equal(goIpNet("2600:1f14:0:0:1:0:0:0/128").IP, "2600:1f14:0:0:1::");
    assert.equal(goIpNet("2600:0:0:1:0:0:1:1/128").IP, "2600::1:0:0:1:1");
    assert.equal(goIpNet("2600:0:1:0:1:0:1:0/128").IP, "2600:0:1:0:1:0:1:0");
    assert.throws(() => goIpNet("10.0.0.5"), /not a CIDR/);
    assert.throws(() => goIpNet("10.0.0.256/32"), /not an IPv4 address/);
  });
});
