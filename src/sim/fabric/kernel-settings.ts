// The kernel settings the fabric's own namespaces start from, whatever the host has: a new
// namespace takes some of its IPv4 settings from the host, and the fabric must not depend on them.

/** Every forwarding namespace (the VPC router, the internet gateway). */
export const FORWARDING_SYSCTLS = {
  "net.ipv4.ip_forward": 1,
  // A host with rp_filter set would make the router drop asymmetric traffic (replies leaving a
  // secondary ENI) that the VPC delivers.
  "net.ipv4.conf.all.rp_filter": 0,
  "net.ipv4.conf.default.rp_filter": 0,
  "net.ipv4.conf.all.send_redirects": 0,
  "net.ipv4.conf.default.send_redirects": 0,
} as const;

export const NO_IPV6_SYSCTLS = { "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1 } as const;
