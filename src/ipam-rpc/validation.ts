// Checks every body that crosses the socket before anyone acts on it: requests on the agent's side
// (every field for type, length and characters, so a malformed request can have no effect; unknown
// fields are ignored, since a newer plugin may send more), replies on the plugin's side.

import { RPC_ERROR_CODES } from "./protocol.ts";
import type { AllocateReply, AllocateRequest, ErrorReply, GcReply, GcRequest, HealthReply, PodAddress, ReleaseReply, ReleaseRequest, RpcErrorCode } from "./protocol.ts";

// ---------------------------------------------------------------------------------------------------
// Requests, for the agent. The version gate is separate (checkClientVersion in protocol.ts).

export type Validated<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

type Json = Record<string, unknown>;

const POD_TEXT = /^[\x21-\x2e\x30-\x7e]+$/;
// The CNI spec's rule for container IDs and network names.
const CNI_IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const POD_UID = /^[A-Za-z0-9-]*$/;
const VERSION_TEXT = /^[\x21-\x7e]+$/;
const REASON = /^[A-Za-z][A-Za-z0-9_.-]*$/;
// Printable ASCII without blanks, '/' and ':' - what Linux's dev_valid_name accepts, minus non-ASCII.
const IF_NAME = /^[\x21-\x2e\x30-\x39\x3b-\x7e]+$/;
const NETNS_PATH = /^\/[\x20-\x7e]*$/;
const INT32_MAX = 2 ** 31 - 1;

interface StringRule {
  readonly required: boolean;
  readonly max: number;
  readonly pattern: RegExp;
  /** Says what is allowed, for the error message. */
  readonly allowed: string;
}

const rules = {
  clientVersion: { required: true, max: 64, pattern: VERSION_TEXT, allowed: "printable ASCII without blanks" },
  // Kubernetes sends DNS names here, but other runtimes do not: podman passes its container name
  // (e.g. "quirky_hopper") as K8S_POD_NAME and no namespace. Only the host veth name is derived from
  // them (by hashing), so any printable text without '/' is safe.
  podNamespace: { required: false, max: 253, pattern: POD_TEXT, allowed: "printable ASCII without blanks or '/'" },
  podName: { required: true, max: 253, pattern: POD_TEXT, allowed: "printable ASCII without blanks or '/'" },
  podUid: { required: false, max: 64, pattern: POD_UID, allowed: "letters, digits and '-'" },
  infraContainerId: { required: false, max: 256, pattern: CNI_IDENTIFIER, allowed: "letters, digits, '_', '.', '-', starting with a letter or digit" },
  containerId: { required: true, max: 256, pattern: CNI_IDENTIFIER, allowed: "letters, digits, '_', '.', '-', starting with a letter or digit" },
  ifName: { required: true, max: 15, pattern: IF_NAME, allowed: "a Linux interface name: at most 15 printable ASCII characters, no blanks, '/' or ':'" },
  networkName: { required: true, max: 256, pattern: CNI_IDENTIFIER, allowed: "letters, digits, '_', '.', '-', starting with a letter or digit" },
  netns: { required: true, max: 4096, pattern: NETNS_PATH, allowed: "an absolute path of printable ASCII" },
  releaseNetns: { required: false, max: 4096, pattern: NETNS_PATH, allowed: "an absolute path of printable ASCII" },
  reason: { required: true, max: 64, pattern: REASON, allowed: "a word of letters, digits, '_', '.', '-' (e.g. PodDeleted)" },
} satisfies Record<string, StringRule>;

class Invalid extends Error {}

function readString(body: Json, key: string, rule: StringRule): string {
  const value = body[key];
  if (value === undefined) {
    if (rule.required) throw new Invalid(`${key} is missing`);
    return "";
  }
  if (typeof value !== "string") throw new Invalid(`${key} must be a string, not ${describe(value)}`);
  if (value === "") {
    if (rule.required) throw new Invalid(`${key} must not be empty`);
    return "";
  }
  if (value.length > rule.max) throw new Invalid(`${key} is ${value.length} characters long; at most ${rule.max} allowed`);
  if (!rule.pattern.test(value)) throw new Invalid(`${key} ${JSON.stringify(value)} is not valid: ${rule.allowed}`);
  if (key === "ifName" && (value === "." || value === "..")) throw new Invalid(`ifName ${JSON.stringify(value)} is not a valid interface name`);
  return value;
}

