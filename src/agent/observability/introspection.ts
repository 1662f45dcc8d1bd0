// Introspection HTTP (aws-node's pkg/ipamd/introspect.go): read-only JSON views of the agent's state on
// 127.0.0.1:61679, with aws-node's paths and document shapes so existing tooling and support scripts keep
// working, plus our own /v1/pool and /v1/health. The state comes from a plain snapshot provider, so this
// file does not depend on the datastore's internals.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { goIpNet, goTime, type GoIpNet } from "./go-json.ts";
import { listenHttp, type BindAddress, type HttpEndpoint } from "./http-listen.ts";
import type { Logger } from "./log.ts";

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

type MaybePromise<T> = T | Promise<T>;

// ---------------------------------------------------------------------------------------------------
// Input: what the agent hands over. Times are ms since the epoch, null when unset.

export interface IntrospectionAddress {
  readonly address: string;
  /** "" when the address is free (the reference's zero IPAMKey). */
  readonly networkName: string;
  readonly podNamespace: string;
  readonly podName: string;
  readonly interfacesCount: number;
  readonly assignedAt: number | null;
  readonly unassignedAt: number | null;
}

export interface IntrospectionCidr {
  /** "10.0.0.5/32" (secondary address) or "10.0.2.0/28" (prefix), "2600:.../80" for IPv6. */
  readonly cidr: string;
  readonly isPrefix: boolean;
  /** The addresses the datastore tracks in this CIDR (those ever handed out), in any order. */
  readonly addresses: readonly IntrospectionAddress[];
}

export interface IntrospectionEni {
  readonly id: string;
  readonly isPrimary: boolean;
  readonly isTrunk: boolean;
  readonly isEfa: boolean;
  readonly deviceNumber: number;
  readonly ipv4Cidrs: readonly IntrospectionCidr[];
  readonly ipv6Cidrs: readonly IntrospectionCidr[];
  readonly isExcludedForPodIps: boolean;
  readonly routeTableId: number;
  readonly subnetId: string;
}

export interface IntrospectionNetworkCard {
  readonly networkCard: number;
  readonly totalIps: number;
  readonly assignedIps: number;
  readonly enis: readonly IntrospectionEni[];
}

/** The fields of the config's HostNetworkConfig that /v1/networkutils-env-settings shows (pass it as is). */
export interface NetworkUtilsSettings {
  readonly connmark: number;
  readonly excludeSnatCidrs: readonly string[];
  readonly externalSnat: boolean;
  readonly externalServiceCidrs: readonly string[];
  readonly eniMtu: number;
  readonly vethPrefix: string;
  readonly nodePortSupport: boolean;
  readonly randomizeSnat: "none" | "hashrandom" | "prng";
}

export interface IpamdSettings {
  readonly warmIpTarget: number;
  readonly warmEniTarget: number;
  readonly customNetworking: boolean;
  readonly manageEnisNonSchedulable: boolean;
  readonly subnetDiscovery: boolean;
}

/** /v1/pool: the warm pool's view, our own. */
export interface PoolView {
  /** Pool statistics (total, assigned, cooldown, available, prefixes, waiting, ...). */
  readonly stats: Readonly<Record<string, number>>;
  /** The effective targets and limits. */
  readonly targets: Readonly<Record<string, number | boolean | string>>;
  /** The pool planner's last plan, as plain JSON; null before the first. */
  readonly lastPlan: JsonValue;
  readonly lastPlanAt: number | null;
  /** Growth paused (e.g. after an insufficient-address error) until this time; null when not paused. */
  readonly growthPausedUntil: number | null;
  readonly growthPauseReason: string;
}

export type AgentHealthStatus = "starting" | "serving" | "shutting-down";

/** /v1/health: our own. 200 when serving, 503 otherwise. */
export interface HealthView {
  readonly status: AgentHealthStatus;
  readonly detail: string;
  readonly version: string;
  readonly startedAt: number;
  /** Named checks, e.g. { imds: {ok: true, detail: ""} }. */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail: string }>>;
}

export interface IntrospectionSource {
  networkCards(): MaybePromise<readonly IntrospectionNetworkCard[]>;
  /** The ENIConfig name for this node; null when the node cannot be read (answered 404, as aws-node). */
  eniConfigName(): MaybePromise<string | null>;
  networkUtilsSettings(): MaybePromise<NetworkUtilsSettings>;
  ipamdSettings(): MaybePromise<IpamdSettings>;
  pool(): MaybePromise<PoolView>;
  health(): MaybePromise<HealthView>;
}

// ---------------------------------------------------------------------------------------------------
// Output: aws-node's documents. Key order follows Go's struct field order; map keys are sorted as
// encoding/json sorts them.

