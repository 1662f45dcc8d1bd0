// An instance is a network namespace booted as an EC2 AMI leaves it: lo up, eth0 (the primary ENI,
// plugged in by eni-links.ts) up with the primary address (and IPv6 ones), the default routes via
// the subnet's router, and a route to IMDS on eth0. Terminating it stops every process inside, then deletes it.

import { addNetns, ipBatch, sysctlSet } from "./exec.ts";
import { deleteNetns, pidsInNetns, terminatePids } from "./cleanup.ts";
import { IMDS_ADDRESS } from "./addresses.ts";

/** Creates the namespace with an AMI's kernel settings, before any ENI is plugged in. */
export async function createInstanceNamespace(netns: string): Promise<void> {
  await addNetns(netns);
  // Boot with an AMI's settings, not whatever a new namespace gets from this host: strict
  // reverse-path filtering, as Amazon Linux ships it (node software loosens it on eth0, as the
  // reference agent does; tests then catch software that forgets).
  await sysctlSet(netns, { "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.default.rp_filter": 1 });
}

/**
 * What the AMI's network configuration leaves on eth0 once the primary ENI is plugged in. IPv6, on
 * a dual-stack node: on EC2 the router advertises itself and DHCPv6 hands out the ENI's addresses;
 * vpcsim sends neither, so the end state is set here as the AMI's clients leave it: each address a
 * /128 on eth0, and the default route via the subnet router's link-local address. There is no
 * on-link /64: every IPv6 packet goes to the router, which delivers it by assignment.
 */
export async function bootPrimaryInterface(
  netns: string,
  eth0: { primaryIp: string; prefixLength: number; gateway: string; ipv6Addresses: readonly string[]; ipv6Gateway: string },
): Promise<void> {
  const ipv6 =
    eth0.ipv6Addresses.length === 0
      ? []
      : [...eth0.ipv6Addresses.map((address) => `addr add ${address}/128 dev eth0 nodad`), `route add ::/0 via ${eth0.ipv6Gateway} dev eth0`];
  await ipBatch(netns, [
    "link set lo up",
    "link set eth0 up",
    `addr add ${eth0.primaryIp}/${eth0.prefixLength} brd + dev eth0`,
    `route add default via ${eth0.gateway} dev eth0`,
    `route add ${IMDS_ADDRESS} dev eth0`,
    ...ipv6,
  ]);
}

/** Stops every process inside the instance (a terminated instance runs nothing). */
export async function stopInstanceProcesses(netns: string): Promise<void> {
  await terminatePids(await pidsInNetns([netns]));
}

/** Deletes the namespace, and with it every veth end inside. Already gone is fine. */
export async function deleteInstanceNamespace(netns: string): Promise<void> {
  await deleteNetns([netns]);
}