function readBoolean(body: Json, key: string): boolean {
  const value = body[key];
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new Invalid(`${key} must be a boolean, not ${describe(value)}`);
  return value;
}

function readProtocolVersion(body: Json): number {
  const value = body.protocolVersion;
  if (value === undefined) throw new Invalid("protocolVersion is missing");
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > INT32_MAX) {
    throw new Invalid(`protocolVersion must be a whole number, not ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === "number") return String(value);
  return `a ${typeof value}`;
}

function asObject(body: unknown): Json {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Invalid(`the body must be a JSON object, not ${describe(body)}`);
  return body as Json;
}

function validate<T>(read: () => T): Validated<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, message: error.message };
    throw error;
  }
}

/** The fields allocate and release share: who asks, and which pod attachment. */
function readPodFields(b: Json, netnsRule: StringRule) {
  return {
    protocolVersion: readProtocolVersion(b),
    clientVersion: readString(b, "clientVersion", rules.clientVersion),
    podNamespace: readString(b, "podNamespace", rules.podNamespace),
    podName: readString(b, "podName", rules.podName),
    podUid: readString(b, "podUid", rules.podUid),
    infraContainerId: readString(b, "infraContainerId", rules.infraContainerId),
    containerId: readString(b, "containerId", rules.containerId),
    ifName: readString(b, "ifName", rules.ifName),
    networkName: readString(b, "networkName", rules.networkName),
    netns: readString(b, "netns", netnsRule),
  };
}

/** Checks a decoded allocate body; the version gate is separate (`checkClientVersion`). */
export function validateAllocateRequest(body: unknown): Validated<AllocateRequest> {
  return validate(() => {
    const b = asObject(body);
    return { ...readPodFields(b, rules.netns), requiresMultiNicAttachment: readBoolean(b, "requiresMultiNicAttachment") };
  });
}

/** At most this many valid attachments in one GC (a node runs a few hundred pods at most). */
export const MAX_GC_ATTACHMENTS = 1000;

export function validateGcRequest(body: unknown): Validated<GcRequest> {
  return validate(() => {
    const b = asObject(body);
    const list = b.validAttachments;
    if (!Array.isArray(list)) throw new Invalid(`validAttachments must be an array, not ${describe(list)}`);
    if (list.length > MAX_GC_ATTACHMENTS) throw new Invalid(`validAttachments has ${list.length} entries; at most ${MAX_GC_ATTACHMENTS} allowed`);
    return {
      protocolVersion: readProtocolVersion(b),
      clientVersion: readString(b, "clientVersion", rules.clientVersion),
      networkName: readString(b, "networkName", rules.networkName),
      validAttachments: list.map((entry: unknown) => {
        const e = asObject(entry);
        return { containerId: readString(e, "containerId", rules.containerId), ifName: readString(e, "ifName", rules.ifName) };
      }),
    };
  });
}

export function validateReleaseRequest(body: unknown): Validated<ReleaseRequest> {
  return validate(() => {
    const b = asObject(body);
    return { ...readPodFields(b, rules.releaseNetns), reason: readString(b, "reason", rules.reason) };
  });
}

// ---------------------------------------------------------------------------------------------------
// Reply decoding, for the client. Fields a newer agent adds are ignored; fields an older agent lacks
// (beyond the first version's) get their zero value.

function readReplyInt(b: Json, key: string, fallback?: number): number {
  const value = b[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new Invalid(`reply field ${key} must be a whole number, not ${describe(value)}`);
  return value;
}

function readReplyString(b: Json, key: string, fallback?: string): string {
  const value = b[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string") throw new Invalid(`reply field ${key} must be a string, not ${describe(value)}`);
  return value;
}

function readReplyBoolean(b: Json, key: string, fallback?: boolean): boolean {
  const value = b[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "boolean") throw new Invalid(`reply field ${key} must be a boolean, not ${describe(value)}`);
  return value;
}

function readReplyStrings(b: Json, key: string, fallback?: readonly string[]): readonly string[] {
  const value = b[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new Invalid(`reply field ${key} must be an array of strings`);
  return value as string[];
}

function readReplyAddresses(b: Json, field = "addresses"): readonly PodAddress[] {
  const value = b[field];
  if (!Array.isArray(value)) throw new Invalid(`reply field ${field} must be an array, not ${describe(value)}`);
  return value.map((entry: unknown) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Invalid(`reply field ${field} must hold objects`);
    const a = entry as Json;
    return {
      ipv4Addr: readReplyString(a, "ipv4Addr", ""),
      ipv6Addr: readReplyString(a, "ipv6Addr", ""),
      deviceNumber: readReplyInt(a, "deviceNumber"),
      routeTableId: readReplyInt(a, "routeTableId"),
    };
  });
}

function readReplySuccess(b: Json): true {
  if (b.success !== true) throw new Invalid(`reply field success must be true, not ${describe(b.success)}`);
  return true;
}

export function decodeAllocateReply(body: unknown): Validated<AllocateReply> {
  return validate(() => {
    const b = asObject(body);
    return {
      protocolVersion: readReplyInt(b, "protocolVersion"),
      success: readReplySuccess(b),
      addresses: readReplyAddresses(b),
      useExternalSnat: readReplyBoolean(b, "useExternalSnat"),
      vpcV4Cidrs: readReplyStrings(b, "vpcV4Cidrs"),
      vpcV6Cidrs: readReplyStrings(b, "vpcV6Cidrs", []),
      podVlanId: readReplyInt(b, "podVlanId", 0),
      podEniMac: readReplyString(b, "podEniMac", ""),
      podEniSubnetGw: readReplyString(b, "podEniSubnetGw", ""),
      parentIfIndex: readReplyInt(b, "parentIfIndex", 0),
      networkPolicyMode: readReplyString(b, "networkPolicyMode", ""),
    };
  });
}

export function decodeReleaseReply(body: unknown): Validated<ReleaseReply> {
  return validate(() => {
    const b = asObject(body);
    return {
      protocolVersion: readReplyInt(b, "protocolVersion"),
      success: readReplySuccess(b),
      addresses: readReplyAddresses(b),
      podVlanId: readReplyInt(b, "podVlanId", 0),
      networkPolicyMode: readReplyString(b, "networkPolicyMode", ""),
    };
  });
}

export function decodeGcReply(body: unknown): Validated<GcReply> {
  return validate(() => {
    const b = asObject(body);
    return { protocolVersion: readReplyInt(b, "protocolVersion"), success: readReplySuccess(b), released: readReplyAddresses(b, "released") };
  });
}

export function decodeHealthReply(body: unknown): Validated<HealthReply> {
  return validate(() => {
    const b = asObject(body);
    const status = readReplyString(b, "status");
    if (status !== "serving" && status !== "not-serving") throw new Invalid(`reply field status ${JSON.stringify(status)} is unknown`);
    return {
      protocolVersion: readReplyInt(b, "protocolVersion"),
      minProtocolVersion: readReplyInt(b, "minProtocolVersion", 1),
      agentVersion: readReplyString(b, "agentVersion", ""),
      status,
      detail: readReplyString(b, "detail", ""),
    };
  });
}

export function decodeErrorReply(body: unknown): Validated<ErrorReply> {
  return validate(() => {
    const b = asObject(body);
    const error = b.error;
    if (typeof error !== "object" || error === null || Array.isArray(error)) throw new Invalid("reply has no error object");
    const e = error as Json;
    const code = readReplyString(e, "code");
    // An error code from a newer agent is not understood; it is still an error, reported as internal.
    const known = (RPC_ERROR_CODES as readonly string[]).includes(code) ? (code as RpcErrorCode) : "internal";
    return { protocolVersion: readReplyInt(b, "protocolVersion", 0), error: { code: known, message: readReplyString(e, "message", code) } };
  });
}