export interface EniInfosDocument {
  readonly TotalIPs: number;
  readonly AssignedIPs: number;
  readonly ENIs: Record<string, EniDocument>;
}

export interface EniDocument {
  readonly ID: string;
  readonly IsPrimary: boolean;
  readonly IsTrunk: boolean;
  readonly IsEFA: boolean;
  readonly DeviceNumber: number;
  readonly AvailableIPv4Cidrs: Record<string, CidrInfoDocument>;
  readonly IPv6Cidrs: Record<string, CidrInfoDocument>;
  readonly IsExcludedForPodIPs: boolean;
  readonly RouteTableID: number;
  readonly SubnetID: string;
}

export interface CidrInfoDocument {
  readonly Cidr: GoIpNet;
  readonly IPAddresses: Record<string, AddressInfoDocument>;
  readonly IsPrefix: boolean;
  readonly AddressFamily: string;
}

export interface AddressInfoDocument {
  readonly Address: string;
  readonly IPAMKey: { readonly networkName: string; readonly containerID: string; readonly ifName: string };
  /** The reference's fields are omitempty: a free address has `{}`. */
  readonly IPAMMetadata: { readonly k8sPodNamespace?: string; readonly k8sPodName?: string; readonly interfacesCount?: number };
  readonly AssignedTime: string;
  readonly UnassignedTime: string;
}

export function enisDocument(cards: readonly IntrospectionNetworkCard[]): Record<string, EniInfosDocument> {
  const out: Record<string, EniInfosDocument> = {};
  for (const card of [...cards].sort((a, b) => a.networkCard - b.networkCard)) {
    out[String(card.networkCard)] = {
      TotalIPs: card.totalIps,
      AssignedIPs: card.assignedIps,
      ENIs: sortedRecord(card.enis.map((eni) => [eni.id, eniDocument(eni)])),
    };
  }
  return out;
}

function eniDocument(eni: IntrospectionEni): EniDocument {
  return {
    ID: eni.id,
    IsPrimary: eni.isPrimary,
    IsTrunk: eni.isTrunk,
    IsEFA: eni.isEfa,
    DeviceNumber: eni.deviceNumber,
    AvailableIPv4Cidrs: sortedRecord(eni.ipv4Cidrs.map((c) => [c.cidr, cidrDocument(c)])),
    IPv6Cidrs: sortedRecord(eni.ipv6Cidrs.map((c) => [c.cidr, cidrDocument(c)])),
    IsExcludedForPodIPs: eni.isExcludedForPodIps,
    RouteTableID: eni.routeTableId,
    SubnetID: eni.subnetId,
  };
}

function cidrDocument(cidr: IntrospectionCidr): CidrInfoDocument {
  return {
    Cidr: goIpNet(cidr.cidr),
    IPAddresses: sortedRecord(cidr.addresses.map((a) => [a.address, addressDocument(a)])),
    IsPrefix: cidr.isPrefix,
    // aws-node's introspection copy of CidrInfo leaves the family empty; so do we, for identical output.
    AddressFamily: "",
  };
}

function addressDocument(a: IntrospectionAddress): AddressInfoDocument {
  const metadata: { k8sPodNamespace?: string; k8sPodName?: string; interfacesCount?: number } = {};
  if (a.podNamespace !== "") metadata.k8sPodNamespace = a.podNamespace;
  if (a.podName !== "") metadata.k8sPodName = a.podName;
  if (a.interfacesCount !== 0) metadata.interfacesCount = a.interfacesCount;
  return {
    Address: a.address,
    // containerID and ifName are scrubbed, as aws-node does since v1.23.0.
    IPAMKey: { networkName: a.networkName, containerID: "", ifName: "" },
    IPAMMetadata: metadata,
    AssignedTime: goTime(a.assignedAt),
    UnassignedTime: goTime(a.unassignedAt),
  };
}

const RANDOMIZE_SNAT_ENUM: Readonly<Record<NetworkUtilsSettings["randomizeSnat"], number>> = { none: 0, hashrandom: 1, prng: 2 };

export function networkUtilsDocument(s: NetworkUtilsSettings): Record<string, JsonValue> {
  return {
    AWS_VPC_K8S_CNI_CONNMARK: s.connmark,
    // Go marshals an empty (nil) slice as null.
    AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS: s.excludeSnatCidrs.length === 0 ? null : [...s.excludeSnatCidrs],
    AWS_VPC_K8S_CNI_EXTERNALSNAT: s.externalSnat,
    AWS_EXTERNAL_SERVICE_CIDRS: s.externalServiceCidrs.length === 0 ? null : [...s.externalServiceCidrs],
    AWS_VPC_ENI_MTU: s.eniMtu,
    AWS_VPC_K8S_CNI_VETHPREFIX: s.vethPrefix,
    AWS_VPC_CNI_NODE_PORT_SUPPORT: s.nodePortSupport,
    AWS_VPC_K8S_CNI_RANDOMIZESNAT: RANDOMIZE_SNAT_ENUM[s.randomizeSnat],
  };
}

