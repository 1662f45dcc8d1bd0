// Where things are in a run's fabric: the service addresses on the VPC router's loopback, the
// external hosts, the router's own MAC and link-local address on each subnet, and the link between
// the router and the gateways. These are fixed for every run (each run has namespaces of its own,
// so runs never see each other's addresses).

import { createHash } from "node:crypto";
import { linkLocalOf } from "./ipv6.ts";

/** Where vpcsim's EC2 API listens (on the router's lo). */
export const EC2_ENDPOINT_ADDRESS = "192.0.2.10";
/** Reserved for the Kubernetes API stand-in. */
export const KUBERNETES_ENDPOINT_ADDRESS = "192.0.2.20";
export const IMDS_ADDRESS = "169.254.169.254";
/** The external host behind the internet gateway; its echo server answers on TCP 80 (HTTP) and 7. */
export const EXTERNAL_HOST_ADDRESS = "203.0.113.10";
/** The internet gateway's address on the external host's link (the external host's default route). */
export const EXTERNAL_GATEWAY_ADDRESS = "203.0.113.1";
export const EXTERNAL_PREFIX_LENGTH = 24;

/** The IPv6 external host behind the egress-only internet gateway (documentation range, RFC 3849). */
export const EXTERNAL6_HOST_ADDRESS = "2001:db8:ffff::10";
/** The egress-only gateway's address on the IPv6 external host's link. */
export const EXTERNAL6_GATEWAY_ADDRESS = "2001:db8:ffff::1";
export const EXTERNAL6_PREFIX_LENGTH = 64;

/** The addresses vpcsim's servers listen on inside the router namespace, and the external hosts. */
export const SERVICE_ADDRESSES = {
  ec2: EC2_ENDPOINT_ADDRESS,
  kubernetes: KUBERNETES_ENDPOINT_ADDRESS,
  imds: IMDS_ADDRESS,
  externalHost: EXTERNAL_HOST_ADDRESS,
  externalHost6: EXTERNAL6_HOST_ADDRESS,
} as const;

// The router↔gateway transfer link. Link-local on purpose: 100.64.0.0/10, the usual choice, is
// also what EKS custom networking adds as a secondary VPC CIDR, and the two would collide.
export const TRANSFER_ROUTER_ADDRESS = "169.254.252.1";
export const TRANSFER_IGW_ADDRESS = "169.254.252.2";
export const TRANSFER_PREFIX_LENGTH = 30;
// Its IPv6 side: link-local only, as between two routers.
export const TRANSFER6_ROUTER_ADDRESS = "fe80::1";
export const TRANSFER6_IGW_ADDRESS = "fe80::2";

export const ROUTER_IGW_LINK = "igw"; // in the router, toward the gateway (must not start with ENI_LINK_PREFIX)
export const IGW_ROUTER_LINK = "rtr"; // in the gateway, toward the router
export const IGW_EXTERNAL_LINK = "ext"; // in the gateway, toward the external host
export const IGW_EXTERNAL6_LINK = "ext6"; // in the gateway, toward the IPv6 external host
export const EXTERNAL_LINK = "eth0"; // in each external host

export const DEFAULT_MTU = 9001; // EC2's jumbo frames inside a VPC
export const INTERNET_MTU = 1500; // beyond the gateway, so path MTU discovery behaves as on AWS

/**
 * The router's MAC on a subnet's ENI links: one per subnet, as EC2's router has (an instance sees
 * the same gateway MAC on every ENI in one subnet), derived from the subnet so every run agrees.
 * Locally administered unicast, like EC2's.
 */
export function subnetRouterMac(subnetCidr: string): string {
  const digest = createHash("sha256").update(`vpcsim router ${subnetCidr}`).digest();
  const octets = [0x0a, ...digest.subarray(0, 5)];
  return octets.map((octet) => octet.toString(16).padStart(2, "0")).join(":");
}

/** The subnet router's IPv6 address: the link-local of its MAC, instances' IPv6 default gateway. */
export function subnetRouterLinkLocal(subnetCidr: string): string {
  return linkLocalOf(subnetRouterMac(subnetCidr));
}
