// Checkpoint restore (reference: DataStore.ReadBackingStore), run once the
// ENIs and CIDRs have been rebuilt from IMDS/EC2. A checkpoint written by the
// reference's aws-node is adopted as is: same keys, addresses, timestamps and
// metadata, in the file's order.
//
// Order of the checks follows the reference, since it decides which of two
// claims on one address wins: entries whose pod veth is gone are pruned
// first, then entries whose address lies in no known CIDR are dropped, and
// only then is an address claimed twice an error. Nothing in the datastore
// changes unless the whole restore succeeds, including the rewrite.

import type { CheckpointEntry } from "./checkpoint-format.ts";
import { CHECKPOINT_VERSION } from "./checkpoint-format.ts";
import type { CheckpointFile } from "./checkpoint.ts";
import type { AdoptRequest, Allocation, Datastore } from "./datastore.ts";
import { parseIp } from "../../net/ip.ts";
import { DEFAULT_VETH_PREFIX, hostVethNameSuffix, podHostVethName } from "../../datapath/veth-name.ts";

export interface RestoreOptions {
  /**
   * Whether the pod's host-side veth exists. `name` is `<vethPrefix><suffix>`;
   * `suffix` is the sha1 part alone, for a caller that wants the reference's
   * looser match (any link whose name ends with it, whatever the prefix).
   */
  hostLinkExists: (name: string, suffix: string) => boolean | Promise<boolean>;
  /** AWS_VPC_K8S_CNI_VETHPREFIX; default "eni". */
  vethPrefix?: string;
}

export interface PrunedEntry {
  entry: CheckpointEntry;
  /** The veth that was looked for. */
  vethName: string;
  /**
   * The entry's address (may be empty or malformed, as read). The caller
   * removes its leftover rules: to-pod at 512 in main, from-pod at 1536.
   */
  address: string;
}

export type DropReason = "no-address-of-family" | "invalid-address" | "unknown-address";

export interface DroppedEntry {
  entry: CheckpointEntry;
  address: string;
  reason: DropReason;
}

export interface RestoreReport {
  path: string;
  /** No checkpoint file: a fresh node. */
  fresh: boolean;
  adopted: Allocation[];
  /** Pod gone while no agent ran: its veth no longer exists. */
  pruned: PrunedEntry[];
  /** Address in no CIDR the node holds now ("stale/dead" in the reference). */
  dropped: DroppedEntry[];
}

export class CheckpointVersionError extends Error {
  override name = "CheckpointVersionError";
  readonly version: string;
  constructor(path: string, version: string) {
    super(`checkpoint ${path}: unexpected version ${JSON.stringify(version)}, expected ${JSON.stringify(CHECKPOINT_VERSION)}`);
    this.version = version;
  }
}

/**
 * Reads the checkpoint and adopts its allocations into `ds`, then rewrites the
 * file through the datastore's persistence (also for a fresh node, so an
 * unwritable state directory shows at start-up rather than at the first ADD).
 * Throws CheckpointFormatError (unreadable), CheckpointVersionError, or a
 * DatastoreError ("address-claimed-twice", "key-claimed-twice",
 * "checkpoint-write-failed"); in every such case the datastore is unchanged.
 */
export async function restoreCheckpoint(ds: Datastore, file: CheckpointFile, options: RestoreOptions): Promise<RestoreReport> {
  const report: RestoreReport = { path: file.path, fresh: false, adopted: [], pruned: [], dropped: [] };
  const data = file.read();
  if (data === undefined) {
    report.fresh = true;
    ds.adopt([]);
    return report;
  }
  if (data.version !== CHECKPOINT_VERSION) throw new CheckpointVersionError(file.path, data.version);

  const prefix = options.vethPrefix ?? DEFAULT_VETH_PREFIX;
  const field = ds.family === "4" ? "ipv4" : "ipv6";
  const kept: CheckpointEntry[] = [];
  for (const entry of data.allocations) {
    const ns = entry.metadata.k8sPodNamespace ?? "";
    const name = entry.metadata.k8sPodName ?? "";
    // Entries without namespace or name (written before the metadata existed)
    // are kept unchecked, as the reference does.
    if (ns !== "" && name !== "") {
      const vethName = podHostVethName(prefix, ns, name);
      if (!(await options.hostLinkExists(vethName, hostVethNameSuffix(ns, name)))) {
        report.pruned.push({ entry, vethName, address: entry.ipv4 ?? entry.ipv6 ?? "" });
        continue;
      }
    }
    kept.push(entry);
  }

  const requests: AdoptRequest[] = [];
  for (const entry of kept) {
    const address = entry[field] ?? "";
    const ip = parseIp(address);
    let reason: DropReason | undefined;
    if (address === "") reason = "no-address-of-family";
    else if (ip === undefined || ip.family !== ds.family) reason = "invalid-address";
    else if (ds.locate(address) === undefined) reason = "unknown-address";
    if (reason !== undefined) {
      report.dropped.push({ entry, address, reason });
      continue;
    }
    requests.push({
      key: { networkName: entry.networkName, containerID: entry.containerID, ifName: entry.ifName },
      address,
      assignedAtNs: entry.allocationTimestamp,
      metadata: {
        k8sPodNamespace: entry.metadata.k8sPodNamespace ?? "",
        k8sPodName: entry.metadata.k8sPodName ?? "",
        k8sPodUID: "",
        interfacesCount: entry.metadata.interfacesCount ?? 0,
      },
    });
  }
  report.adopted = ds.adopt(requests);
  return report;
}
