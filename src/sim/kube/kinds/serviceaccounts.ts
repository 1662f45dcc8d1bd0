// ServiceAccounts and their `token` subresource (TokenRequest, authentication.k8s.io/v1): a bound
// token for the account, with its audiences and expiry, optionally bound to a pod, secret or node
// so that it stops working when that object goes. Kubelets get their pods' tokens this way.

import { formatTime, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { badRequest, conflict, fieldErrors, invalid, notFound, type FieldError } from "../status.ts";
import { decodeBody } from "../api/decode-body.ts";
import type { BoundObject, ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import type { ResourceType, SubresourceCall, SubresourceHandler } from "../registry/resource-type.ts";
import { serviceAccountSchema } from "../schema/core.ts";

const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;
const BOUND_KINDS = ["Pod", "Secret", "Node"];

function lookupBound(call: SubresourceCall, ref: Record<string, unknown>): KObject {
  const key = ref.kind === "Pod" ? "v1/pods" : ref.kind === "Secret" ? "v1/secrets" : "v1/nodes";
  const namespace = ref.kind === "Node" ? "" : call.namespace;
  const object = call.api.read(key, namespace, String(ref.name));
  if (!object) throw notFound({ group: "", resource: key.slice(3) }, String(ref.name));
  if (typeof ref.uid === "string" && ref.uid !== "" && ref.uid !== object.metadata.uid) {
    throw conflict({ group: "", resource: key.slice(3) }, String(ref.name), `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return object;
}

async function requestToken(call: SubresourceCall, body: unknown, tokens: ServiceAccountTokens): Promise<{ code: number; body: KObject }> {
  const request = decodeBody(call.type, body, call.ctx, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest" });
  const spec = isPlainObject(request.spec) ? request.spec : {};
  const errors: FieldError[] = [];
  const expirationSeconds = spec.expirationSeconds === undefined ? DEFAULT_EXPIRATION_SECONDS : spec.expirationSeconds;
  if (typeof expirationSeconds !== "number" || !Number.isInteger(expirationSeconds)) errors.push(fieldErrors.invalid("spec.expirationSeconds", expirationSeconds, "must be an integer"));
  else if (expirationSeconds < MIN_EXPIRATION_SECONDS) errors.push(fieldErrors.invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes"));
  else if (expirationSeconds > MAX_EXPIRATION_SECONDS) errors.push(fieldErrors.invalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 2^32 seconds"));
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : tokens.audiences;
  const ref = spec.boundObjectRef;
  if (ref !== undefined) {
    if (!isPlainObject(ref)) errors.push(fieldErrors.invalid("spec.boundObjectRef", ref, "must be an object"));
    else {
      if (!BOUND_KINDS.includes(String(ref.kind))) errors.push(fieldErrors.notSupported("spec.boundObjectRef.kind", ref.kind ?? "", BOUND_KINDS));
      if (typeof ref.name !== "string" || ref.name === "") errors.push(fieldErrors.required("spec.boundObjectRef.name"));
    }
  }
  if (errors.length > 0) throw invalid("authentication.k8s.io", "TokenRequest", call.name, errors);
  const account = await call.api.get(call.ctx, call.type, call.namespace, call.name);
  let bound: BoundObject | undefined;
  let node: { name: string; uid: string } | undefined;
  if (isPlainObject(ref)) {
    const object = lookupBound(call, ref);
    bound = { kind: ref.kind as BoundObject["kind"], name: object.metadata.name!, uid: object.metadata.uid! };
    if (ref.kind === "Pod") {
      const podSpec = isPlainObject(object.spec) ? object.spec : {};
      if ((podSpec.serviceAccountName ?? "default") !== call.name) {
        throw badRequest(`cannot bind token for serviceaccount "${call.name}" to pod running with different serviceaccount name.`);
      }
      if (typeof podSpec.nodeName === "string" && podSpec.nodeName !== "") {
        const n = call.api.read("v1/nodes", "", podSpec.nodeName);
        if (n) node = { name: n.metadata.name!, uid: n.metadata.uid! };
      }
    }
  }
  await call.api.admit(call.ctx, "CREATE", call.type, "token", call.namespace, call.name, request, account);
  const now = call.api.now();
  const expiresAt = now + (expirationSeconds as number) * 1000;
  const token = call.ctx.dryRun
    ? ""
    : tokens.issue({ namespace: call.namespace, serviceAccount: { name: call.name, uid: account.metadata.uid! }, audiences, expiresAt, issuedAt: now, ...(bound ? { bound } : {}), ...(node ? { node } : {}) });
  return {
    code: 201,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: { name: call.name, namespace: call.namespace, creationTimestamp: formatTime(now) },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: formatTime(expiresAt) },
    },
  };
}

export function serviceAccountsType(tokens: ServiceAccountTokens): ResourceType {
  const token: SubresourceHandler = {
    kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
    verbs: ["create"],
    create: (call, body) => requestToken(call, body, tokens),
  };
  return defineType({
    group: "",
    version: "v1",
    resource: "serviceaccounts",
    kind: "ServiceAccount",
    namespaced: true,
    shortNames: ["sa"],
    schema: serviceAccountSchema,
    subresources: { token },
  });
}
