// Kubernetes' error model: every failure of the API server is a `Status` object (kind Status,
// apiVersion v1) with an HTTP code, a machine-readable reason and, for some, details and causes.
// The messages follow k8s.io/apimachinery/pkg/api/errors word for word where clients or people
// match on them (kubectl prints them as they come).

export interface StatusCause {
  reason?: string; // FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never> | { resourceVersion?: string; continue?: string };
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A group and resource as errors name them: "pods", "deployments.apps". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualifiedResource(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** An API failure, carrying the Status the client receives. */
export class KubeError extends Error {
  readonly status: Status;
  constructor(status: Omit<Status, "kind" | "apiVersion" | "metadata" | "status"> & { metadata?: Status["metadata"] }) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = "KubeError";
    // Field order as kube-apiserver writes a Status.
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: status.metadata ?? {},
      status: "Failure",
      ...(status.message !== undefined ? { message: status.message } : {}),
      ...(status.reason !== undefined ? { reason: status.reason } : {}),
      ...(status.details !== undefined ? { details: status.details } : {}),
      code: status.code,
    };
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

function details(gr: GroupResource, name: string | undefined): StatusDetails {
  return { ...(name ? { name } : {}), ...(gr.group ? { group: gr.group } : {}), kind: gr.resource };
}

export function notFound(gr: GroupResource, name: string): KubeError {
  return new KubeError({ code: 404, reason: "NotFound", message: `${qualifiedResource(gr)} "${name}" not found`, details: details(gr, name) });
}

/** A path or resource the server does not serve at all. */
export function noSuchResource(): KubeError {
  return new KubeError({ code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: {} });
}

export function alreadyExists(gr: GroupResource, name: string): KubeError {
  return new KubeError({ code: 409, reason: "AlreadyExists", message: `${qualifiedResource(gr)} "${name}" already exists`, details: details(gr, name) });
}

export function conflict(gr: GroupResource, name: string, why: string): KubeError {
  return new KubeError({ code: 409, reason: "Conflict", message: `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, details: details(gr, name) });
}

export const STALE_OBJECT = "the object has been modified; please apply your changes to the latest version and try again";

export interface FieldError {
  type: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate" | "FieldValueTooLong" | "FieldValueTooMany" | "FieldValueTypeInvalid" | "FieldValueNotFound";
  field: string;
  /** What the cause's message says after the field, e.g. `Required value`, `Invalid value: "x": must be ...`. */
  detail: string;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "null";
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

// field.Error constructors, as validation code writes them.
export const fieldErrors = {
  required: (field: string, why = ""): FieldError => ({ type: "FieldValueRequired", field, detail: why ? `Required value: ${why}` : "Required value" }),
  invalid: (field: string, value: unknown, why: string): FieldError => ({ type: "FieldValueInvalid", field, detail: `Invalid value: ${renderValue(value)}: ${why}` }),
  notSupported: (field: string, value: unknown, allowed: readonly string[]): FieldError => ({
    type: "FieldValueNotSupported",
    field,
    detail: `Unsupported value: ${renderValue(value)}: supported values: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
  }),
  forbidden: (field: string, why: string): FieldError => ({ type: "FieldValueForbidden", field, detail: `Forbidden: ${why}` }),
  notFound: (field: string, value: unknown): FieldError => ({ type: "FieldValueNotFound", field, detail: `Not found: ${renderValue(value)}` }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: "FieldValueDuplicate", field, detail: `Duplicate value: ${renderValue(value)}` }),
  tooLong: (field: string, max: number): FieldError => ({ type: "FieldValueTooLong", field, detail: `Too long: must have at most ${max} bytes` }),
  typeInvalid: (field: string, value: unknown, why: string): FieldError => ({ type: "FieldValueTypeInvalid", field, detail: `Invalid value: ${renderValue(value)}: ${why}` }),
};

/** 422: `Pod "x" is invalid: spec.containers[0].image: Required value` (several: in brackets). */
export function invalid(group: string, kind: string, name: string, errors: readonly FieldError[]): KubeError {
  const rendered = errors.map((e) => `${e.field}: ${e.detail}`);
  const qualifiedKind = group === "" ? kind : `${kind}.${group}`;
  const list = rendered.length === 1 ? rendered[0] : `[${rendered.join(", ")}]`;
  return new KubeError({
    code: 422,
    reason: "Invalid",
    message: `${qualifiedKind} "${name}" is invalid: ${list}`,
    details: {
      ...(name ? { name } : {}),
      ...(group ? { group } : {}),
      kind,
      causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
    },
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError({ code: 400, reason: "BadRequest", message });
}

export function unauthorized(): KubeError {
  return new KubeError({ code: 401, reason: "Unauthorized", message: "Unauthorized" });
}

/** 403 with the authorizer's wording (`User "x" cannot list resource "pods" ...`). */
export function forbidden(gr: GroupResource | undefined, name: string, why: string): KubeError {
  if (!gr) return new KubeError({ code: 403, reason: "Forbidden", message: `forbidden: ${why}`, details: {} });
  const subject = name ? `${qualifiedResource(gr)} "${name}"` : qualifiedResource(gr);
  return new KubeError({ code: 403, reason: "Forbidden", message: `${subject} is forbidden: ${why}`, details: details(gr, name) });
}

export function methodNotAllowed(): KubeError {
  return new KubeError({ code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource", details: {} });
}

export function notAcceptable(accepted: readonly string[]): KubeError {
  return new KubeError({ code: 406, reason: "NotAcceptable", message: `only the following media types are accepted: ${accepted.join(", ")}` });
}

export function unsupportedMediaType(contentType: string, accepted: readonly string[]): KubeError {
  return new KubeError({
    code: 415,
    reason: "UnsupportedMediaType",
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    details: contentType ? { causes: [{ message: `content type "${contentType}"` }] } : {},
  });
}

export function requestEntityTooLarge(limit: number): KubeError {
  return new KubeError({ code: 413, reason: "RequestEntityTooLarge", message: `Request entity too large: limit is ${limit}` });
}

/** 410 for a watch, list or continue token older than the history the server keeps. */
export function expired(message: string): KubeError {
  return new KubeError({ code: 410, reason: "Expired", message });
}

export function tooLargeResourceVersion(requested: number, current: number): KubeError {
  return new KubeError({
    code: 504,
    reason: "Timeout",
    message: `Too large resource version: ${requested}, current: ${current}`,
    details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
  });
}

export function internalError(why: string): KubeError {
  return new KubeError({ code: 500, reason: "InternalError", message: `Internal error occurred: ${why}`, details: { causes: [{ message: why }] } });
}

export function serviceUnavailable(why: string): KubeError {
  return new KubeError({ code: 503, reason: "ServiceUnavailable", message: why });
}

export function success(details?: StatusDetails): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", ...(details ? { details } : {}), code: 200 };
}

/** Anything thrown inside the server as a Status (a bug becomes a 500, not a dropped connection). */
export function asKubeError(err: unknown): KubeError {
  if (err instanceof KubeError) return err;
  return internalError((err as Error)?.message ?? String(err));
}
