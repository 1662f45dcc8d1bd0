// The plugin <-> agent protocol: JSON over HTTP/1.1 on a unix socket. aws-node uses gRPC here; plain
// JSON keeps the plugin free of dependencies so it loads fast, and lets `curl --unix-socket` debug it.
// This folder is shared by the agent's server and the plugin's client, so it imports nothing of ours:
// protocol.ts holds the shapes and rules, validation.ts checks what arrives, client.ts is the plugin's side.
//
// Field mapping to the reference's rpc.proto (names here are lowerCamelCase JSON):
//
//   AllocateRequest (AddNetworkRequest)        ReleaseRequest (DelNetworkRequest)
//     protocolVersion  (new; see below)          protocolVersion  (new)
//     clientVersion    ClientVersion = 8         clientVersion    ClientVersion = 9
//     podName          K8S_POD_NAME = 1          podName          K8S_POD_NAME = 1
//     podNamespace     K8S_POD_NAMESPACE = 2     podNamespace     K8S_POD_NAMESPACE = 2
//     podUid           (new; DEL has it)         podUid           K8S_POD_UID = 10
//     infraContainerId K8S_POD_INFRA_CONTAINER_ID = 3
//     containerId      ContainerID = 7           containerId      ContainerID = 8
//     ifName           IfName = 5                ifName           IfName = 6
//     networkName      NetworkName = 6           networkName      NetworkName = 7
//     netns            Netns = 4                 netns            (new; may be empty, as CNI DEL allows)
//     requiresMultiNicAttachment  RequiresMultiNICAttachment = 9
//                                                reason           Reason = 5
//
//   AllocateReply (AddNetworkReply)            ReleaseReply (DelNetworkReply)
//     success          Success = 1               success          Success = 1
//     addresses[]      IPAllocationMetadata = 2  addresses[]      IPAllocationMetadata = 2 (empty: nothing was held)
//       ipv4Addr       IPv4Addr = 1              podVlanId        PodVlanId = 4
//       ipv6Addr       IPv6Addr = 2              networkPolicyMode NetworkPolicyMode = 6
//       deviceNumber   DeviceNumber = 3
//       routeTableId   RouteTableId = 4
//     useExternalSnat  UseExternalSNAT = 5
//     vpcV4Cidrs       VPCv4CIDRs = 6 (VPC CIDRs + exclude-SNAT CIDRs)
//     vpcV6Cidrs       VPCv6CIDRs = 12
//     podVlanId        PodVlanId = 7
//     podEniMac        PodENIMAC = 8
//     podEniSubnetGw   PodENISubnetGW = 9
//     parentIfIndex    ParentIfIndex = 10
//     networkPolicyMode NetworkPolicyMode = 13
//
// Where aws-node answers `Success=false` with no error, or a gRPC status, we answer an HTTP error with a
// typed `{error:{code,message}}` body; `success` is always true in a 200 reply.
//
// Version skew: aws-node refuses any plugin whose build version differs from its own, which breaks pods
// during every rolling upgrade. Here each side sends an integer `protocolVersion`; the agent serves any
// client at or above its minimum and ignores fields it does not know, and replies carry the agent's
// version so a newer plugin can tell what it is talking to. Only a client below the minimum is refused,
// with both versions in the message. `clientVersion` (the build) is informational only.

export const PROTOCOL_VERSION = 1;
/** The oldest client protocol the agent still serves. */
export const MIN_CLIENT_PROTOCOL_VERSION = 1;
/** The oldest agent protocol this client understands. */
export const MIN_SERVER_PROTOCOL_VERSION = 1;

export const RPC_PATHS = {
  allocate: "/v1/allocate",
  release: "/v1/release",
  health: "/v1/health",
  gc: "/v1/gc",
} as const;

export type RpcMethod = keyof typeof RPC_PATHS;

/** Request bodies larger than this are refused unread (the largest valid request is under 6 KiB). */
export const MAX_REQUEST_BYTES = 16 * 1024;
/** Reply bodies larger than this are treated as a broken agent by the client. */
export const MAX_REPLY_BYTES = 1024 * 1024;

export interface AllocateRequest {
  readonly protocolVersion: number;
  readonly clientVersion: string;
  readonly podNamespace: string;
  readonly podName: string;
  /** "" when the runtime does not pass K8S_POD_UID. */
  readonly podUid: string;
  /** "" when the runtime does not pass K8S_POD_INFRA_CONTAINER_ID. */
  readonly infraContainerId: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly networkName: string;
  readonly netns: string;
  readonly requiresMultiNicAttachment: boolean;
}

export interface ReleaseRequest {
  readonly protocolVersion: number;
  readonly clientVersion: string;
  readonly podNamespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly infraContainerId: string;
  readonly containerId: string;
  readonly ifName: string;
  readonly networkName: string;
  /** "" allowed: CNI DEL may come after the netns is gone. */
  readonly netns: string;
  /** "PodDeleted", or "SetupNSFailed" when the plugin rolls back a failed ADD (the reference's values). */
  readonly reason: string;
}

export interface PodAddress {
  /** "" when the pod has no IPv4 address (IPv6 mode). */
  readonly ipv4Addr: string;
  /** "" when the pod has no IPv6 address. */
  readonly ipv6Addr: string;
  readonly deviceNumber: number;
  readonly routeTableId: number;
}

