// What a pod's ADD result records, so DEL and CHECK work when the agent cannot answer (aws-node's
// encoding, kept so pods set up by aws-node are torn down correctly after a switch-over):
//   interfaces[0]  the host veth                       {name}
//   interfaces[1]  the pod's interface                  {name, mac, sandbox: netns}
//   last           a "dummy<hash>" record               {mac: "<vlan id>", sandbox: "<device number>"}
// aws-node (1.20+) also writes the route table into the pod interface's `mac`; we keep the real MAC
// there and read both: a number means a route table, a MAC means "derive it from the device number".

import type { Interface, Result } from "../cni/index.ts";

export const MAIN_TABLE = 254;

export interface PodState {
  address: string;
  routeTableId: number;
  deviceNumber: number;
  hostVethName: string;
  podVlanId: number;
}

/** The route table of an ENI: main for the primary (device 0), device + 1 otherwise (card 0). */
export function routeTableOf(deviceNumber: number): number {
  return deviceNumber === 0 ? MAIN_TABLE : deviceNumber + 1;
}

export function dummyInterface(hostVethName: string, deviceNumber: number, vlanId = 0): Interface {
  // The hash part of the host veth name, as aws-node names it.
  return { name: `dummy${hostVethName.slice(-11)}`, mac: String(vlanId), sandbox: String(deviceNumber) };
}

/** The pod's state from a prevResult, or undefined when it does not carry one (e.g. another plugin's). */
export function podStateFromResult(result: Result | undefined): PodState | undefined {
  const interfaces = result?.interfaces ?? [];
  const ip = result?.ips?.find((i) => i.address.includes(".") && i.address.endsWith("/32"));
  const dummy = interfaces.findLast((i) => i.name.startsWith("dummy"));
  const host = interfaces.find((i) => i.sandbox === undefined || i.sandbox === "");
  if (!ip || !dummy || !host) return undefined;
  const deviceNumber = Number(dummy.sandbox);
  if (!Number.isInteger(deviceNumber) || deviceNumber < 0) return undefined;
  const pod = ip.interface !== undefined ? interfaces[ip.interface] : undefined;
  const encodedTable = pod?.mac !== undefined && /^\d+$/.test(pod.mac) ? Number(pod.mac) : undefined;
  return {
    address: ip.address.slice(0, -3),
    // aws-node treats table 1 as main (a legacy value).
    routeTableId: encodedTable === undefined ? routeTableOf(deviceNumber) : encodedTable === 1 ? MAIN_TABLE : encodedTable,
    deviceNumber,
    hostVethName: host.name,
    podVlanId: /^\d+$/.test(dummy.mac ?? "") ? Number(dummy.mac) : 0,
  };
}
