// The host-side veth name of a pod as the reference derives it (networkutils.GeneratePodHostVethName):
// `<prefix><first 11 hex digits of sha1("<namespace>.<name>")>`. Calico and the network policy agent
// derive the same name on their own, so it must match bit for bit. Here (not imported from the agent)
// because the plugin bundle may only pull in node:* and src/datapath.

import { createHash } from "node:crypto";
import { validateIfName, validateVethPrefix } from "./validate.ts";

/**
 * `index > 0` names the extra interfaces of a multi-NIC pod: the reference hashes
 * "<namespace>.<name>.<index>" for those.
 */
export function podHostVethName(prefix: string, podNamespace: string, podName: string, index = 0): string {
  validateVethPrefix(prefix);
  const key = index > 0 ? `${podNamespace}.${podName}.${index}` : `${podNamespace}.${podName}`;
  // With a prefix of at most 4 characters the name is at most 15 bytes: what the kernel allows.
  return validateIfName(prefix + createHash("sha1").update(key, "utf8").digest("hex").slice(0, 11));
}
