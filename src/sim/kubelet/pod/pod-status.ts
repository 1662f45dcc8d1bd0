// A pod's status as the kubelet's status manager writes it (generateAPIPodStatus): phase from the
// containers' states and the restart policy, the conditions PodReadyToStartContainers, Initialized,
// ContainersReady and Ready (PodScheduled is the scheduler's, kept as it is), podIP(s) and hostIP(s),
// and a status per container (waiting with the kubelet's reason, running, or terminated, with the
// last termination and the restart count). Transition times stay while a condition keeps its value.

import type { KObject } from "../../kube/objects.ts";
import type { ContainerStatus as RuntimeContainer, Sandbox } from "../runtime/runtime.ts";
import { podSpec, type ContainerSpec } from "./container-spec.ts";

/** What the kubelet knows of one pod on its node, besides the pod object. */
export interface PodView {
  sandbox: Sandbox | undefined;
  /** Every runtime container of the pod's current sandbox, by container name (oldest attempt first). */
  containers: Map<string, RuntimeContainer[]>;
  /** Why a container is waiting (ContainerCreating, CrashLoopBackOff, ErrImagePull, ...). */
  waiting: Map<string, { reason: string; message?: string }>;
  /** Readiness-probe results; a container with no readiness probe is ready once running. */
  ready: Map<string, boolean>;
  /** Startup-probe results; a container with no startup probe has started once running. */
  started: Map<string, boolean>;
  /** Admission refused the pod (OutOfpods): it fails without running. */
  rejected?: { reason: string; message: string };
  startTime?: string;
}

export function emptyView(): PodView {
  return { sandbox: undefined, containers: new Map(), waiting: new Map(), ready: new Map(), started: new Map() };
}

type Condition = { type: string; status: "True" | "False"; reason?: string; message?: string; lastProbeTime: null; lastTransitionTime: string };

function latest(view: PodView, name: string): RuntimeContainer | undefined {
  const list = view.containers.get(name);
  return list?.[list.length - 1];
}

function previous(view: PodView, name: string): RuntimeContainer | undefined {
  const list = view.containers.get(name);
  return list && list.length > 1 ? list[list.length - 2] : undefined;
}

function terminated(c: RuntimeContainer) {
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason ?? (c.exitCode === 0 ? "Completed" : "Error"),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt ?? c.createdAt,
      finishedAt: c.finishedAt ?? c.createdAt,
      containerID: `containerd://${c.id}`,
    },
  };
}

function containerStatus(spec: ContainerSpec, view: PodView, init: boolean): Record<string, unknown> {
  const c = latest(view, spec.name);
  const waiting = view.waiting.get(spec.name);
  const before = c && c.state === "exited" && waiting ? c : previous(view, spec.name);
  const restartCount = Math.max(0, (view.containers.get(spec.name)?.length ?? 0) - 1);
  let state: Record<string, unknown>;
  let ready = false;
  let started = false;
  if (waiting && (!c || c.state !== "running")) {
    state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
  } else if (!c) {
    state = { waiting: { reason: init || view.sandbox === undefined ? (init ? "PodInitializing" : "ContainerCreating") : "PodInitializing" } };
  } else if (c.state === "running") {
    state = { running: { startedAt: c.startedAt ?? c.createdAt } };
    started = view.started.get(spec.name) ?? spec.startupProbe === undefined;
    ready = !init && started && (view.ready.get(spec.name) ?? spec.readinessProbe === undefined);
  } else if (c.state === "exited") {
    state = terminated(c);
    ready = init && c.exitCode === 0;
  } else {
    state = { waiting: { reason: "ContainerCreating" } };
  }
  const lastState = before && before !== c ? terminated(before) : c && c.state === "exited" && waiting ? terminated(c) : {};
  const pulledImage = spec.image.includes("/") || spec.image.includes(":") ? spec.image : `docker.io/library/${spec.image}:latest`;
  return {
    name: spec.name,
    state,
    lastState,
    ready,
    restartCount,
    image: spec.image,
    imageID: `${pulledImage.split(":")[0]}@sha256:${"0".repeat(64)}`,
    ...(c ? { containerID: `containerd://${c.id}` } : {}),
    started: init ? c?.state === "running" : started,
  };
}

/** Whether every init container has completed (exit 0). */
export function initialized(pod: KObject, view: PodView): boolean {
  return ((podSpec(pod).initContainers ?? []) as ContainerSpec[]).every((c) => {
    const r = latest(view, c.name);
    return r?.state === "exited" && r.exitCode === 0;
  });
}

/** Whether the restart policy restarts this exited container. */
export function restarts(pod: KObject, c: RuntimeContainer): boolean {
  const policy = podSpec(pod).restartPolicy ?? "Always";
  return policy === "Always" || (policy === "OnFailure" && c.exitCode !== 0);
}

