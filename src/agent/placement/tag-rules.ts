// The tag rules that say which subnets and security groups are for pods (reference §4.2 and §4.3):
// `kubernetes.io/role/cni` = "0" excludes, any other non-empty value includes; a subnet tagged
// `cni.networking.k8s.aws/cluster/<name>` for any cluster is only for the clusters it names. The
// primary ENI's subnet counts when untagged (subnet discovery), a secondary subnet only when tagged.

export const CNI_ROLE_TAG = "kubernetes.io/role/cni";
export const CLUSTER_TAG_PREFIX = "cni.networking.k8s.aws/cluster/";

type Tags = Readonly<Record<string, string>>;

/** The cluster-tag rule: no cluster tag, or one naming this cluster (CLUSTER_NAME, "" = unset). */
export function clusterTagAllows(tags: Tags, clusterName: string): boolean {
  const clusters = Object.keys(tags).filter((k) => k.startsWith(CLUSTER_TAG_PREFIX));
  return clusters.length === 0 || (clusterName !== "" && clusters.includes(`${CLUSTER_TAG_PREFIX}${clusterName}`));
}

/** Tagged for pods: a non-"0" kubernetes.io/role/cni and the cluster-tag rule. */
export function taggedForPods(tags: Tags, clusterName: string): boolean {
  const role = tags[CNI_ROLE_TAG];
  return role !== undefined && role !== "" && role !== "0" && clusterTagAllows(tags, clusterName);
}

/**
 * Subnet discovery's validity (reference §4.3 step 2): never when tagged cni=0 or for another cluster;
 * the primary ENI's subnet when untagged too; any other subnet only when tagged for pods.
 */
export function discoverable(tags: Tags, isPrimarySubnet: boolean, clusterName: string): boolean {
  if (tags[CNI_ROLE_TAG] === "0" || !clusterTagAllows(tags, clusterName)) return false;
  return isPrimarySubnet || taggedForPods(tags, clusterName);
}

/** An ENI in this subnet gives no addresses to pods (reference §4.3 "Subnet exclusion"). */
export function excludedForPods(tags: Tags, clusterName: string): boolean {
  return tags[CNI_ROLE_TAG] === "0" || !clusterTagAllows(tags, clusterName);
}

/** Why a subnet is not for pods, for logs and events. */
export function whyNotForPods(tags: Tags, isPrimarySubnet: boolean, clusterName: string): string {
  if (tags[CNI_ROLE_TAG] === "0") return `tagged ${CNI_ROLE_TAG}=0`;
  if (!clusterTagAllows(tags, clusterName)) return `tagged for another cluster (${Object.keys(tags).filter((k) => k.startsWith(CLUSTER_TAG_PREFIX)).join(", ")})`;
  if (!isPrimarySubnet && !taggedForPods(tags, clusterName)) return `not tagged ${CNI_ROLE_TAG}`;
  return "for pods";
}
