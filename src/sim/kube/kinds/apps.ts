// apps/v1 workloads: Deployments, ReplicaSets, DaemonSets (their controllers are vpcsim's, in
// src/sim/cluster) and ControllerRevisions. Defaults and validation as apps/v1 has them: a
// required selector that matches the template's labels and never changes, templates whose pods
// restart Always, rolling-update defaults, status subresources and generation, scale for
// Deployments and ReplicaSets.

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import type { Strategy } from "../registry/resource-type.ts";
import type { TypeSchema } from "../schema/types.ts";
import { deepEqual } from "../objects.ts";
import { labelSelectorFromObject, matchesLabels } from "../selectors/labels.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { scaleSubresource } from "../api/scale.ts";
import { defaultPodTemplate } from "./pod-spec-defaults.ts";
import { validatePodSpec } from "./pod-spec-validation.ts";
import { controllerRevisionSchema, daemonSetSchema, deploymentSchema, replicaSetSchema } from "../schema/apps.ts";

type Obj = Record<string, unknown>;

function spec(o: KObject): Obj {
  if (!isPlainObject(o.spec)) o.spec = {};
  return o.spec as Obj;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function validateSelectorAndTemplate(o: KObject, errors: FieldError[]): void {
  const s = isPlainObject(o.spec) ? o.spec : {};
  if (s.selector === undefined || s.selector === null) {
    errors.push(fieldErrors.required("spec.selector", ""));
  } else {
    const { selector, problems } = labelSelectorFromObject(s.selector);
    for (const p of problems) errors.push(fieldErrors.invalid("spec.selector", s.selector, p));
    if (selector.length === 0) errors.push(fieldErrors.invalid("spec.selector", s.selector, "empty selector is invalid for deployment"));
    const template = isPlainObject(s.template) ? s.template : undefined;
    const labels = template && isPlainObject(template.metadata) && isPlainObject(template.metadata.labels) ? (template.metadata.labels as Record<string, string>) : {};
    if (problems.length === 0 && selector.length > 0 && !matchesLabels(selector, labels)) {
      errors.push(fieldErrors.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"));
    }
  }
  const template = s.template;
  if (!isPlainObject(template)) {
    errors.push(fieldErrors.required("spec.template", ""));
    return;
  }
  const podSpec = isPlainObject(template.spec) ? template.spec : undefined;
  errors.push(...validatePodSpec(podSpec, "spec.template.spec"));
  if (podSpec && podSpec.restartPolicy !== undefined && podSpec.restartPolicy !== "Always") {
    errors.push(fieldErrors.notSupported("spec.template.spec.restartPolicy", podSpec.restartPolicy, ["Always"]));
  }
  if (podSpec && podSpec.activeDeadlineSeconds !== undefined) errors.push(fieldErrors.forbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicaSet is not Supported"));
}

function validateReplicas(o: KObject, errors: FieldError[]): void {
  const replicas = (isPlainObject(o.spec) ? o.spec : {}).replicas;
  if (replicas !== undefined && (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)) errors.push(fieldErrors.invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
}

function immutableSelector(o: KObject, old: KObject): FieldError[] {
  const s = isPlainObject(o.spec) ? o.spec.selector : undefined;
  const os = isPlainObject(old.spec) ? old.spec.selector : undefined;
  return deepEqual(s, os) ? [] : [fieldErrors.invalid("spec.selector", s ?? null, "field is immutable")];
}

const SCALE_PATHS = { specReplicasPath: ["spec", "replicas"], statusReplicasPath: ["status", "replicas"], labelSelectorPath: ["spec", "selector"] };

/** An apps/v1 workload: namespaced, in category all, with status, generation and an immutable selector. */
function workload(resource: string, kind: string, shortName: string, scalable: boolean, schema: TypeSchema, strategy: Strategy) {
  return defineType({
    schema,
    group: "apps",
    version: "v1",
    resource,
    kind,
    namespaced: true,
    shortNames: [shortName],
    categories: ["all"],
    status: true,
    generation: true,
    ...(scalable ? { scale: SCALE_PATHS, subresources: { scale: scaleSubresource } } : {}),
    strategy: { ...strategy, validateUpdate: immutableSelector },
  });
}

export const deployments = workload("deployments", "Deployment", "deploy", true, deploymentSchema, {
  defaults(d) {
    const s = spec(d);
    setDefault(s, "replicas", 1);
    setDefault(s, "revisionHistoryLimit", 10);
    setDefault(s, "progressDeadlineSeconds", 600);
    const strategy: Obj = isPlainObject(s.strategy) ? s.strategy : {};
    setDefault(strategy, "type", "RollingUpdate");
    if (strategy.type === "RollingUpdate") {
      const ru: Obj = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
      setDefault(ru, "maxUnavailable", "25%");
      setDefault(ru, "maxSurge", "25%");
      strategy.rollingUpdate = ru;
    }
    s.strategy = strategy;
    defaultPodTemplate(s.template);
  },
  validate(d) {
    const errors: FieldError[] = [];
    validateReplicas(d, errors);
    validateSelectorAndTemplate(d, errors);
    const strategy = isPlainObject(d.spec) ? d.spec.strategy : undefined;
    if (isPlainObject(strategy) && !["RollingUpdate", "Recreate"].includes(String(strategy.type))) errors.push(fieldErrors.notSupported("spec.strategy.type", strategy.type, ["Recreate", "RollingUpdate"]));
    if (isPlainObject(strategy) && strategy.type === "Recreate" && strategy.rollingUpdate !== undefined) errors.push(fieldErrors.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
    return errors;
  },
});

export const replicasets = workload("replicasets", "ReplicaSet", "rs", true, replicaSetSchema, {
  defaults(rs) {
    setDefault(spec(rs), "replicas", 1);
    defaultPodTemplate(spec(rs).template);
  },
  validate(rs) {
    const errors: FieldError[] = [];
    validateReplicas(rs, errors);
    validateSelectorAndTemplate(rs, errors);
    return errors;
  },
});

export const daemonsets = workload("daemonsets", "DaemonSet", "ds", false, daemonSetSchema, {
  defaults(ds) {
    const s = spec(ds);
    setDefault(s, "revisionHistoryLimit", 10);
    const strategy: Obj = isPlainObject(s.updateStrategy) ? s.updateStrategy : {};
    setDefault(strategy, "type", "RollingUpdate");
    if (strategy.type === "RollingUpdate") {
      const ru: Obj = isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
      setDefault(ru, "maxUnavailable", 1);
      setDefault(ru, "maxSurge", 0);
      strategy.rollingUpdate = ru;
    }
    s.updateStrategy = strategy;
    defaultPodTemplate(s.template);
  },
  validate(ds) {
    const errors: FieldError[] = [];
    validateSelectorAndTemplate(ds, errors);
    const strategy = isPlainObject(ds.spec) ? ds.spec.updateStrategy : undefined;
    if (isPlainObject(strategy) && !["RollingUpdate", "OnDelete"].includes(String(strategy.type))) errors.push(fieldErrors.notSupported("spec.updateStrategy.type", strategy.type, ["OnDelete", "RollingUpdate"]));
    return errors;
  },
});

export const controllerrevisions = defineType({
  group: "apps",
  version: "v1",
  resource: "controllerrevisions",
  kind: "ControllerRevision",
  namespaced: true,
  schema: controllerRevisionSchema,
  strategy: {
    validate(cr) {
      const revision = cr.revision;
      return typeof revision === "number" && Number.isInteger(revision) && revision >= 0 ? [] : [fieldErrors.invalid("revision", revision ?? null, "must be greater than or equal to 0")];
    },
    validateUpdate: (cr, old) => (deepEqual(cr.data, old.data) ? [] : [fieldErrors.invalid("data", cr.data ?? null, "field is immutable")]),
  },
});
