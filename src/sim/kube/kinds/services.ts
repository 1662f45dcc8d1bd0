// Services and Endpoints. A Service gets a cluster IP from the service CIDR (172.20.0.0/16, what
// EKS picks for a VPC in 10.0.0.0/8) unless it is headless or an ExternalName, and node ports for
// NodePort and LoadBalancer types; both are fixed once set. Nothing forwards service traffic on
// vpcsim (no kube-proxy): they exist for clients that read them, such as the kubelet's service
// environment and the `default/kubernetes` service of the API server itself.

import { deepEqual, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, invalid, type FieldError } from "../status.ts";
import { checkDns1035Label, checkLabelValue, checkQualifiedName } from "../validation/names.ts";
import { endpointsSchema, serviceSchema } from "../schema/core.ts";
import type { AdmissionPlugin } from "../admission/plugin.ts";

export const SERVICE_CIDR = "172.20.0.0/16";
const NODE_PORTS = { first: 30000, last: 32767 };
const TYPES = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

type Obj = Record<string, unknown>;

function spec(o: KObject): Obj {
  if (!isPlainObject(o.spec)) o.spec = {};
  return o.spec as Obj;
}

function ports(s: Obj): Obj[] {
  return Array.isArray(s.ports) ? (s.ports.filter(isPlainObject) as Obj[]) : [];
}

function ipToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function serviceRange(cidr = SERVICE_CIDR): { first: number; last: number; network: number } {
  const [base, bits] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(bits));
  const network = ipToNumber(base);
  return { network, first: network + 1, last: network + size - 2 };
}

/** Allocates cluster IPs and node ports at create (an admission step: it needs the other services). */
export const serviceAllocation: AdmissionPlugin = {
  name: "ServiceIPAllocation",
  mutate(request, reader) {
    if (request.operation !== "CREATE" || request.subresource !== "" || request.type.group !== "" || request.type.resource !== "services" || !request.object) return;
    const s = spec(request.object);
    const usedIps = new Set<string>();
    const usedPorts = new Set<number>();
    for (const other of reader.list("v1/services", "")) {
      const os = isPlainObject(other.spec) ? other.spec : {};
      if (typeof os.clusterIP === "string") usedIps.add(os.clusterIP);
      for (const p of ports(os)) if (typeof p.nodePort === "number") usedPorts.add(p.nodePort);
    }
    const range = serviceRange();
    if (s.type !== "ExternalName" && s.clusterIP !== "None") {
      if (typeof s.clusterIP === "string" && s.clusterIP !== "") {
        const n = ipToNumber(s.clusterIP);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(s.clusterIP) || n < range.first || n > range.last) {
          throw invalid("", "Service", request.name, [fieldErrors.invalid("spec.clusterIPs", [s.clusterIP], `failed to allocate IP ${s.clusterIP}: the provided IP (${s.clusterIP}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`)]);
        }
        if (usedIps.has(s.clusterIP)) throw invalid("", "Service", request.name, [fieldErrors.invalid("spec.clusterIPs", [s.clusterIP], `failed to allocate IP ${s.clusterIP}: provided IP is already allocated`)]);
      } else {
        let n = range.first + 9; // the first addresses are left for the kubernetes and DNS services, as kube-apiserver does
        while (n <= range.last && usedIps.has(numberToIp(n))) n++;
        if (n > range.last) throw invalid("", "Service", request.name, [fieldErrors.invalid("spec.clusterIPs", [], "failed to allocate a serviceIP: range is full")]);
        s.clusterIP = numberToIp(n);
      }
      s.clusterIPs = [s.clusterIP];
    }
    if (s.type === "NodePort" || s.type === "LoadBalancer") {
      let next = NODE_PORTS.first;
      for (const p of ports(s)) {
        if (typeof p.nodePort === "number") continue;
        while (usedPorts.has(next)) next++;
        p.nodePort = next;
        usedPorts.add(next);
      }
    }
  },
};

