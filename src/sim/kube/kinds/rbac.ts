// rbac.authorization.k8s.io/v1: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, with
// RBAC's validation (path-segment names, rule shapes, roleRef fixed once set, subject kinds). What
// the objects grant is evaluated by auth/rbac.ts; who may write them (escalation) by
// admission/rbac-escalation.ts.

import { deepEqual, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkPathSegment } from "../validation/names.ts";
import { clusterRoleBindingSchema, clusterRoleSchema, roleBindingSchema, roleSchema } from "../schema/cluster.ts";

const GROUP = "rbac.authorization.k8s.io";

function validateRules(role: KObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const rules = role.rules;
  if (rules === undefined || rules === null) return errors;
  if (!Array.isArray(rules)) return [fieldErrors.invalid("rules", rules, "must be a list")];
  rules.forEach((rule, i) => {
    const p = `rules[${i}]`;
    if (!isPlainObject(rule)) return errors.push(fieldErrors.invalid(p, rule, "must be an object"));
    const list = (k: string) => (Array.isArray(rule[k]) ? (rule[k] as unknown[]) : []);
    if (list("verbs").length === 0) errors.push(fieldErrors.required(`${p}.verbs`, "verbs must contain at least one value"));
    const nonResource = list("nonResourceURLs");
    if (nonResource.length > 0) {
      if (namespaced) errors.push(fieldErrors.invalid(`${p}.nonResourceURLs`, nonResource, "namespaced rules cannot apply to non-resource URLs"));
      if (list("apiGroups").length > 0 || list("resources").length > 0) errors.push(fieldErrors.invalid(`${p}.nonResourceURLs`, nonResource, "rules cannot apply to both regular resources and non-resource URLs"));
      return;
    }
    if (list("apiGroups").length === 0) errors.push(fieldErrors.required(`${p}.apiGroups`, "resource rules must supply at least one api group"));
    if (list("resources").length === 0) errors.push(fieldErrors.required(`${p}.resources`, "resource rules must supply at least one resource"));
  });
  return errors;
}

function validateBinding(binding: KObject, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const ref = binding.roleRef;
  if (!isPlainObject(ref)) errors.push(fieldErrors.required("roleRef", ""));
  else {
    if (ref.apiGroup !== GROUP) errors.push(fieldErrors.notSupported("roleRef.apiGroup", ref.apiGroup ?? "", [GROUP]));
    const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
    if (!kinds.includes(String(ref.kind))) errors.push(fieldErrors.notSupported("roleRef.kind", ref.kind ?? "", kinds));
    if (typeof ref.name !== "string" || ref.name === "") errors.push(fieldErrors.required("roleRef.name", ""));
    else {
      const problem = checkPathSegment(ref.name);
      if (problem) errors.push(fieldErrors.invalid("roleRef.name", ref.name, problem));
    }
  }
  const subjects = binding.subjects;
  if (subjects !== undefined && subjects !== null) {
    if (!Array.isArray(subjects)) errors.push(fieldErrors.invalid("subjects", subjects, "must be a list"));
    else {
      subjects.forEach((s, i) => {
        const p = `subjects[${i}]`;
        if (!isPlainObject(s)) return errors.push(fieldErrors.invalid(p, s, "must be an object"));
        if (typeof s.name !== "string" || s.name === "") errors.push(fieldErrors.required(`${p}.name`, ""));
        switch (s.kind) {
          case "ServiceAccount":
            if (s.apiGroup !== undefined && s.apiGroup !== "") errors.push(fieldErrors.notSupported(`${p}.apiGroup`, s.apiGroup, [""]));
            if (!namespaced && (typeof s.namespace !== "string" || s.namespace === "")) errors.push(fieldErrors.required(`${p}.namespace`, ""));
            break;
          case "User":
          case "Group":
            if (s.apiGroup !== GROUP) errors.push(fieldErrors.notSupported(`${p}.apiGroup`, s.apiGroup ?? "", [GROUP]));
            break;
          default:
            errors.push(fieldErrors.notSupported(`${p}.kind`, s.kind ?? "", ["ServiceAccount", "User", "Group"]));
        }
      });
    }
  }
  return errors;
}

function roleRefImmutable(binding: KObject, old: KObject): FieldError[] {
  return deepEqual(binding.roleRef, old.roleRef) ? [] : [fieldErrors.invalid("roleRef", binding.roleRef ?? null, "cannot change roleRef")];
}

const common = { group: GROUP, version: "v1", validateName: checkPathSegment } as const;

export const roles = defineType({ ...common, resource: "roles", kind: "Role", namespaced: true, schema: roleSchema, strategy: { validate: (r) => validateRules(r, true) } });

export const clusterroles = defineType({ ...common, resource: "clusterroles", kind: "ClusterRole", namespaced: false, schema: clusterRoleSchema, strategy: { validate: (r) => validateRules(r, false) } });

export const rolebindings = defineType({
  ...common,
  resource: "rolebindings",
  kind: "RoleBinding",
  namespaced: true,
  schema: roleBindingSchema,
  strategy: { validate: (b) => validateBinding(b, true), validateUpdate: roleRefImmutable },
});

export const clusterrolebindings = defineType({
  ...common,
  resource: "clusterrolebindings",
  kind: "ClusterRoleBinding",
  namespaced: false,
  schema: clusterRoleBindingSchema,
  strategy: { validate: (b) => validateBinding(b, false), validateUpdate: roleRefImmutable },
});
