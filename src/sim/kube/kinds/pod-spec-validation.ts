// Validation of a PodSpec (ValidatePodSpec), for pods and for workloads' pod templates: the rules
// that catch real mistakes in manifests (container names and images, ports, env sources, volumes
// and their mounts, probes, tolerations, affinity terms, resources), with Kubernetes' field paths
// and messages. Less used corners (ephemeral containers, resource claims, OS-specific security
// options) are accepted as decoded.

import { isPlainObject } from "../objects.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkDnsLabel, checkDnsSubdomain, checkLabelValue, checkQualifiedName } from "../validation/names.ts";
import { parseQuantity, QUANTITY_FORMAT_MESSAGE } from "../validation/quantity.ts";
import { volumeSourcesOf } from "./pod-spec-defaults.ts";

type Obj = Record<string, unknown>;

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const HOST_PATH_TYPES = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"];
const TOLERATION_OPERATORS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const FIELD_PATHS = [
  "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
  "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
];
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? (value as Obj[]) : [];
}

function checkPorts(container: Obj, path: string, hostNetwork: boolean, portNames: Set<string>, errors: FieldError[]): void {
  list(container.ports).forEach((port, i) => {
    const p = `${path}.ports[${i}]`;
    if (!isPlainObject(port)) return errors.push(fieldErrors.invalid(p, port, "must be an object"));
    const cp = port.containerPort;
    if (cp === undefined) errors.push(fieldErrors.required(`${p}.containerPort`));
    else if (typeof cp !== "number" || !Number.isInteger(cp) || cp < 1 || cp > 65535) errors.push(fieldErrors.invalid(`${p}.containerPort`, cp, "must be between 1 and 65535, inclusive"));
    if (port.hostPort !== undefined && (typeof port.hostPort !== "number" || port.hostPort < 0 || port.hostPort > 65535)) {
      errors.push(fieldErrors.invalid(`${p}.hostPort`, port.hostPort, "must be between 1 and 65535, inclusive"));
    }
    if (hostNetwork && port.hostPort !== undefined && port.hostPort !== cp) errors.push(fieldErrors.invalid(`${p}.hostPort`, port.hostPort, "must match `containerPort` when `hostNetwork` is true"));
    if (port.protocol !== undefined && !PROTOCOLS.includes(String(port.protocol))) errors.push(fieldErrors.notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    if (port.name !== undefined) {
      const name = String(port.name);
      if (!IANA_SVC_NAME.test(name) || !/[a-z]/.test(name) || name.includes("--")) {
        errors.push(fieldErrors.invalid(`${p}.name`, port.name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter"));
      } else if (portNames.has(name)) errors.push(fieldErrors.duplicate(`${p}.name`, name));
      portNames.add(name);
    }
  });
}

function checkEnv(container: Obj, path: string, errors: FieldError[]): void {
  list(container.env).forEach((env, i) => {
    const p = `${path}.env[${i}]`;
    if (!isPlainObject(env)) return errors.push(fieldErrors.invalid(p, env, "must be an object"));
    if (typeof env.name !== "string" || env.name === "") errors.push(fieldErrors.required(`${p}.name`));
    else if (env.name.includes("=") || !/^[\x20-\x7e]+$/.test(env.name)) errors.push(fieldErrors.invalid(`${p}.name`, env.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    const from = env.valueFrom;
    if (from === undefined) return;
    if (!isPlainObject(from)) return errors.push(fieldErrors.invalid(`${p}.valueFrom`, from, "must be an object"));
    const sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter((k) => from[k] !== undefined);
    if (sources.length === 0) errors.push(fieldErrors.invalid(`${p}.valueFrom`, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    if (sources.length > 1) errors.push(fieldErrors.invalid(`${p}.valueFrom`, "", "may not have more than one field specified at a time"));
    if (env.value !== undefined && env.value !== "" && sources.length > 0) errors.push(fieldErrors.invalid(`${p}.valueFrom`, "", "may not be specified when `value` is not empty"));
    if (isPlainObject(from.fieldRef)) {
      const fp = from.fieldRef.fieldPath;
      const ok = typeof fp === "string" && (FIELD_PATHS.includes(fp) || /^metadata\.(labels|annotations)\['[^']+'\]$/.test(fp) || fp === "metadata.labels" || fp === "metadata.annotations");
      if (!ok) errors.push(fieldErrors.notSupported(`${p}.valueFrom.fieldRef.fieldPath`, fp ?? "", [...FIELD_PATHS, "metadata.annotations", "metadata.labels"]));
    }
    for (const ref of ["configMapKeyRef", "secretKeyRef"]) {
      const r = from[ref];
      if (isPlainObject(r) && (typeof r.key !== "string" || r.key === "")) errors.push(fieldErrors.required(`${p}.valueFrom.${ref}.key`));
    }
  });
}

function checkProbe(probe: unknown, path: string, errors: FieldError[]): void {
  if (probe === undefined) return;
  if (!isPlainObject(probe)) return void errors.push(fieldErrors.invalid(path, probe, "must be an object"));
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) errors.push(fieldErrors.required(path, "must specify a handler type"));
  if (handlers.length > 1) errors.push(fieldErrors.forbidden(`${path}.${handlers[1]}`, "may not specify more than 1 handler type"));
  for (const n of ["timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    const v = probe[n];
    if (v !== undefined && (typeof v !== "number" || v < 0)) errors.push(fieldErrors.invalid(`${path}.${n}`, v, "must be greater than or equal to 0"));
  }
  if (isPlainObject(probe.httpGet) && probe.httpGet.port === undefined) errors.push(fieldErrors.required(`${path}.httpGet.port`));
  if (isPlainObject(probe.tcpSocket) && probe.tcpSocket.port === undefined) errors.push(fieldErrors.required(`${path}.tcpSocket.port`));
}

function checkResources(resources: unknown, path: string, errors: FieldError[]): void {
  if (!isPlainObject(resources)) return;
  const quantities = (field: "limits" | "requests") => {
    const out: Record<string, number> = {};
    const v = resources[field];
    if (v === undefined) return out;
    if (!isPlainObject(v)) {
      errors.push(fieldErrors.invalid(`${path}.${field}`, v, "must be a map of quantities"));
      return out;
    }
    for (const [name, q] of Object.entries(v)) {
      const n = parseQuantity(q);
      if (n === undefined) errors.push(fieldErrors.invalid(`${path}.${field}[${name}]`, q, QUANTITY_FORMAT_MESSAGE));
      else if (n < 0) errors.push(fieldErrors.invalid(`${path}.${field}[${name}]`, q, "must be greater than or equal to 0"));
      else out[name] = n;
    }
    return out;
  };
  const limits = quantities("limits");
  const requests = quantities("requests");
  for (const [name, request] of Object.entries(requests)) {
    if (limits[name] !== undefined && request > limits[name]) {
      errors.push(fieldErrors.invalid(`${path}.requests`, String((resources.requests as Obj)[name]), `must be less than or equal to ${name} limit of ${String((resources.limits as Obj)[name])}`));
    }
  }
}

function checkContainer(c: Obj, path: string, volumes: Set<string>, names: Set<string>, portNames: Set<string>, hostNetwork: boolean, errors: FieldError[]): void {
  if (typeof c.name !== "string" || c.name === "") errors.push(fieldErrors.required(`${path}.name`));
  else {
    const problem = checkDnsLabel(c.name);
    if (problem) errors.push(fieldErrors.invalid(`${path}.name`, c.name, problem));
    if (names.has(c.name)) errors.push(fieldErrors.duplicate(`${path}.name`, c.name));
    names.add(c.name);
  }
  if (typeof c.image !== "string" || c.image.trim() === "") errors.push(fieldErrors.required(`${path}.image`));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(String(c.imagePullPolicy))) errors.push(fieldErrors.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  checkPorts(c, path, hostNetwork, portNames, errors);
  checkEnv(c, path, errors);
  const mountPaths = new Set<string>();
  list(c.volumeMounts).forEach((m, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!isPlainObject(m)) return errors.push(fieldErrors.invalid(p, m, "must be an object"));
    if (typeof m.name !== "string" || m.name === "") errors.push(fieldErrors.required(`${p}.name`));
    else if (!volumes.has(m.name)) errors.push(fieldErrors.notFound(`${p}.name`, m.name));
    if (typeof m.mountPath !== "string" || m.mountPath === "") errors.push(fieldErrors.required(`${p}.mountPath`));
    else {
      if (mountPaths.has(m.mountPath)) errors.push(fieldErrors.invalid(`${p}.mountPath`, m.mountPath, "must be unique"));
      mountPaths.add(m.mountPath);
    }
  });
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) checkProbe(c[probe], `${path}.${probe}`, errors);
  checkResources(c.resources, `${path}.resources`, errors);
}

function checkVolumes(spec: Obj, path: string, errors: FieldError[]): Set<string> {
  const names = new Set<string>();
  list(spec.volumes).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    if (!isPlainObject(v)) return errors.push(fieldErrors.invalid(p, v, "must be an object"));
    if (typeof v.name !== "string" || v.name === "") errors.push(fieldErrors.required(`${p}.name`));
    else {
      const problem = checkDnsLabel(v.name);
      if (problem) errors.push(fieldErrors.invalid(`${p}.name`, v.name, problem));
      if (names.has(v.name)) errors.push(fieldErrors.duplicate(`${p}.name`, v.name));
      names.add(v.name);
    }
    const sources = volumeSourcesOf(v);
    if (sources.length > 1) errors.push(fieldErrors.forbidden(`${p}.${sources[1]}`, "may not specify more than 1 volume type"));
    if (isPlainObject(v.hostPath)) {
      if (typeof v.hostPath.path !== "string" || v.hostPath.path === "") errors.push(fieldErrors.required(`${p}.hostPath.path`));
      if (v.hostPath.type !== undefined && !HOST_PATH_TYPES.includes(String(v.hostPath.type))) errors.push(fieldErrors.notSupported(`${p}.hostPath.type`, v.hostPath.type, HOST_PATH_TYPES));
    }
    for (const ref of ["configMap", "persistentVolumeClaim"]) {
      const r = v[ref];
      const key = ref === "configMap" ? "name" : "claimName";
      if (isPlainObject(r) && (typeof r[key] !== "string" || r[key] === "")) errors.push(fieldErrors.required(`${p}.${ref}.${key}`));
    }
  });
  return names;
}

function checkTolerations(spec: Obj, path: string, errors: FieldError[]): void {
  list(spec.tolerations).forEach((t, i) => {
    const p = `${path}.tolerations[${i}]`;
    if (!isPlainObject(t)) return errors.push(fieldErrors.invalid(p, t, "must be an object"));
    if (t.key !== undefined && t.key !== "") {
      const problem = checkQualifiedName(String(t.key));
      if (problem) errors.push(fieldErrors.invalid(`${p}.key`, t.key, problem));
    }
    const operator = t.operator ?? "Equal";
    if (!TOLERATION_OPERATORS.includes(String(operator))) errors.push(fieldErrors.notSupported(`${p}.operator`, operator, TOLERATION_OPERATORS));
    if ((t.key === undefined || t.key === "") && operator !== "Exists") errors.push(fieldErrors.invalid(`${p}.operator`, operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    if (operator === "Exists" && t.value !== undefined && t.value !== "") errors.push(fieldErrors.invalid(`${p}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    if (t.effect !== undefined && t.effect !== "" && !TAINT_EFFECTS.includes(String(t.effect))) errors.push(fieldErrors.notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") errors.push(fieldErrors.invalid(`${p}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  });
}

function checkSelectorTerms(terms: unknown, path: string, errors: FieldError[]): void {
  if (!Array.isArray(terms) || terms.length === 0) return void errors.push(fieldErrors.required(path, "must have at least one node selector term"));
  terms.forEach((term, i) => {
    if (!isPlainObject(term)) return;
    for (const kind of ["matchExpressions", "matchFields"]) {
      list(term[kind]).forEach((req, j) => {
        const p = `${path}[${i}].${kind}[${j}]`;
        if (!isPlainObject(req)) return;
        if (!SELECTOR_OPERATORS.includes(String(req.operator))) errors.push(fieldErrors.notSupported(`${p}.operator`, req.operator ?? "", SELECTOR_OPERATORS));
        const values = Array.isArray(req.values) ? req.values : [];
        if ((req.operator === "In" || req.operator === "NotIn") && values.length === 0) errors.push(fieldErrors.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        if ((req.operator === "Exists" || req.operator === "DoesNotExist") && values.length > 0) errors.push(fieldErrors.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      });
    }
  });
}

export function validatePodSpec(spec: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isPlainObject(spec)) return [fieldErrors.required(path)];
  const volumes = checkVolumes(spec, path, errors);
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) errors.push(fieldErrors.required(`${path}.containers`));
  const names = new Set<string>();
  const portNames = new Set<string>();
  const hostNetwork = spec.hostNetwork === true;
  for (const field of ["initContainers", "containers"]) {
    list(spec[field]).forEach((c, i) => {
      if (!isPlainObject(c)) return errors.push(fieldErrors.invalid(`${path}.${field}[${i}]`, c, "must be an object"));
      checkContainer(c, `${path}.${field}[${i}]`, volumes, names, portNames, hostNetwork, errors);
    });
  }
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(String(spec.restartPolicy))) errors.push(fieldErrors.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(String(spec.dnsPolicy))) errors.push(fieldErrors.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  for (const field of ["serviceAccountName", "nodeName", "priorityClassName", "schedulerName"]) {
    const v = spec[field];
    if (typeof v === "string" && v !== "") {
      const problem = checkDnsSubdomain(v);
      if (problem) errors.push(fieldErrors.invalid(`${path}.${field}`, v, problem));
    }
  }
  if (isPlainObject(spec.nodeSelector)) {
    for (const [k, v] of Object.entries(spec.nodeSelector)) {
      const problem = checkQualifiedName(k) ?? (typeof v === "string" ? checkLabelValue(v) : "must be a string");
      if (problem) errors.push(fieldErrors.invalid(`${path}.nodeSelector`, k, problem));
    }
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== "number" || !Number.isInteger(grace))) errors.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, grace, "must be an integer"));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== "number" || deadline <= 0)) errors.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, deadline, "must be between 1 and 2147483647, inclusive"));
  checkTolerations(spec, path, errors);
  const affinity = spec.affinity;
  if (isPlainObject(affinity) && isPlainObject(affinity.nodeAffinity)) {
    const required = affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    if (isPlainObject(required)) checkSelectorTerms(required.nodeSelectorTerms, `${path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, errors);
  }
  return errors;
}
