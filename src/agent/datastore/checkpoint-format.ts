// The reference's checkpoint format, `vpc-cni-ipam/1` (datastore.CheckpointData),
// encoded byte for byte as Go's json.Encoder writes it and decoded as leniently
// as Go's json.Decoder reads it, so that a node can switch between aws-node and
// this agent in either direction with its pods running.
//
// allocationTimestamp is a Go int64 of unix nanoseconds: 19 digits today, past
// Number's 2^53, so it is carried as a bigint end to end and never goes
// through a float.

export const CHECKPOINT_VERSION = "vpc-cni-ipam/1";

export interface CheckpointMetadata {
  k8sPodNamespace?: string;
  k8sPodName?: string;
  interfacesCount?: number;
}

export interface CheckpointEntry {
  networkName: string;
  containerID: string;
  ifName: string;
  ipv4?: string;
  ipv6?: string;
  /** Unix nanoseconds (Go int64). */
  allocationTimestamp: bigint;
  metadata: CheckpointMetadata;
}

export interface CheckpointData {
  version: string;
  allocations: CheckpointEntry[];
}

/** The file exists but cannot be read as a checkpoint; names the file and the offending place. */
export class CheckpointFormatError extends Error {
  override name = "CheckpointFormatError";
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------- encoding

const HEX = "0123456789abcdef";

/**
 * A JSON string as Go's encoder writes it with HTML escaping on (the default
 * for json.NewEncoder): `<`, `>`, `&`, U+2028 and U+2029 are escaped, control
 * characters use \b \f \n \r \t (Go >= 1.22) or \u00XX, and a lone surrogate
 * (which Go would have seen as invalid UTF-8) becomes \ufffd.
 */
export function goJsonString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) {
      if (ch === '"' || ch === "\\") out += "\\" + ch;
      else if (ch === "\b") out += "\\b";
      else if (ch === "\f") out += "\\f";
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (cp < 0x20 || ch === "<" || ch === ">" || ch === "&") out += "\\u00" + HEX[cp >> 4] + HEX[cp & 0xf];
      else out += ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      out += "\\ufffd";
    } else if (cp === 0x2028 || cp === 0x2029) {
      out += "\\u" + cp.toString(16);
    } else {
      out += ch;
    }
  }
  return out + '"';
}

function encodeMetadata(m: CheckpointMetadata): string {
  // Every metadata field is `omitempty` in the reference; the object itself is not.
  const fields: string[] = [];
  if (m.k8sPodNamespace) fields.push(`"k8sPodNamespace":${goJsonString(m.k8sPodNamespace)}`);
  if (m.k8sPodName) fields.push(`"k8sPodName":${goJsonString(m.k8sPodName)}`);
  if (m.interfacesCount) fields.push(`"interfacesCount":${m.interfacesCount}`);
  return `{${fields.join(",")}}`;
}

function encodeEntry(e: CheckpointEntry): string {
  // Field order is the Go struct's: the embedded IPAMKey first.
  let out = `{"networkName":${goJsonString(e.networkName)},"containerID":${goJsonString(e.containerID)},"ifName":${goJsonString(e.ifName)}`;
  if (e.ipv4) out += `,"ipv4":${goJsonString(e.ipv4)}`;
  if (e.ipv6) out += `,"ipv6":${goJsonString(e.ipv6)}`;
  out += `,"allocationTimestamp":${e.allocationTimestamp.toString()},"metadata":${encodeMetadata(e.metadata)}}`;
  return out;
}

/** The exact bytes json.NewEncoder(f).Encode(&data) writes, trailing newline included. */
export function encodeCheckpoint(data: CheckpointData): string {
  return `{"version":${goJsonString(data.version)},"allocations":[${data.allocations.map(encodeEntry).join(",")}]}\n`;
}

// ---------------------------------------------------------------- decoding

/** A JSON number kept as its source text, so that int64s survive parsing. */
class RawNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