export function ipamdDocument(s: IpamdSettings): Record<string, JsonValue> {
  return {
    WARM_IP_TARGET: s.warmIpTarget,
    WARM_ENI_TARGET: s.warmEniTarget,
    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: s.customNetworking,
    AWS_MANAGE_ENIS_NON_SCHEDULABLE: s.manageEnisNonSchedulable,
    ENABLE_SUBNET_DISCOVERY: s.subnetDiscovery,
  };
}

export function poolDocument(p: PoolView): Record<string, JsonValue> {
  return {
    stats: { ...p.stats },
    targets: { ...p.targets },
    lastPlan: p.lastPlan,
    lastPlanAt: p.lastPlanAt === null ? null : new Date(p.lastPlanAt).toISOString(),
    growthPause: p.growthPausedUntil === null ? null : { until: new Date(p.growthPausedUntil).toISOString(), reason: p.growthPauseReason },
  };
}

export function healthDocument(h: HealthView): Record<string, JsonValue> {
  return {
    status: h.status,
    detail: h.detail,
    version: h.version,
    startedAt: new Date(h.startedAt).toISOString(),
    checks: Object.fromEntries(Object.entries(h.checks).map(([name, c]) => [name, { ok: c.ok, detail: c.detail }])),
  };
}

function sortedRecord<T>(entries: readonly (readonly [string, T])[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[key] = value;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The server.

export const INTROSPECTION_PATHS = ["/v1/enis", "/v1/eni-configs", "/v1/networkutils-env-settings", "/v1/ipamd-env-settings", "/v1/pool", "/v1/health"] as const;

/** aws-node's read and write timeouts. */
const TIMEOUT_MS = 5_000;

export interface IntrospectionServerOptions {
  readonly bind: BindAddress;
  readonly source: IntrospectionSource;
  readonly log: Logger;
  /** Mode of a unix socket bind; 0600 by default. */
  readonly unixMode?: number;
}

type Reply = { readonly status: number; readonly body: JsonValue };

export async function startIntrospectionServer(options: IntrospectionServerOptions): Promise<HttpEndpoint> {
  const { source, log } = options;

  async function answer(path: string): Promise<Reply> {
    switch (path) {
      case "/v1/enis":
        return { status: 200, body: enisDocument(await source.networkCards()) as unknown as JsonValue };
      case "/v1/eni-configs": {
        const name = await source.eniConfigName();
        return name === null ? { status: 404, body: { error: "the node's ENIConfig cannot be read" } } : { status: 200, body: name };
      }
      case "/v1/networkutils-env-settings":
        return { status: 200, body: networkUtilsDocument(await source.networkUtilsSettings()) };
      case "/v1/ipamd-env-settings":
        return { status: 200, body: ipamdDocument(await source.ipamdSettings()) };
      case "/v1/pool":
        return { status: 200, body: poolDocument(await source.pool()) };
      case "/v1/health": {
        const health = await source.health();
        return { status: health.status === "serving" ? 200 : 503, body: healthDocument(health) };
      }
      default:
        return { status: 200, body: { AvailableCommands: [...INTROSPECTION_PATHS] } };
    }
  }

  const server = createServer({ requestTimeout: TIMEOUT_MS, headersTimeout: TIMEOUT_MS }, (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const respond = (reply: Reply) => {
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      res.end(req.method === "HEAD" ? undefined : text);
      log.info({ method: req.method, path, status: reply.status, ms: Math.round(performance.now() - started), remote: req.socket.remoteAddress ?? "unix" }, "introspection request");
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      respond({ status: 405, body: { error: `${req.method} not allowed; use GET` } });
      return;
    }
    answer(path).then(respond, (error: unknown) => {
      log.error({ err: error, path }, "introspection failed");
      respond({ status: 500, body: { error: error instanceof Error ? error.message : String(error) } });
    });
  });
  // Write timeout: a reader that stops reading does not hold the connection.
  server.setTimeout(TIMEOUT_MS, (socket) => socket.destroy());

  const endpoint = await listenHttp(server, options.bind, options.unixMode);
  log.info({ address: endpoint.address }, "introspection listening");
  return endpoint;
}
