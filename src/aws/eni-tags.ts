// The tags and description the agent puts on ENIs it creates (reference §4.2), and the diff that
// keeps CreateTags to the missing or different tags only.

export const TAG_INSTANCE_ID = "node.k8s.amazonaws.com/instance_id";
export const TAG_CREATED_AT = "node.k8s.amazonaws.com/createdAt";
export const TAG_NO_MANAGE = "node.k8s.amazonaws.com/no_manage";
export const TAG_CLUSTER_NAME = "cluster.k8s.amazonaws.com/name";
export const TAG_ENI_OWNER = "eks:eni:owner";
export const ENI_OWNER_VALUE = "amazon-vpc-cni";
export const ENI_DESCRIPTION_PREFIX = "aws-K8S-";

export function eniDescription(instanceId: string): string {
  return ENI_DESCRIPTION_PREFIX + instanceId;
}

/** RFC 3339 to the second, as Go's time.RFC3339 writes UTC ("2024-05-01T12:00:00Z"). */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The tags of an ENI this node creates or manages. ADDITIONAL_ENI_TAGS come first so that they can
 * never override the agent's own tags, which the agent matches on.
 */
export function eniTags(opts: { instanceId: string; clusterName?: string | undefined; additionalTags?: Readonly<Record<string, string>> | undefined; createdAtMs?: number }): Record<string, string> {
  const tags: Record<string, string> = { ...(opts.additionalTags ?? {}) };
  tags[TAG_INSTANCE_ID] = opts.instanceId;
  if (opts.createdAtMs !== undefined) tags[TAG_CREATED_AT] = rfc3339(opts.createdAtMs);
  if (opts.clusterName) {
    tags[TAG_CLUSTER_NAME] = opts.clusterName;
    tags[TAG_ENI_OWNER] = ENI_OWNER_VALUE;
  }
  return tags;
}

/** The tags of `wanted` that `current` lacks or holds with another value. */
export function missingTags(current: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) if (current[k] !== v) out[k] = v;
  return out;
}

export function toSdkTags(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromSdkTags(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}
