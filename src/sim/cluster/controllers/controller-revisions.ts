// A DaemonSet's ControllerRevisions, as kube-controller-manager keeps them: one per pod template,
// named <daemonset>-<controller-revision-hash>, owned by the DaemonSet, its data the strategic
// merge patch that restores the template (what `kubectl rollout undo` applies) and its revision
// one above the others' when its template becomes current again; revisions no pod runs any more
// are pruned beyond revisionHistoryLimit. `kubectl rollout history ds/NAME` lists them.

import { isPlainObject, type KObject } from "../../kube/objects.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import { KubeError } from "../../kube/status.ts";
import { isControlledBy, numberAt, ownerReferenceTo, specOf } from "./owners.ts";
import { ignoreGone } from "./replicaset-controller.ts";

export const CONTROLLER_REVISION_HASH = "controller-revision-hash";

/** Makes the current template's revision the newest and prunes old ones; returns the current revision number. */
export async function syncControllerRevisions(client: KubeClient, ds: KObject, hash: string, podHashes: Set<string>): Promise<number> {
  const namespace = ds.metadata.namespace!;
  const owned = (await client.list("apps/v1/controllerrevisions", { namespace })).items.filter((r) => isControlledBy(r, ds));
  const revisionOf = (r: KObject) => (typeof r.revision === "number" ? r.revision : 0);
  const max = Math.max(0, ...owned.map(revisionOf));
  const template = isPlainObject(specOf(ds).template) ? (specOf(ds).template as Record<string, unknown>) : {};
  const labels = { ...((isPlainObject(template.metadata) && isPlainObject(template.metadata.labels) ? template.metadata.labels : {}) as Record<string, string>), [CONTROLLER_REVISION_HASH]: hash };
  let current = owned.find((r) => r.metadata.labels?.[CONTROLLER_REVISION_HASH] === hash);
  if (!current) {
    try {
      current = await client.create({
        apiVersion: "apps/v1",
        kind: "ControllerRevision",
        metadata: { name: `${ds.metadata.name}-${hash}`, namespace, labels, ownerReferences: [ownerReferenceTo(ds)] },
        data: { spec: { template: { ...template, $patch: "replace" } } },
        revision: max + 1,
      });
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 409)) throw err;
      return max;
    }
  } else if (revisionOf(current) < max) {
    current = await client.update({ ...current, revision: max + 1 });
  }
  const limit = numberAt(specOf(ds), "revisionHistoryLimit", 10);
  const old = owned.filter((r) => r.metadata.uid !== current!.metadata.uid && !podHashes.has(r.metadata.labels?.[CONTROLLER_REVISION_HASH] ?? "")).sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    await client.delete("apps/v1/controllerrevisions", r.metadata.name!, namespace, { preconditions: { uid: r.metadata.uid! } }).catch(ignoreGone);
  }
  return revisionOf(current);
}
