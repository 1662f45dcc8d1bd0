// Errors of the AWS layer. Every failure leaves it as an AwsApiError that carries the EC2 error
// code (or a code of ours for failures that never reached EC2), so callers decide on codes, never on
// message text.

export class AwsApiError extends Error {
  override readonly name = "AwsApiError";
  /** EC2's error code ("InvalidNetworkInterfaceID.NotFound", "RequestLimitExceeded", ...), or one of ours. */
  readonly code: string;
  /** The EC2 action ("" when the failure is not one request's). */
  readonly api: string;
  /** The AWS-layer function that failed ("allocEni", "freeEni", ...). */
  readonly fn: string;
  readonly httpStatus: number | undefined;

  constructor(fields: { code: string; api: string; fn: string; message: string; httpStatus?: number | undefined; cause?: unknown }) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code;
    this.api = fields.api;
    this.fn = fields.fn;
    this.httpStatus = fields.httpStatus;
  }
}

/** Codes of our own, for failures EC2 did not answer with a code. */
export const CODES = {
  budgetWait: "BudgetWaitExceeded", // the request budget would have made the call wait too long
  network: "NetworkError", // no HTTP answer (connection refused/reset, DNS)
  timeout: "RequestTimeout", // no answer within the request timeout
  unknown: "UnknownError",
  eniNotInImds: "EniNotInImds",
  detachTimeout: "DetachTimeout",
  noFreeDeviceIndex: "NoFreeDeviceIndex",
  imds: "ImdsError",
} as const;

const THROTTLE_CODES: ReadonlySet<string> = new Set(["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"]);
const INSUFFICIENT_ADDRESS_CODES: ReadonlySet<string> = new Set(["InsufficientFreeAddressesInSubnet", "InsufficientCidrBlocks"]);
const SERVER_CODES: ReadonlySet<string> = new Set(["InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"]);
const NETWORK_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);

export function isThrottle(code: string): boolean {
  return THROTTLE_CODES.has(code);
}

export function isInsufficientAddresses(code: string): boolean {
  return INSUFFICIENT_ADDRESS_CODES.has(code);
}

/** "InvalidNetworkInterfaceID.NotFound", "InvalidAttachmentID.NotFound", ... */
export function isNotFound(code: string): boolean {
  return code.endsWith(".NotFound");
}

/** Worth another try of the same request: throttled, a server-side failure, or no answer at all. */
export function isTransient(code: string, httpStatus?: number): boolean {
  return isThrottle(code) || SERVER_CODES.has(code) || code === CODES.network || code === CODES.timeout || (httpStatus !== undefined && httpStatus >= 500);
}

/** Never worth retrying with a backoff: the caller lacks permission or the request is malformed. */
export function isPermanent(code: string): boolean {
  return code === "UnauthorizedOperation" || code === "AuthFailure" || code === "MissingParameter" || code === "InvalidParameterCombination" || code === "InvalidAction";
}

/** The code and HTTP status of anything the SDK (or the network under it) throws. */
export function describeError(err: unknown): { code: string; httpStatus: number | undefined; message: string } {
  if (err instanceof AwsApiError) return { code: err.code, httpStatus: err.httpStatus, message: err.message };
  const e = err as { name?: unknown; code?: unknown; Code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  const message = typeof e?.message === "string" ? e.message : String(err);
  const httpStatus = e?.$metadata?.httpStatusCode;
  // Node's socket errors carry a `code` (ECONNRESET); the SDK's service errors are named by their code.
  if (typeof e?.code === "string" && NETWORK_CODES.has(e.code)) return { code: e.code === "ETIMEDOUT" ? CODES.timeout : CODES.network, httpStatus, message };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return { code: CODES.timeout, httpStatus, message };
  if (typeof e?.Code === "string" && e.Code !== "") return { code: e.Code, httpStatus, message };
  if (typeof e?.name === "string" && e.name !== "" && e.name !== "Error" && e.name !== "TypeError") return { code: e.name, httpStatus, message };
  return { code: CODES.unknown, httpStatus, message };
}

/** The EC2 code of any error (ours or the SDK's). */
export function errorCode(err: unknown): string {
  return describeError(err).code;
}

/** Wraps anything thrown into an AwsApiError naming the function (keeps an AwsApiError's code and api). */
export function asAwsError(err: unknown, fn: string, api = ""): AwsApiError {
  if (err instanceof AwsApiError) {
    if (err.fn === fn) return err;
    return new AwsApiError({ code: err.code, api: err.api, fn, httpStatus: err.httpStatus, message: `${fn}: ${err.message}`, cause: err });
  }
  const d = describeError(err);
  return new AwsApiError({ code: d.code, api, fn, httpStatus: d.httpStatus, message: `${fn}: ${api ? api + ": " : ""}${d.code}: ${d.message}`, cause: err });
}
