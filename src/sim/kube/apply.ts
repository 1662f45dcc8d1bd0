// Applying manifests the way `kubectl apply` does, in process: each object is created if it does
// not exist (with the `kubectl.kubernetes.io/last-applied-configuration` annotation kubectl
// writes), else patched with a JSON merge patch from the last applied configuration to the new
// one, so fields the manifest dropped are removed and fields others set are kept. vpcsim applies
// deploy/ with it at cluster start; the RBAC in those manifests is then what the agent may do.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { deepEqual, isPlainObject, type KObject } from "./objects.ts";
import type { KubeClient } from "./api/client.ts";
import { resourceKey } from "./registry/resource-type.ts";
import { KubeError } from "./status.ts";

export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** The objects of a YAML file or of every *.yaml/*.yml/*.json file of a directory (not subdirectories), in name order. */
export function loadManifests(path: string): KObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .sort()
        .map((f) => join(path, f))
        .filter((f) => statSync(f).isFile())
    : [path];
  return files.flatMap((file) => parseManifests(readFileSync(file, "utf8"), file));
}

/** The objects of a (multi-document) YAML or JSON text; `source` names it in errors. */
export function parseManifests(text: string, source: string): KObject[] {
  const objects: KObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (!isPlainObject(value) || typeof value.apiVersion !== "string" || typeof value.kind !== "string") throw new Error(`${source}: a document is not a Kubernetes object (apiVersion and kind are required)`);
    if (value.kind === "List" && Array.isArray(value.items)) objects.push(...(value.items as KObject[]));
    else objects.push(value as KObject);
  }
  return objects;
}

/** RFC 7386 diff: the merge patch that turns `from` into `to` (removed fields become null). */
export function mergePatchBetween(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (deepEqual(from[key], value)) continue;
    patch[key] = isPlainObject(value) && isPlainObject(from[key]) ? mergePatchBetween(from[key], value) : value;
  }
  return patch;
}

function withLastApplied(object: KObject): KObject {
  const { status: _status, ...manifest } = object;
  const annotations = { ...(object.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  const recorded = { ...manifest, metadata: { ...manifest.metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete (recorded.metadata as { annotations?: unknown }).annotations;
  return { ...object, metadata: { ...object.metadata, annotations: { ...annotations, [LAST_APPLIED]: JSON.stringify(recorded) } } };
}

export interface AppliedObject {
  kind: string;
  name: string;
  namespace?: string;
  action: "created" | "configured" | "unchanged";
}

/** Applies the objects in order; a CustomResourceDefinition is served by the time the next object is applied. */
export async function applyObjects(client: KubeClient, objects: KObject[]): Promise<AppliedObject[]> {
  const results: AppliedObject[] = [];
  for (const raw of objects) {
    const object = withLastApplied(structuredClone(raw));
    const type = client.typeOf(object);
    const namespace = type.namespaced ? (object.metadata.namespace ?? "default") : "";
    if (type.namespaced) object.metadata.namespace = namespace;
    const name = object.metadata.name ?? "";
    const record = { kind: object.kind, name, ...(namespace ? { namespace } : {}) };
    const live = name ? await client.find(resourceKey(type), name, namespace) : undefined;
    if (!live) {
      await client.create(object);
      results.push({ ...record, action: "created" });
      continue;
    }
    const previous = live.metadata.annotations?.[LAST_APPLIED];
    let original: unknown = {};
    try {
      original = previous ? JSON.parse(previous) : {};
    } catch {
      original = {};
    }
    const patch = mergePatchBetween(original, object) as Record<string, unknown>;
    if (Object.keys(patch).length === 0) {
      results.push({ ...record, action: "unchanged" });
      continue;
    }
    try {
      const before = live.metadata.resourceVersion;
      const after = await client.patch(resourceKey(type), name, namespace, patch, "merge");
      results.push({ ...record, action: after.metadata.resourceVersion === before ? "unchanged" : "configured" });
    } catch (err) {
      if (err instanceof KubeError) throw new KubeError({ ...err.status, message: `${object.kind} ${namespace ? `${namespace}/` : ""}${name}: ${err.message}` });
      throw err;
    }
  }
  return results;
}
