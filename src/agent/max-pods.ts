// Max pods for an instance type, as the EKS AMI's max-pods-calculator.sh computes it: every ENI on the
// default card gives its addresses but the primary to pods (times 16 with /28 prefixes), plus 2 for
// the host-network pods (aws-node, kube-proxy); custom networking loses the primary ENI. The
// recommended value caps that at 110 (30 vCPUs or fewer) or 250, the counts kubelet is tested with.

import { loadInstanceLimits } from "../aws/instance-limits.ts";
import type { InstanceLimits, InstanceLimitsTable } from "../aws/instance-limits.ts";
import { estimateVcpus } from "../aws/instance-vcpus.ts";

export const HOST_NETWORK_PODS = 2;
export const ADDRESSES_PER_PREFIX = 16;
export const RECOMMENDED_CAP_SMALL = 110;
/** Addresses of an IPv6 /80 prefix (2^48): the "uncapped" max pods of an IPv6 node. */
export const IPV6_ADDRESSES_PER_PREFIX = 2 ** 48;
export const RECOMMENDED_CAP_LARGE = 250;
/** Instances with more vCPUs than this get the larger cap. */
export const SMALL_INSTANCE_MAX_VCPUS = 30;

export type MaxPodsInput = {
  /** Looked up in `table` (the shipped table by default) unless `limits` is given. */
  readonly instanceType?: string;
  readonly limits?: InstanceLimits;
  readonly table?: InstanceLimitsTable;
  readonly prefixDelegation?: boolean;
  readonly customNetworking?: boolean;
  /** ENABLE_IPv6: pods' addresses come from one /80 (2^48 of them), so only the recommended cap limits them. */
  readonly ipv6?: boolean;
  /** The uncapped value (the calculator's --show-max-allowed). */
  readonly showMaxAllowed?: boolean;
  /** vCPUs, when known; otherwise estimated from the type's name. */
  readonly cpus?: number;
  /** MAX_ENI: use at most this many ENIs. */
  readonly maxEni?: number;
};

export type MaxPods = {
  readonly ok: true;
  /** The answer: `maxAllowed`, capped unless showMaxAllowed. */
  readonly maxPods: number;
  readonly maxAllowed: number;
  /** The cap applied; null with showMaxAllowed. */
  readonly cap: number | null;
  /** ENIs counted: the default card's, after MAX_ENI and custom networking. */
  readonly enis: number;
  /** False when prefix delegation was asked for on an instance that cannot have it (not Nitro, not bare metal). */
  readonly prefixDelegation: boolean;
  readonly vcpus: number | null;
  readonly notes: readonly string[];
};

export type MaxPodsResult = MaxPods | { readonly ok: false; readonly error: string };

/** True when EC2 assigns /28 prefixes to this type's ENIs. */
export function supportsPrefixDelegation(limits: InstanceLimits): boolean {
  return limits.hypervisor === "nitro" || limits.bareMetal;
}

export function maxPods(input: MaxPodsInput): MaxPodsResult {
  const notes: string[] = [];
  let limits = input.limits;
  const table = input.table ?? (limits === undefined ? loadInstanceLimits() : undefined);
  if (limits === undefined) {
    if (input.instanceType === undefined) return { ok: false, error: "no instance type given" };
    limits = table?.get(input.instanceType);
    if (limits === undefined) return { ok: false, error: unknownTypeMessage(input.instanceType, table) };
  }
  if (input.maxEni !== undefined && (!Number.isSafeInteger(input.maxEni) || input.maxEni < 1)) {
    return { ok: false, error: `max ENIs must be a whole number ≥ 1, not ${input.maxEni}` };
  }
  if (input.cpus !== undefined && (!Number.isSafeInteger(input.cpus) || input.cpus < 1)) {
    return { ok: false, error: `the vCPU count must be a whole number ≥ 1, not ${input.cpus}` };
  }

  let enis = Math.min(limits.enis, input.maxEni ?? limits.enis);
  if (input.customNetworking) enis -= 1;
  if (enis <= 0) notes.push(`${limits.instanceType} has no ENI left for pods: only host-network pods can run`);
  const prefixDelegation = input.prefixDelegation === true && supportsPrefixDelegation(limits);
  if (input.prefixDelegation === true && !prefixDelegation) {
    notes.push(`${limits.instanceType} is neither Nitro nor bare metal: no prefix delegation, counting secondary addresses`);
  }
  const podSlotsPerEni = (limits.ipv4PerEni - 1) * (prefixDelegation ? ADDRESSES_PER_PREFIX : 1);
  let maxAllowed = Math.max(enis, 0) * podSlotsPerEni + HOST_NETWORK_PODS;
  if (input.ipv6) {
    if (!supportsPrefixDelegation(limits)) return { ok: false, error: `${limits.instanceType} is neither Nitro nor bare metal: IPv6 pods need /80 prefixes, which EC2 does not delegate to it` };
    // One /80 on the primary ENI serves every pod: addresses never limit, the kubelet's max pods does.
    notes.push("IPv6: one /80 prefix on the primary ENI (2^48 addresses); max pods is the recommended kubelet value (110 up to 30 vCPUs, else 250)");
    maxAllowed = IPV6_ADDRESSES_PER_PREFIX;
  }

  let vcpus: number | null = input.cpus ?? null;
  if (vcpus === null) {
    const estimate = estimateVcpus(limits.instanceType, table ?? new Map([[limits.instanceType, limits]]));
    if (estimate !== undefined) vcpus = estimate.vcpus;
  }
  if (input.showMaxAllowed) return { ok: true, maxPods: maxAllowed, maxAllowed, cap: null, enis, prefixDelegation, vcpus, notes };
  if (vcpus === null) {
    return {
      ok: false,
      error: `the vCPU count of ${limits.instanceType} is not known here, and the recommended cap depends on it (110 up to ${SMALL_INSTANCE_MAX_VCPUS} vCPUs, else 250): give the vCPU count (--cpus N), or ask for the uncapped value (--show-max-allowed, ${maxAllowed})`,
    };
  }
  const cap = vcpus > SMALL_INSTANCE_MAX_VCPUS ? RECOMMENDED_CAP_LARGE : RECOMMENDED_CAP_SMALL;
  return { ok: true, maxPods: Math.min(cap, maxAllowed), maxAllowed, cap, enis, prefixDelegation, vcpus, notes };
}

function unknownTypeMessage(instanceType: string, table: InstanceLimitsTable | undefined): string {
  const family = instanceType.split(".")[0] ?? "";
  const sizes = table === undefined ? [] : [...table.keys()].filter((type) => type.startsWith(`${family}.`)).sort();
  const hint = sizes.length > 0 ? `; the ${family} family has ${sizes.join(", ")}` : "";
  return `unknown instance type ${JSON.stringify(instanceType)}${hint}`;
}
