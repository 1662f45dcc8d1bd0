// The manifests a vpcsim cluster starts with (`vpcsim up --nodes`): deploy/ (the CRDs, then
// aws-node's ServiceAccount, RBAC and DaemonSet), applied in process as `kubectl apply` would,
// unchanged: the kubelet gives containers the node's AWS environment (region, EC2 endpoint), as
// `vpcsim exec` does, so the manifest needs no vpcsim-specific variable.

import type { KubeClient } from "../kube/api/client.ts";
import { applyObjects, loadManifests, type AppliedObject } from "../kube/apply.ts";

/** Applies each path (a file or a directory's *.yaml) in order, CustomResourceDefinitions first (served before what follows). */
export async function applyClusterManifests(client: KubeClient, paths: string[]): Promise<AppliedObject[]> {
  const objects = paths.flatMap((p) => loadManifests(p));
  const ordered = [...objects.filter((o) => o.kind === "CustomResourceDefinition"), ...objects.filter((o) => o.kind !== "CustomResourceDefinition")];
  return applyObjects(client, ordered);
}
