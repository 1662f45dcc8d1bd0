// The scale subresource (autoscaling/v1 Scale) of workloads and of custom resources whose CRD
// declares one: a view of spec.replicas, status.replicas and the label selector, written back to
// the object's spec.replicas (`kubectl scale` patches it).

import { deepClone, isPlainObject, valueAt, type KObject } from "../objects.ts";
import type { ResourceType, SubresourceCall, SubresourceHandler, WriteResult } from "../registry/resource-type.ts";
import { labelSelectorFromObject, formatLabelSelector } from "../selectors/labels.ts";
import { conflict, fieldErrors, invalid, KubeError, STALE_OBJECT, unsupportedMediaType } from "../status.ts";
import { applyJsonPatch, parseJsonPatch, PatchError } from "../patch/json-patch.ts";
import { applyMergePatch } from "../patch/merge-patch.ts";
import { decodeBody } from "./decode-body.ts";
import { PATCH_TYPES } from "./kube-api.ts";

function scaleOf(type: ResourceType, object: KObject): KObject {
  const paths = type.scale!;
  const replicas = valueAt(object, paths.specReplicasPath);
  const statusReplicas = valueAt(object, paths.statusReplicasPath);
  let selector: string | undefined;
  if (paths.labelSelectorPath) {
    const raw = valueAt(object, paths.labelSelectorPath);
    if (typeof raw === "string") selector = raw;
    else if (isPlainObject(raw)) selector = formatLabelSelector(labelSelectorFromObject(raw).selector);
  }
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: typeof replicas === "number" ? replicas : 0 },
    status: { replicas: typeof statusReplicas === "number" ? statusReplicas : 0, ...(selector ? { selector } : {}) },
  };
}

function setAt(object: Record<string, unknown>, path: string[], value: unknown): void {
  let current = object;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(current[part])) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = value;
}

async function writeScale(call: SubresourceCall, scale: KObject, old: KObject): Promise<WriteResult> {
  const spec = isPlainObject(scale.spec) ? scale.spec : {};
  const replicas = spec.replicas ?? 0;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid("autoscaling", "Scale", call.name, [fieldErrors.invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
  }
  if (scale.metadata.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict({ group: call.type.group, resource: call.type.resource }, call.name, STALE_OBJECT);
  const next = deepClone(old);
  setAt(next, call.type.scale!.specReplicasPath, replicas);
  await call.api.admit(call.ctx, "UPDATE", call.type, "scale", call.namespace, call.name, next, old);
  return { code: 200, body: scaleOf(call.type, call.api.commit(call.ctx, call.type, next, old)) };
}

export const scaleSubresource: SubresourceHandler = {
  kind: { group: "autoscaling", version: "v1", kind: "Scale" },
  verbs: ["get", "patch", "update"],
  get: async (call) => scaleOf(call.type, await call.api.get(call.ctx, call.type, call.namespace, call.name)),
  update: async (call, body) => {
    const scale = decodeBody(call.type, body, call.ctx, { apiVersion: "autoscaling/v1", kind: "Scale" });
    return writeScale(call, scale, await call.api.get(call.ctx, call.type, call.namespace, call.name));
  },
  patch: async (call, patchType, patch) => {
    const old = await call.api.get(call.ctx, call.type, call.namespace, call.name);
    const current = scaleOf(call.type, old);
    let patched: unknown;
    try {
      if (patchType === PATCH_TYPES.json) patched = applyJsonPatch(current, parseJsonPatch(patch));
      else if (patchType === PATCH_TYPES.merge || patchType === PATCH_TYPES.strategic) patched = applyMergePatch(current, patch);
      else throw unsupportedMediaType(patchType, [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic]);
    } catch (err) {
      if (err instanceof PatchError) throw new KubeError({ code: 422, reason: "Invalid", message: err.message });
      throw err;
    }
    return writeScale(call, decodeBody(call.type, patched, call.ctx, { apiVersion: "autoscaling/v1", kind: "Scale" }), old);
  },
};
