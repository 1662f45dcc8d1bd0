// The host-side veth name of a pod as the reference derives it (networkutils.GeneratePodHostVethName):
// `<prefix><first 11 hex digits of sha1("<namespace>.<name>")>`. Calico and the network policy agent
// derive the same name on their own, so it must match bit for bit. The plugin (which wires pods) and
// the agent's checkpoint restore (which looks for them) both use this one module; it imports only
// node:crypto and the input checks, so the plugin bundle stays small.

import { createHash } from "node:crypto";
import { validateIfName, validateVethPrefix } from "./validate.ts";

/** The reference's default for AWS_VPC_K8S_CNI_VETHPREFIX. */
export const DEFAULT_VETH_PREFIX = "eni";

/** First 11 hex digits of sha1("<namespace>.<name>"): the part of the name every prefix shares. */
export function hostVethNameSuffix(podNamespace: string, podName: string): string {
  return createHash("sha1").update(`${podNamespace}.${podName}`, "utf8").digest("hex").slice(0, 11);
}

/**
 * `index > 0` names the extra interfaces of a multi-NIC pod: the reference hashes
 * "<namespace>.<name>.<index>" for those.
 */
export function podHostVethName(prefix: string, podNamespace: string, podName: string, index = 0): string {
  validateVethPrefix(prefix);
  // With a prefix of at most 4 characters the name is at most 15 bytes: what the kernel allows.
  return validateIfName(prefix + hostVethNameSuffix(podNamespace, index > 0 ? `${podName}.${index}` : podName));
}
