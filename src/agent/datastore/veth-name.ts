// The host-side veth name of a pod, exactly as the reference computes it
// (networkutils.GeneratePodHostVethName). Other components match on it: the
// checkpoint restore looks for it, Calico and the network policy agent derive
// it independently. Kept free of imports other than node:crypto so that the
// plugin can share it without pulling in the agent.
import { createHash } from "node:crypto";

/** The reference's default for AWS_VPC_K8S_CNI_VETHPREFIX. */
export const DEFAULT_VETH_PREFIX = "eni";

/** First 11 hex digits of sha1("<namespace>.<name>"): the part of the name every prefix shares. */
export function hostVethNameSuffix(podNamespace: string, podName: string): string {
  return createHash("sha1").update(`${podNamespace}.${podName}`, "utf8").digest("hex").slice(0, 11);
}

/**
 * `<prefix><suffix>`; for the extra interfaces of a multi-NIC pod (index > 0)
 * the reference hashes "<namespace>.<name>.<index>" instead.
 */
export function hostVethName(prefix: string, podNamespace: string, podName: string, index = 0): string {
  const name = index > 0 ? `${podName}.${index}` : podName;
  return prefix + hostVethNameSuffix(podNamespace, name);
}
