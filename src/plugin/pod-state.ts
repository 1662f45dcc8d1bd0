// What a pod's ADD result records, so DEL and CHECK work when the agent cannot answer (aws-node's
// encoding, kept so pods set up by aws-node are torn down correctly after a switch-over):
//   interfaces[0]  the host veth                       {name}
//   interfaces[1]  the pod's interface                  {name, mac, sandbox: netns}
//   last           a "dummy<hash>" record               {mac: "<vlan id>", sandbox: "<device number>"}
// aws-node (1.20+) also writes the route table into the pod interface's `mac`; we keep the real MAC
// there and read both: a number means a route table, a MAC means "derive it from the device number".
//
// That dummy record breaks runtimes that read interfaces as the spec defines them: podman's CNI backend
// parses the `mac` of every interface with a `sandbox` and fails the ADD ("address 0: invalid MAC
// address"). Callers outside Kubernetes (no K8S_POD_NAMESPACE: podman, cnitool) never had aws-node
// state to share, so for them the record is a host-side entry (empty sandbox, which podman skips):
//   last           {name: "dummy<hash>:<device number>", mac: "<vlan id>", sandbox: ""}

import type { Interface, Result } from "../cni/index.ts";
import { MAIN_TABLE, routeTableId } from "../datapath/route-table.ts";

export interface PodState {
  address: string;
  routeTableId: number;
  deviceNumber: number;
  hostVethName: string;
  podVlanId: number;
}

export function dummyInterface(hostVethName: string, deviceNumber: number, vlanId = 0, form: "aws-node" | "host" = "aws-node"): Interface {
  // The hash part of the host veth name, as aws-node names it.
  const name = `dummy${hostVethName.slice(-11)}`;
  if (form === "host") return { name: `${name}:${deviceNumber}`, mac: String(vlanId), sandbox: "" };
  return { name, mac: String(vlanId), sandbox: String(deviceNumber) };
}

const HOST_FORM_DUMMY = /^dummy[0-9a-f]*:(\d+)$/;

/** The pod's state from a prevResult, or undefined when it does not carry one (e.g. another plugin's). */
export function podStateFromResult(result: Result | undefined): PodState | undefined {
  const interfaces = result?.interfaces ?? [];
  // An IPv4 pod's /32 or an IPv6 pod's /128 (egress-cni adds none to the result).
  const ip = result?.ips?.find((i) => (i.address.includes(".") && i.address.endsWith("/32")) || (i.address.includes(":") && i.address.endsWith("/128")));
  const dummy = interfaces.findLast((i) => i.name.startsWith("dummy"));
  const host = interfaces.find((i) => (i.sandbox === undefined || i.sandbox === "") && i !== dummy);
  if (!ip || !dummy || !host) return undefined;
  const hostForm = HOST_FORM_DUMMY.exec(dummy.name);
  const deviceNumber = hostForm && (dummy.sandbox === undefined || dummy.sandbox === "") ? Number(hostForm[1]) : Number(dummy.sandbox);
  if (!Number.isInteger(deviceNumber) || deviceNumber < 0 || deviceNumber > 255) return undefined;
  const pod = ip.interface !== undefined ? interfaces[ip.interface] : undefined;
  const encodedTable = pod?.mac !== undefined && /^\d+$/.test(pod.mac) ? Number(pod.mac) : undefined;
  return {
    address: ip.address.slice(0, ip.address.lastIndexOf("/")),
    // aws-node treats table 1 as main (a legacy value).
    routeTableId: encodedTable === undefined ? routeTableId(deviceNumber) : encodedTable === 1 ? MAIN_TABLE : encodedTable,
    deviceNumber,
    hostVethName: host.name,
    podVlanId: /^\d+$/.test(dummy.mac ?? "") ? Number(dummy.mac) : 0,
  };
}