export function podPhase(pod: KObject, view: PodView): "Pending" | "Running" | "Succeeded" | "Failed" {
  if (view.rejected) return "Failed";
  if (!view.sandbox || !initialized(pod, view)) return "Pending";
  const containers = (podSpec(pod).containers ?? []) as ContainerSpec[];
  let running = 0;
  let waitingToStart = 0;
  let succeeded = 0;
  let failed = 0;
  let restarting = 0;
  for (const spec of containers) {
    const c = latest(view, spec.name);
    if (!c || c.state === "created") waitingToStart++;
    else if (c.state === "running") running++;
    else if (restarts(pod, c)) restarting++;
    else if (c.exitCode === 0) succeeded++;
    else failed++;
  }
  if (waitingToStart > 0) return "Pending";
  if (running > 0 || restarting > 0) return "Running";
  if (failed > 0) return "Failed";
  return succeeded > 0 ? "Succeeded" : "Pending";
}

/** The pod's new status; `old` is the status it has now (its transition times are kept). */
export function podStatus(pod: KObject, view: PodView, hostIP: string, now: string): Record<string, unknown> {
  const old = (pod.status ?? {}) as any;
  const spec = podSpec(pod);
  const oldConditions = new Map<string, any>(((old.conditions ?? []) as any[]).map((c) => [c.type, c]));
  const condition = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
    const was = oldConditions.get(type);
    const status = ok ? "True" : "False";
    return { type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastProbeTime: null, lastTransitionTime: was?.status === status ? was.lastTransitionTime : now };
  };
  if (view.rejected) {
    return { ...old, phase: "Failed", reason: view.rejected.reason, message: view.rejected.message, startTime: old.startTime ?? now };
  }
  const inits = (spec.initContainers ?? []) as ContainerSpec[];
  const containers = (spec.containers ?? []) as ContainerSpec[];
  const initStatuses = inits.map((c) => containerStatus(c, view, true));
  const statuses = containers.map((c) => containerStatus(c, view, false));
  const isInitialized = initialized(pod, view);
  const allReady = isInitialized && statuses.length > 0 && statuses.every((s) => s.ready === true);
  const phase = podPhase(pod, view);
  const unready = statuses.filter((s) => s.ready !== true).map((s) => s.name as string);
  const terminal = phase === "Succeeded" || phase === "Failed";
  const conditions: Condition[] = [
    condition("PodReadyToStartContainers", view.sandbox?.state === "ready" && !terminal),
    condition("Initialized", isInitialized, isInitialized ? undefined : "ContainersNotInitialized", isInitialized ? undefined : `containers with incomplete status: [${inits.filter((c) => !(initStatuses.find((s) => s.name === c.name) as any).ready).map((c) => c.name).join(" ")}]`),
    condition("Ready", allReady, allReady ? undefined : terminal ? "PodCompleted" : "ContainersNotReady", allReady || terminal ? undefined : `containers with unready status: [${unready.join(" ")}]`),
    condition("ContainersReady", allReady, allReady ? undefined : terminal ? "PodCompleted" : "ContainersNotReady", allReady || terminal ? undefined : `containers with unready status: [${unready.join(" ")}]`),
  ];
  const scheduled = oldConditions.get("PodScheduled");
  const podIPs = spec.hostNetwork === true ? [hostIP] : (view.sandbox?.ips ?? []);
  const status: Record<string, unknown> = {
    phase,
    conditions: [...conditions.slice(0, 2), ...conditions.slice(2), ...(scheduled ? [scheduled] : [condition("PodScheduled", true)])],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    ...(podIPs.length > 0 && view.sandbox ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: old.startTime ?? view.startTime ?? now,
    ...(initStatuses.length > 0 ? { initContainerStatuses: initStatuses } : {}),
    containerStatuses: statuses,
    qosClass: old.qosClass ?? qosClass(pod),
  };
  return status;
}

export function qosClass(pod: KObject): "Guaranteed" | "Burstable" | "BestEffort" {
  const all = [...((podSpec(pod).initContainers ?? []) as any[]), ...((podSpec(pod).containers ?? []) as any[])];
  const requests = all.flatMap((c) => Object.keys(c.resources?.requests ?? {}));
  const limits = all.flatMap((c) => Object.keys(c.resources?.limits ?? {}));
  if (requests.length === 0 && limits.length === 0) return "BestEffort";
  const guaranteed = all.every((c) => ["cpu", "memory"].every((r) => c.resources?.limits?.[r] !== undefined && (c.resources?.requests?.[r] ?? c.resources.limits[r]) === c.resources.limits[r]));
  return guaranteed ? "Guaranteed" : "Burstable";
}