function validateService(service: KObject): FieldError[] {
  const errors: FieldError[] = [];
  const s = spec(service);
  if (!TYPES.includes(String(s.type))) errors.push(fieldErrors.notSupported("spec.type", s.type ?? "", TYPES));
  const list = ports(s);
  const headless = s.clusterIP === "None";
  if (list.length === 0 && !headless && s.type !== "ExternalName") errors.push(fieldErrors.required("spec.ports", ""));
  const names = new Set<string>();
  list.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (typeof p.port !== "number" || p.port < 1 || p.port > 65535) errors.push(fieldErrors.invalid(`${path}.port`, p.port ?? 0, "must be between 1 and 65535, inclusive"));
    if (list.length > 1 && (typeof p.name !== "string" || p.name === "")) errors.push(fieldErrors.required(`${path}.name`, ""));
    if (typeof p.name === "string" && p.name !== "") {
      const problem = checkDns1035Label(p.name);
      if (problem) errors.push(fieldErrors.invalid(`${path}.name`, p.name, problem));
      if (names.has(p.name)) errors.push(fieldErrors.duplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
  });
  if (isPlainObject(s.selector)) {
    for (const [k, v] of Object.entries(s.selector)) {
      const problem = checkQualifiedName(k) ?? (typeof v === "string" ? checkLabelValue(v) : "must be a string");
      if (problem) errors.push(fieldErrors.invalid("spec.selector", k, problem));
    }
  }
  if (s.type === "ExternalName" && (typeof s.externalName !== "string" || s.externalName === "")) errors.push(fieldErrors.required("spec.externalName", ""));
  return errors;
}

export const services = defineType({
  group: "",
  version: "v1",
  resource: "services",
  kind: "Service",
  namespaced: true,
  schema: serviceSchema,
  shortNames: ["svc"],
  categories: ["all"],
  status: true,
  allowCreateOnUpdate: true,
  returnDeletedObject: true,
  strategy: {
    defaults(service) {
      const s = spec(service);
      s.type ??= "ClusterIP";
      if (s.type !== "ExternalName") {
        s.sessionAffinity ??= "None";
        s.ipFamilies ??= ["IPv4"];
        s.ipFamilyPolicy ??= "SingleStack";
        s.internalTrafficPolicy ??= "Cluster";
      }
      if (s.type === "NodePort" || s.type === "LoadBalancer") s.externalTrafficPolicy ??= "Cluster";
      if (s.type === "LoadBalancer") s.allocateLoadBalancerNodePorts ??= true;
      for (const p of ports(s)) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
    },
    prepareForCreate(service) {
      service.status = { loadBalancer: {} };
    },
    validate: validateService,
    validateUpdate(service, old) {
      const s = spec(service);
      const o = spec(old);
      if (s.clusterIP === undefined) s.clusterIP = o.clusterIP;
      if (s.clusterIPs === undefined && o.clusterIPs !== undefined) s.clusterIPs = o.clusterIPs;
      return deepEqual(s.clusterIP, o.clusterIP) ? [] : [fieldErrors.invalid("spec.clusterIPs[0]", s.clusterIP ?? "", "may not change once set")];
    },
  },
});

export const endpoints = defineType({
  group: "",
  version: "v1",
  resource: "endpoints",
  kind: "Endpoints",
  listKind: "EndpointsList",
  singular: "endpoints",
  namespaced: true,
  schema: endpointsSchema,
  shortNames: ["ep"],
  allowCreateOnUpdate: true,
});

/** The API server's own Service and Endpoints in `default`, as kube-apiserver keeps them. */
export function kubernetesService(endpointIp: string, port: number): KObject[] {
  const clusterIP = numberToIp(serviceRange().first);
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
      spec: { clusterIP, ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }], sessionAffinity: "None", type: "ClusterIP" },
    },
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "kubernetes", namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      subsets: [{ addresses: [{ ip: endpointIp }], ports: [{ name: "https", port, protocol: "TCP" }] }],
    },
  ];
}
