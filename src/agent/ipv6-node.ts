// The node agent on an IPv6 node (reference §5.7, §8): only the primary ENI serves pods, from exactly
// one /80 prefix (delegated at the first start, found again after a restart: EC2's list of the ENI's
// prefixes is the truth, and the first one is used if there are several). There is no warm pool, no
// further ENI and no reconcile loop: 2^48 addresses outlast any node, so a pod's ADD and DEL never
// make an EC2 call.

import type { Datastore } from "./datastore/datastore.ts";
import type { InstanceIdentity } from "../aws/imds.ts";
import { MAIN_TABLE } from "../datapath/route-table.ts";
import type { Log } from "../log/log.ts";

/** What an IPv6 node needs of EC2 and IMDS (part of the node agent's cloud). */
export interface Ipv6Cloud {
  /** The ENI's /80 prefixes as EC2 describes them (DescribeNetworkInterfaces). */
  ipv6Prefixes(eniId: string): Promise<string[]>;
  /** AssignIpv6Addresses(Ipv6PrefixCount=1); the prefixes EC2 assigned. */
  assignIpv6Prefix(eniId: string): Promise<string[]>;
  /** The VPC's IPv6 CIDRs (instance metadata of the primary ENI). */
  vpcIpv6Cidrs(): Promise<string[]>;
}

export interface Ipv6Node {
  /** The /80 pods get their addresses from. */
  prefix: string;
  /** Whether this start asked EC2 for it (false: it was there already). */
  assigned: boolean;
  /** The VPC's IPv6 CIDRs, for the plugin's reply. */
  vpcIpv6Cidrs: string[];
}

/** Puts the primary ENI and its one /80 in the datastore, asking EC2 for the /80 only when it has none. */
export async function initIpv6Node(o: { cloud: Ipv6Cloud; datastore: Datastore; identity: Pick<InstanceIdentity, "primaryEniId" | "subnetId">; log: Log }): Promise<Ipv6Node> {
  const { cloud, datastore, identity, log } = o;
  const existing = await cloud.ipv6Prefixes(identity.primaryEniId);
  let prefix = existing[0];
  let assigned = false;
  if (prefix === undefined) {
    const got = await cloud.assignIpv6Prefix(identity.primaryEniId).catch((err: Error) => {
      throw new Error(`ENABLE_IPv6=true but EC2 gives the primary ENI ${identity.primaryEniId} no /80 prefix (IPv6 pods need a dual-stack subnet, and the node's IAM role AssignIpv6Addresses): ${err.message}`, { cause: err });
    });
    prefix = got[0];
    if (prefix === undefined) throw new Error(`EC2 assigned no IPv6 prefix to the primary ENI ${identity.primaryEniId}`);
    assigned = true;
    log("info", `assigned the /80 prefix ${prefix} to the primary ENI ${identity.primaryEniId}`);
  } else {
    if (existing.length > 1) log("warn", `the primary ENI ${identity.primaryEniId} has ${existing.length} IPv6 prefixes; pods get addresses from the first, ${prefix}`, { prefixes: existing });
    log("info", `pods get addresses from the primary ENI's /80 prefix ${prefix}`);
  }
  datastore.addEni({ id: identity.primaryEniId, deviceNumber: 0, routeTableId: MAIN_TABLE, subnetId: identity.subnetId, isPrimary: true });
  datastore.addCidr(identity.primaryEniId, prefix);
  return { prefix, assigned, vpcIpv6Cidrs: await cloud.vpcIpv6Cidrs() };
}
