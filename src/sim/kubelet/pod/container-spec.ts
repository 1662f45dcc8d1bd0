// From a pod's spec to what the runtime is asked for, as the kubelet computes it: the sandbox's
// config (metadata, hostNetwork, hostname, port mappings), and per container its argv (the image's
// ENTRYPOINT/CMD overridden by command/args, $(VAR) references expanded), its environment (env with
// the downward API's fieldRefs, the service variables of the API server, the image's PATH) and the
// paths of its volumes. vpcsim's containers see the machine's filesystem, not an image's, so a path
// under a volume's mountPath (in an env value or an argument) is rewritten to where the volume is on
// this machine: a hostPath under the node's root, an emptyDir under the pod's directory.

import { join } from "node:path";
import type { KObject } from "../../kube/objects.ts";
import type { PortMapping } from "../cni/pod-network.ts";
import type { ContainerConfig, SandboxConfig } from "../runtime/runtime.ts";
import { DEFAULT_IMAGE_PATH, type PulledImage } from "../runtime/images.ts";

export interface PodContext {
  nodeName: string;
  nodeRoot: string;
  /** The pod's directory (<root>/var/lib/kubelet/pods/<uid>). */
  podDir: string;
  hostIP: string;
  podIPs: string[];
  /** The API server as pods are told to reach it (KUBERNETES_SERVICE_HOST/PORT). */
  apiHost: string;
  apiPort: number;
  /** KUBECONFIG for the pod's service account, when its token is mounted. */
  kubeconfig?: string;
  /**
   * What the node's environment gives every container (vpcsim has no DNS for AWS endpoints: the
   * EC2 endpoint and region, as `vpcsim exec` sets them); the pod's own env overrides it.
   */
  nodeEnv?: Record<string, string>;
}

export type ContainerSpec = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: any }>;
  workingDir?: string;
  ports?: Array<{ containerPort: number; hostPort?: number; protocol?: string; hostIP?: string; name?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  readinessProbe?: any;
  startupProbe?: any;
  livenessProbe?: any;
};

export function podSpec(pod: KObject): any {
  return (pod.spec ?? {}) as any;
}

export function sandboxConfig(pod: KObject, attempt: number): SandboxConfig {
  const spec = podSpec(pod);
  const meta = pod.metadata;
  const ports: PortMapping[] = [];
  for (const c of (spec.containers ?? []) as ContainerSpec[]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) ports.push({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol ?? "TCP", hostIP: p.hostIP ?? "" });
    }
  }
  return {
    namespace: meta.namespace ?? "default",
    name: meta.name ?? "",
    uid: meta.uid ?? "",
    attempt,
    hostNetwork: spec.hostNetwork === true,
    hostname: spec.hostname ?? meta.name ?? "",
    annotations: { ...(meta.annotations ?? {}), "kubernetes.io/config.source": "api" },
    labels: { ...(meta.labels ?? {}) },
    portMappings: spec.hostNetwork === true ? [] : ports,
  };
}

/** Where each of the pod's volumes is on this machine (undefined: a volume vpcsim cannot provide). */
export function volumePaths(pod: KObject, ctx: PodContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of (podSpec(pod).volumes ?? []) as any[]) {
    if (v.hostPath?.path) out.set(v.name, join(ctx.nodeRoot, v.hostPath.path));
    else if (v.emptyDir) out.set(v.name, join(ctx.podDir, "volumes/kubernetes.io~empty-dir", v.name));
    else if (v.projected || v.secret || v.configMap || v.downwardAPI) out.set(v.name, join(ctx.podDir, "volumes", v.name));
  }
  return out;
}

/** Rewrites a path (or KEY=path) under a mount to the volume's place on this machine. */
export function rewritePath(value: string, mounts: ReadonlyArray<{ mountPath: string; hostPath: string }>): string {
  const eq = value.indexOf("=");
  const [prefix, path] = value.startsWith("/") || eq < 0 ? ["", value] : [value.slice(0, eq + 1), value.slice(eq + 1)];
  for (const m of mounts) {
    const mp = m.mountPath.replace(/\/+$/, "");
    if (path === mp || path.startsWith(`${mp}/`)) return `${prefix}${m.hostPath}${path.slice(mp.length)}`;
  }
  return value;
}

