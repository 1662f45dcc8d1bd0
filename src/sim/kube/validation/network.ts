// Address checks for API fields (podIP, podCIDR, hostIP): IPv4 and IPv6, in the canonical forms
// Kubernetes accepts. Separate from vpcsim's EC2 address code on purpose: these follow the
// Kubernetes API's rules, not EC2's.

import { isIP } from "node:net";

export function isIpAddress(text: string): boolean {
  return isIP(text) !== 0 && !/^0\d|\.0\d/.test(text);
}

export function isCidr(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash === -1) return false;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
