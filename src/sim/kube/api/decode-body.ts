// A request body as an object of the endpoint's kind: apiVersion and kind checked (or filled in
// when left out, as Kubernetes' decoder defaults them from the URL), then decoded against the
// kind's schema with the request's fieldValidation: unknown fields dropped and, by the mode,
// ignored, warned about (`unknown field "spec.foo"`) or refused (400, strict decoding error).

import { isPlainObject, type KObject } from "../objects.ts";
import { apiVersionOf, type ResourceType } from "../registry/resource-type.ts";
import { decodeWithSchema } from "../schema/decode.ts";
import { badRequest } from "../status.ts";
import type { RequestContext } from "../request-context.ts";

/** The kind an object is sent as: the endpoint's for the main resource, else the subresource's. */
export interface ExpectedKind {
  apiVersion: string;
  kind: string;
}

export function decodeBody(type: ResourceType, body: unknown, ctx: RequestContext, expected: ExpectedKind = { apiVersion: apiVersionOf(type), kind: type.kind }): KObject {
  const cannot = (why: string) => badRequest(`${expected.kind} in version "${expected.apiVersion.split("/").pop()}" cannot be handled as a ${expected.kind}: ${why}`);
  if (!isPlainObject(body)) {
    const got = body === null ? "null" : Array.isArray(body) ? "array" : typeof body;
    throw badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${got} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== expected.apiVersion) {
    if (typeof body.apiVersion !== "string") throw cannot(`json: cannot unmarshal ${typeof body.apiVersion} into Go struct field .apiVersion of type string`);
    throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${expected.apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== expected.kind) {
    if (typeof body.kind !== "string") throw cannot(`json: cannot unmarshal ${typeof body.kind} into Go struct field .kind of type string`);
    throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${expected.kind})`);
  }
  if (body.metadata !== undefined && body.metadata !== null && !isPlainObject(body.metadata)) {
    throw cannot(`json: cannot unmarshal ${Array.isArray(body.metadata) ? "array" : typeof body.metadata} into Go struct field ${expected.kind}.metadata of type v1.ObjectMeta`);
  }
  let value: Record<string, unknown> = body;
  if (expected.kind === type.kind && type.schema) {
    const result = decodeWithSchema(body, type.schema, { checkTypes: !type.custom });
    if (result.typeError) throw cannot(result.typeError);
    const mode = ctx.fieldValidation ?? "Warn";
    if (result.unknownFields.length > 0 && mode !== "Ignore") {
      const rendered = result.unknownFields.map((f) => `unknown field "${f}"`);
      if (mode === "Strict") throw cannot(`strict decoding error: ${rendered.join(", ")}`);
      ctx.warnings.push(...rendered);
    }
    value = result.value as Record<string, unknown>;
  }
  return { ...value, apiVersion: expected.apiVersion, kind: expected.kind, metadata: { ...(isPlainObject(value.metadata) ? value.metadata : {}) } } as KObject;
}
