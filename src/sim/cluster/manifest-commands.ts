// `vpcsim apply -f` and `vpcsim delete -f` as the daemon carries them out: each object applied
// with the in-process apply (create, or a merge patch from the last applied configuration, as
// kubectl apply does) or deleted (with kubectl's default background cascade, or the one asked),
// as kubernetes-admin (authorized, as an HTTP request from the admin would be). Like kubectl, an
// object that fails does not stop the others; each gets its line, in kubectl's words.

import { isPlainObject, splitApiVersion, type KObject } from "../kube/objects.ts";
import type { KubeClient } from "../kube/api/client.ts";
import { applyObjects } from "../kube/apply.ts";
import { resourceKey } from "../kube/registry/resource-type.ts";
import { KubeError } from "../kube/status.ts";

export interface ManifestResult {
  lines: string[];
  errors: string[];
}

/** kubectl's name of an object in its messages: kind.group/name ("deployment.apps/web", "pod/x"). */
function kubectlName(o: KObject): string {
  const { group } = splitApiVersion(o.apiVersion);
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ""}`;
}

function errorLine(err: unknown): string {
  if (err instanceof KubeError) return `Error from server (${err.reason || err.code}): ${err.message}`;
  return `error: ${(err as Error).message}`;
}

/** The objects of an admin request body, each checked to be a Kubernetes object. */
export function objectsOf(body: unknown): KObject[] {
  const objects = isPlainObject(body) ? body.objects : undefined;
  if (!Array.isArray(objects) || objects.length === 0) throw new Error("objects must be a non-empty list of Kubernetes objects");
  for (const o of objects) {
    if (!isPlainObject(o) || typeof o.apiVersion !== "string" || typeof o.kind !== "string" || !isPlainObject(o.metadata)) throw new Error("every object needs apiVersion, kind and metadata");
  }
  return objects as KObject[];
}

export async function applyManifestObjects(client: KubeClient, objects: KObject[]): Promise<ManifestResult> {
  const result: ManifestResult = { lines: [], errors: [] };
  for (const object of objects) {
    try {
      const [applied] = await applyObjects(client, [object]);
      result.lines.push(`${kubectlName(object)}/${applied!.name} ${applied!.action}`);
    } catch (err) {
      result.errors.push(errorLine(err));
    }
  }
  return result;
}

export type Cascade = "background" | "foreground" | "orphan";

export async function deleteManifestObjects(client: KubeClient, objects: KObject[], cascade: Cascade = "background"): Promise<ManifestResult> {
  const result: ManifestResult = { lines: [], errors: [] };
  const propagationPolicy = cascade === "orphan" ? "Orphan" : cascade === "foreground" ? "Foreground" : "Background";
  // In reverse, as kubectl deletes a file's objects: what depends on a CRD or a namespace goes first.
  for (const object of [...objects].reverse()) {
    try {
      const type = client.typeOf(object);
      const namespace = type.namespaced ? (object.metadata.namespace ?? "default") : "";
      const name = object.metadata.name;
      if (!name) throw new Error(`${object.kind}: metadata.name is required to delete it`);
      await client.delete(resourceKey(type), name, namespace, { propagationPolicy });
      result.lines.push(`${kubectlName(object)} "${name}" deleted`);
    } catch (err) {
      result.errors.push(errorLine(err));
    }
  }
  result.lines.reverse();
  return result;
}
