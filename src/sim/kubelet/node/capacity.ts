// A node's capacity as EKS sets it: max pods from the instance type's ENI limits with the EKS AMI's
// max-pods calculator (secondary-IP mode: ENIs x (IPv4 per ENI - 1) + 2, capped at 110 for up to
// 30 vCPUs and at 250 above), and cpu/memory from the instance size. vpcsim's instance-type table
// holds the network limits EC2 publishes but no vCPU or memory figures; those come from the size
// name and family by EC2's naming rules (large = 2 vCPUs, xlarge = 4, Nxlarge = 4N; t3 sizes,
// memory per vCPU by family letter), which is exact for the common families and close for others.

import { loadInstanceTypes } from "../../ec2/instance-types.ts";
import type { InstanceTypeInfo } from "../../ec2/types.ts";

export interface NodeCapacity {
  pods: number;
  cpu: string;
  memory: string;
  ephemeralStorage: string;
}

const T_SIZES: Record<string, [number, number]> = { nano: [2, 0.5], micro: [2, 1], small: [2, 2], medium: [2, 4], large: [2, 8], xlarge: [4, 16], "2xlarge": [8, 32] };
const GIB_PER_VCPU: Record<string, number> = { c: 2, m: 4, a: 2, r: 8, x: 16, z: 8, i: 8, d: 8, h: 4, p: 8, g: 4, inf: 2, trn: 16 };

/** vCPUs and memory (GiB) of an instance type, from its name. */
export function instanceResources(instanceType: string): { vcpus: number; memoryGiB: number } {
  const [family = "", size = ""] = instanceType.split(".");
  const letter = /^[a-z]+?(?=\d)/.exec(family)?.[0] ?? family.slice(0, 1);
  if (letter === "t" && T_SIZES[size]) {
    const [vcpus, memoryGiB] = T_SIZES[size]!;
    return { vcpus, memoryGiB };
  }
  let vcpus: number;
  if (size === "medium") vcpus = 1;
  else if (size === "large") vcpus = 2;
  else if (size === "xlarge") vcpus = 4;
  else if (/^\d+xlarge$/.test(size)) vcpus = 4 * Number.parseInt(size, 10);
  else if (size.startsWith("metal")) vcpus = 96;
  else vcpus = 2;
  return { vcpus, memoryGiB: vcpus * (GIB_PER_VCPU[letter] ?? 4) };
}

/** The EKS AMI's max-pods value for a type in secondary-IP mode (max-pods-calculator.sh). */
export function maxPods(info: Pick<InstanceTypeInfo, "maxEnis" | "ipv4PerEni">, vcpus: number): number {
  const fromEnis = info.maxEnis * (info.ipv4PerEni - 1) + 2;
  return Math.min(fromEnis, vcpus <= 30 ? 110 : 250);
}

export function nodeCapacity(instanceType: string, types: Map<string, InstanceTypeInfo> = loadInstanceTypes()): NodeCapacity {
  const info = types.get(instanceType);
  if (!info) throw new Error(`instance type ${instanceType} is not in vpcsim's instance-type table: its max pods are unknown`);
  const { vcpus, memoryGiB } = instanceResources(instanceType);
  return { pods: maxPods(info, vcpus), cpu: String(vcpus), memory: `${Math.round(memoryGiB * 1024 * 1024)}Ki`, ephemeralStorage: "20959212Ki" };
}
