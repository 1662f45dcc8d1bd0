// The node's CNINode features, written as aws-node writes them (AddFeatureToCNINode): a JSON merge patch
// of spec.features carrying the object's resourceVersion, so a concurrent writer (the VPC Resource
// Controller, another agent version during a roll) makes it fail with 409 instead of being overwritten;
// then it is read and tried again. A feature of the same name is replaced, others are kept in order.

import { isConflict, isNotFound, KubeApiError, type KubeClient } from "./client.ts";
import type { CniNode, CniNodeFeature } from "./resources.ts";

export const CNI_NODE_PATCH_TRIES = 5;

export type CniNodeApi = Pick<KubeClient, "getCniNode" | "patchCniNode">;

export type AddFeatureResult =
  | { readonly changed: true; readonly cniNode: CniNode }
  /** The feature was already there with this value: nothing was written. */
  | { readonly changed: false; readonly cniNode: CniNode };

/** spec.features with `feature` added, or its namesake replaced. */
export function withFeature(features: readonly CniNodeFeature[], feature: CniNodeFeature): CniNodeFeature[] {
  const entry: CniNodeFeature = feature.value === undefined ? { name: feature.name } : { name: feature.name, value: feature.value };
  const at = features.findIndex((f) => f.name === feature.name);
  if (at < 0) return [...features, entry];
  return features.map((f, i) => (i === at ? entry : f));
}

export async function addCniNodeFeature(api: CniNodeApi, nodeName: string, feature: CniNodeFeature, tries = CNI_NODE_PATCH_TRIES): Promise<AddFeatureResult> {
  let lastConflict: KubeApiError | undefined;
  for (let attempt = 1; attempt <= tries; attempt++) {
    let current: CniNode;
    try {
      current = await api.getCniNode(nodeName);
    } catch (err) {
      if (isNotFound(err)) {
        throw new KubeApiError((err as KubeApiError).call, 404, "NotFound", `CNINode ${nodeName} does not exist yet (the VPC Resource Controller creates one per node); feature ${feature.name} is added once it does`);
      }
      throw err;
    }
    const features = current.spec?.features ?? [];
    const existing = features.find((f) => f.name === feature.name);
    if (existing !== undefined && (existing.value ?? "") === (feature.value ?? "")) return { changed: false, cniNode: current };
    const resourceVersion = current.metadata.resourceVersion;
    if (resourceVersion === undefined || resourceVersion === "") throw new Error(`CNINode ${nodeName} came without a resourceVersion`);
    try {
      const patched = await api.patchCniNode(nodeName, { metadata: { resourceVersion }, spec: { features: withFeature(features, feature) } });
      return { changed: true, cniNode: patched };
    } catch (err) {
      if (!isConflict(err)) throw err;
      lastConflict = err as KubeApiError;
    }
  }
  throw lastConflict ?? new Error("internal: no attempt made");
}
