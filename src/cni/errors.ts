// The CNI error result (spec §5 "Error"): what a plugin prints on stdout, with a non-zero exit,
// when it fails. Runtimes show `msg` to the user (podman prints it verbatim), so messages name
// the offending variable or field.

/** Well-known codes (SPEC.md "Well-known Error Codes"; 8, 50, 51 and 999 as libcni's types.go). */
export const ErrorCode = {
  /** Incompatible CNI version. */
  IncompatibleVersion: 1,
  /** Unsupported field in network configuration; msg must contain the key and value. */
  UnsupportedField: 2,
  /** Container unknown or does not exist: the runtime need not clean up. */
  UnknownContainer: 3,
  /** Invalid necessary environment variables; msg must name them. */
  InvalidEnvironment: 4,
  /** I/O failure, e.g. reading stdin. */
  IoFailure: 5,
  /** Failed to decode content, e.g. stdin is not JSON. */
  DecodingFailure: 6,
  /** Invalid network configuration. */
  InvalidNetworkConfig: 7,
  /** Invalid network namespace (libcni's ErrInvalidNetNS; not in SPEC.md's table). */
  InvalidNetNS: 8,
  /** Try again later: a transient condition. */
  TryAgainLater: 11,
  /** STATUS (1.1.0): the plugin cannot service ADD. */
  PluginNotAvailable: 50,
  /** STATUS (1.1.0): not available, and existing containers may have limited connectivity. */
  LimitedConnectivity: 51,
  /** libcni's ErrInternal: what skel reports for an error that carries no CNI code. */
  Internal: 999,
} as const;

/** The spec's error object, exactly as printed. `details` is omitted when empty. */
export type CniErrorObject = {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
};

/** A failure that maps onto one CNI error code. Handlers throw it to choose the code. */
export class CniError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = "") {
    super(msg);
    this.name = "CniError";
    if (!Number.isInteger(code) || code < 1) throw new RangeError(`CNI error code must be a positive integer, got ${code}`);
    this.code = code;
    this.details = details;
  }

  /** The object to print, labelled with the request's version (spec: "the same value as provided by the configuration"). */
  toObject(cniVersion: string): CniErrorObject {
    const out: CniErrorObject = { cniVersion, code: this.code, msg: this.message };
    if (this.details !== "") out.details = this.details;
    return out;
  }
}

/** Any thrown value as a CniError: a non-CNI error becomes code 999 (libcni's ErrInternal) with its message. */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof Error) return new CniError(ErrorCode.Internal, err.message || err.name);
  return new CniError(ErrorCode.Internal, String(err));
}

/** STATUS answer: cannot service ADD now (code 50). */
export function pluginNotAvailable(msg: string, details = ""): CniError {
  return new CniError(ErrorCode.PluginNotAvailable, msg, details);
}

/** STATUS answer: not available and existing containers may be affected (code 51). */
export function limitedConnectivity(msg: string, details = ""): CniError {
  return new CniError(ErrorCode.LimitedConnectivity, msg, details);
}

/** Transient failure the runtime should retry (code 11). */
export function tryAgainLater(msg: string, details = ""): CniError {
  return new CniError(ErrorCode.TryAgainLater, msg, details);
}