type Json = null | boolean | string | RawNumber | Json[] | { [key: string]: Json };

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RawNumber);
}

function describe(v: Json): string {
  if (v === null) return "null";
  if (v instanceof RawNumber) return `number ${v.source}`;
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v;
}

/**
 * Parses checkpoint text. Like Go's decoder it ignores unknown fields and
 * treats null as the zero value; unlike JSON.parse it keeps integers exact.
 * Anything else that Go would refuse (wrong types, non-integer or out-of-range
 * int64s, a non-object top level) is a CheckpointFormatError naming `source`.
 * The version is not checked here: that is the caller's decision.
 */
export function decodeCheckpoint(text: string, source = "checkpoint"): CheckpointData {
  let root: Json;
  try {
    // The reviver's third argument (JSON.parse source text access) carries the
    // literal digits of every number.
    root = JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === "number" ? new RawNumber(context?.source ?? String(value)) : value,
    ) as Json;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CheckpointFormatError(`${source}: not valid JSON (truncated or corrupt?): ${reason}`);
  }
  const fail = (where: string, what: string): never => {
    throw new CheckpointFormatError(`${source}: ${where}: ${what}`);
  };
  const str = (obj: { [key: string]: Json }, field: string, where: string): string => {
    const v = obj[field];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") return fail(`${where}.${field}`, `expected a string, found ${describe(v)}`);
    return v;
  };
  const int = (obj: { [key: string]: Json }, field: string, where: string, min: bigint, max: bigint): bigint => {
    const v = obj[field];
    if (v === undefined || v === null) return 0n;
    if (!(v instanceof RawNumber)) return fail(`${where}.${field}`, `expected an integer, found ${describe(v)}`);
    if (!/^-?[0-9]+$/.test(v.source)) return fail(`${where}.${field}`, `expected an integer, found ${v.source}`);
    const n = BigInt(v.source);
    if (n < min || n > max) return fail(`${where}.${field}`, `${v.source} is out of range`);
    return n;
  };

  if (!isObject(root)) return fail("top level", `expected an object, found ${describe(root)}`);
  const version = str(root, "version", "checkpoint");
  const list = root["allocations"];
  const allocations: CheckpointEntry[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) return fail("allocations", `expected an array, found ${describe(list)}`);
    list.forEach((item, i) => {
      const where = `allocations[${i}]`;
      if (!isObject(item)) return fail(where, `expected an object, found ${describe(item)}`);
      const metaJson = item["metadata"];
      let metadata: CheckpointMetadata = {};
      if (metaJson !== undefined && metaJson !== null) {
        if (!isObject(metaJson)) return fail(`${where}.metadata`, `expected an object, found ${describe(metaJson)}`);
        const mw = `${where}.metadata`;
        metadata = {};
        const ns = str(metaJson, "k8sPodNamespace", mw);
        const name = str(metaJson, "k8sPodName", mw);
        // Go's `int` is 64-bit on the platforms aws-node runs on; a sane count fits a Number.
        const count = int(metaJson, "interfacesCount", mw, BigInt(Number.MIN_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER));
        if (ns) metadata.k8sPodNamespace = ns;
        if (name) metadata.k8sPodName = name;
        if (count !== 0n) metadata.interfacesCount = Number(count);
      }
      const entry: CheckpointEntry = {
        networkName: str(item, "networkName", where),
        containerID: str(item, "containerID", where),
        ifName: str(item, "ifName", where),
        allocationTimestamp: int(item, "allocationTimestamp", where, INT64_MIN, INT64_MAX),
        metadata,
      };
      const ipv4 = str(item, "ipv4", where);
      const ipv6 = str(item, "ipv6", where);
      if (ipv4) entry.ipv4 = ipv4;
      if (ipv6) entry.ipv6 = ipv6;
      allocations.push(entry);
    });
  }
  return { version, allocations };
}