export interface AllocateReply {
  readonly protocolVersion: number;
  readonly success: true;
  readonly addresses: readonly PodAddress[];
  readonly useExternalSnat: boolean;
  readonly vpcV4Cidrs: readonly string[];
  readonly vpcV6Cidrs: readonly string[];
  readonly podVlanId: number;
  readonly podEniMac: string;
  readonly podEniSubnetGw: string;
  readonly parentIfIndex: number;
  readonly networkPolicyMode: string;
}

export interface ReleaseReply {
  readonly protocolVersion: number;
  readonly success: true;
  /** The addresses the pod held, so the plugin can remove their rules; empty when nothing was held. */
  readonly addresses: readonly PodAddress[];
  readonly podVlanId: number;
  readonly networkPolicyMode: string;
}

/**
 * CNI GC (spec 1.1.0): the runtime lists the attachments of a network that are still valid; the agent
 * releases every allocation of that network not in the list. No aws-node counterpart.
 */
export interface GcRequest {
  readonly protocolVersion: number;
  readonly clientVersion: string;
  readonly networkName: string;
  readonly validAttachments: readonly { readonly containerId: string; readonly ifName: string }[];
}

export interface GcReply {
  readonly protocolVersion: number;
  readonly success: true;
  /** What was released, so the plugin can remove the host routing of each. */
  readonly released: readonly PodAddress[];
}

export type HealthStatus = "serving" | "not-serving";

export interface HealthReply {
  readonly protocolVersion: number;
  readonly minProtocolVersion: number;
  /** The agent's build version ("" if unknown). */
  readonly agentVersion: string;
  readonly status: HealthStatus;
  /** Why not serving (e.g. "initialising"), or "". */
  readonly detail: string;
}

/**
 * - `no-address`: no address could be found or made for the pod (pool exhausted, max pods reached, or growth
 *   timed out); the message says which.
 * - `invalid-request`: the request was malformed; nothing changed.
 * - `unsupported-version`: one side's protocol is older than the other supports; nothing changed.
 * - `shutting-down`: the agent is stopping and will not take this on.
 * - `internal`: anything else; the agent's log has the details.
 */
export type RpcErrorCode = "no-address" | "invalid-request" | "unsupported-version" | "shutting-down" | "internal";

export const RPC_ERROR_CODES: readonly RpcErrorCode[] = ["no-address", "invalid-request", "unsupported-version", "shutting-down", "internal"];

/** HTTP status per error code; clients go by the code in the body, the status is for humans and proxies. */
export const RPC_ERROR_STATUS: Readonly<Record<RpcErrorCode, number>> = {
  "invalid-request": 400,
  "unsupported-version": 400,
  "no-address": 503,
  "shutting-down": 503,
  internal: 500,
};

export interface ErrorReply {
  readonly protocolVersion: number;
  readonly error: { readonly code: RpcErrorCode; readonly message: string };
}

/** Thrown by handlers to answer with a typed error; any other exception becomes `internal`. */
export class RpcError extends Error {
  readonly code: RpcErrorCode;
  constructor(code: RpcErrorCode, message: string) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}

/** null when the client's protocol is served; otherwise the message for an `unsupported-version` error. */
export function checkClientVersion(clientProtocolVersion: number, minimum = MIN_CLIENT_PROTOCOL_VERSION, current = PROTOCOL_VERSION): string | null {
  if (clientProtocolVersion >= minimum) return null;
  return `plugin protocol version ${clientProtocolVersion} is older than this agent supports: the agent speaks version ${current} and serves clients from version ${minimum}; upgrade the plugin`;
}

/** null when the agent's protocol is understood by this client; otherwise the message. */
export function checkServerVersion(serverProtocolVersion: number, minimum = MIN_SERVER_PROTOCOL_VERSION, current = PROTOCOL_VERSION): string | null {
  if (serverProtocolVersion >= minimum) return null;
  return `agent protocol version ${serverProtocolVersion} is older than this plugin supports: the plugin speaks version ${current} and needs an agent from version ${minimum}; upgrade the agent`;
}

// ---------------------------------------------------------------------------------------------------
// Replies as the agent sends them: one shape per call. The fields of features the agent does not have
// yet (branch ENIs, IPv6, network policy) get their zero values here, in the order they go on the wire.

export function allocateReply(fields: Pick<AllocateReply, "addresses" | "useExternalSnat" | "vpcV4Cidrs"> & Partial<AllocateReply>): AllocateReply {
  return {
    protocolVersion: PROTOCOL_VERSION,
    success: true,
    addresses: fields.addresses,
    useExternalSnat: fields.useExternalSnat,
    vpcV4Cidrs: fields.vpcV4Cidrs,
    vpcV6Cidrs: fields.vpcV6Cidrs ?? [],
    podVlanId: fields.podVlanId ?? 0,
    podEniMac: fields.podEniMac ?? "",
    podEniSubnetGw: fields.podEniSubnetGw ?? "",
    parentIfIndex: fields.parentIfIndex ?? 0,
    networkPolicyMode: fields.networkPolicyMode ?? "",
  };
}

export function releaseReply(fields: Pick<ReleaseReply, "addresses"> & Partial<ReleaseReply>): ReleaseReply {
  return {
    protocolVersion: PROTOCOL_VERSION,
    success: true,
    addresses: fields.addresses,
    podVlanId: fields.podVlanId ?? 0,
    networkPolicyMode: fields.networkPolicyMode ?? "",
  };
}

export function gcReply(released: readonly PodAddress[]): GcReply {
  return { protocolVersion: PROTOCOL_VERSION, success: true, released };
}