/** The downward API's value of a fieldRef, or undefined when the field is not supported. */
function fieldValue(pod: KObject, fieldPath: string, ctx: PodContext): string | undefined {
  const meta = pod.metadata;
  const spec = podSpec(pod);
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return meta.labels?.[label[1]!] ?? "";
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (annotation) return meta.annotations?.[annotation[1]!] ?? "";
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "spec.nodeName":
      return ctx.nodeName;
    case "spec.serviceAccountName":
      return spec.serviceAccountName ?? "";
    case "status.hostIP":
      return ctx.hostIP;
    case "status.hostIPs":
      return ctx.hostIP;
    case "status.podIP":
      return ctx.podIPs[0] ?? "";
    case "status.podIPs":
      return ctx.podIPs.join(",");
  }
  return undefined;
}

/** $(VAR) references expanded as Kubernetes does ($$ escapes; unknown references stay as written). */
export function expand(text: string, vars: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === "$$") return "$";
    return vars.has(name!) ? vars.get(name!)! : whole;
  });
}

export class ContainerSpecError extends Error {}

/** The runtime's container config; throws ContainerSpecError (CreateContainerConfigError) when it cannot be made. */
export function containerConfig(pod: KObject, container: ContainerSpec, image: PulledImage, attempt: number, ctx: PodContext): ContainerConfig {
  const paths = volumePaths(pod, ctx);
  const mounts = (container.volumeMounts ?? [])
    .map((m) => {
      const hostPath = paths.get(m.name);
      if (hostPath === undefined) throw new ContainerSpecError(`volume "${m.name}" of container "${container.name}" is not a hostPath, emptyDir or projected volume vpcsim provides`);
      return { mountPath: m.mountPath, hostPath };
    })
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const env = new Map<string, string>();
  env.set("PATH", [image.binDir, DEFAULT_IMAGE_PATH].filter(Boolean).join(":"));
  env.set("HOSTNAME", podSpec(pod).hostNetwork === true ? ctx.nodeName : (podSpec(pod).hostname ?? pod.metadata.name ?? ""));
  env.set("KUBERNETES_SERVICE_HOST", ctx.apiHost);
  env.set("KUBERNETES_SERVICE_PORT", String(ctx.apiPort));
  env.set("KUBERNETES_SERVICE_PORT_HTTPS", String(ctx.apiPort));
  env.set("KUBERNETES_PORT", `tcp://${ctx.apiHost}:${ctx.apiPort}`);
  if (ctx.kubeconfig) env.set("KUBECONFIG", ctx.kubeconfig);
  for (const [k, v] of Object.entries(ctx.nodeEnv ?? {})) env.set(k, v);
  for (const e of container.env ?? []) {
    let value: string;
    if (e.valueFrom?.fieldRef) {
      const v = fieldValue(pod, String(e.valueFrom.fieldRef.fieldPath ?? ""), ctx);
      if (v === undefined) throw new ContainerSpecError(`env ${e.name}: fieldRef ${e.valueFrom.fieldRef.fieldPath} is not supported`);
      value = v;
    } else if (e.valueFrom?.resourceFieldRef) {
      value = "0";
    } else if (e.valueFrom) {
      throw new ContainerSpecError(`env ${e.name}: only value, fieldRef and resourceFieldRef are supported (secrets and configmaps are not)`);
    } else {
      value = expand(e.value ?? "", env);
    }
    env.set(e.name, rewritePath(value, mounts));
  }
  const command = container.command && container.command.length > 0 ? container.command.map((c) => expand(c, env)) : [...image.spec.entrypoint];
  const args = container.args && container.args.length > 0 ? container.args.map((a) => expand(a, env)) : container.command && container.command.length > 0 ? [] : [...image.spec.cmd];
  const argv = [...command, ...args].map((a, i) => (i === 0 ? a : rewritePath(a, mounts)));
  if (argv.length === 0) throw new ContainerSpecError(`container "${container.name}": no command specified and the image has no ENTRYPOINT or CMD`);
  const meta = pod.metadata;
  return {
    name: container.name,
    attempt,
    image: container.image,
    argv,
    env: Object.fromEntries(env),
    workingDir: container.workingDir ? rewritePath(container.workingDir, mounts) : "",
    logPath: join(ctx.nodeRoot, "var/log/pods", `${meta.namespace}_${meta.name}_${meta.uid}`, container.name, `${attempt}.log`),
  };
}
