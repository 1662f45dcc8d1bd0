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

/**
 * IPv6 in a namespace of the fabric's own: on whatever the host's defaults, addresses usable at
 * once (the fabric's addresses are unique by construction, so duplicate address detection would
 * only hold each one "tentative" for a second), and no autoconfiguration from advertisements.
 */
export const IPV6_SYSCTLS = {
  "net.ipv6.conf.all.disable_ipv6": 0,
  "net.ipv6.conf.default.disable_ipv6": 0,
  "net.ipv6.conf.all.accept_dad": 0,
  "net.ipv6.conf.default.accept_dad": 0,
  "net.ipv6.conf.all.accept_ra": 0,
  "net.ipv6.conf.default.accept_ra": 0,
} as const;

/** A forwarding namespace routes IPv6 as well. */
export const IPV6_FORWARDING_SYSCTLS = { ...IPV6_SYSCTLS, "net.ipv6.conf.all.forwarding": 1 } as const;

/** The IPv4 external host stays IPv4-only. */
export const NO_IPV6_SYSCTLS = { "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1 } as const;
