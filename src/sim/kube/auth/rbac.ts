// RBAC authorization with Kubernetes' semantics, read from the Role, ClusterRole, RoleBinding and
// ClusterRoleBinding objects in the store: ClusterRoleBindings grant everywhere, RoleBindings in
// their namespace (to a Role there or a ClusterRole); rules match verbs, API groups, resources
// (with subresources as `pods/status`, `*` and `*/status`), resourceNames and nonResourceURLs (with
// a trailing `*`). ClusterRoles with an aggregationRule hold the rules of the ClusterRoles their
// selectors pick. Nothing is allowed that no rule allows.

import { isPlainObject, type KObject } from "../objects.ts";
import type { AdmissionReader } from "../admission/plugin.ts";
import { labelSelectorFromObject, matchesLabels } from "../selectors/labels.ts";
import type { UserInfo } from "./user.ts";

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** For non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** For list and watch: the selectors (the Node authorizer looks at spec.nodeName, metadata.name). */
  fieldSelector?: string;
  labelSelector?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why (RBAC's "allowed by ClusterRoleBinding ..." or a denial's reason), for SARs and logs. */
  reason: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Decision;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function rulesOf(role: KObject | undefined): PolicyRule[] {
  if (!role || !Array.isArray(role.rules)) return [];
  return role.rules.filter(isPlainObject).map((r) => ({
    verbs: strings(r.verbs),
    apiGroups: strings(r.apiGroups),
    resources: strings(r.resources),
    resourceNames: strings(r.resourceNames),
    nonResourceURLs: strings(r.nonResourceURLs),
  }));
}

export function ruleAllows(rule: PolicyRule, a: Omit<AuthorizationAttributes, "user">): boolean {
  if (!rule.verbs.includes("*") && !rule.verbs.includes(a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === "*" || u === a.path || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))));
  }
  const groups = rule.apiGroups ?? [];
  if (!groups.includes("*") && !groups.includes(a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.some((r) => r === "*" || r === combined || (a.subresource !== "" && r === `*/${a.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (a.name !== "" && names.includes(a.name));
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.username;
    case "Group":
      return subject.name !== undefined && user.groups.includes(subject.name);
    case "ServiceAccount": {
      const ns = subject.namespace || bindingNamespace;
      return ns !== "" && user.username === `system:serviceaccount:${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

function subjectsOf(binding: KObject): Subject[] {
  return Array.isArray(binding.subjects) ? (binding.subjects.filter(isPlainObject) as Subject[]) : [];
}

function roleRefOf(binding: KObject): { kind: string; name: string } | undefined {
  const ref = binding.roleRef;
  if (!isPlainObject(ref) || typeof ref.kind !== "string" || typeof ref.name !== "string") return undefined;
  return { kind: ref.kind, name: ref.name };
}

export class RbacAuthorizer implements Authorizer {
  private readonly reader: AdmissionReader;

  constructor(reader: AdmissionReader) {
    this.reader = reader;
  }

  /** The rules of a ClusterRole, with aggregation resolved. */
  clusterRoleRules(name: string): PolicyRule[] {
    const role = this.reader.get("rbac.authorization.k8s.io/v1/clusterroles", "", name);
    if (!role) return [];
    const aggregation = role.aggregationRule;
    if (!isPlainObject(aggregation) || !Array.isArray(aggregation.clusterRoleSelectors)) return rulesOf(role);
    const all = this.reader.list("rbac.authorization.k8s.io/v1/clusterroles", "");
    const rules: PolicyRule[] = [];
    for (const selectorObject of aggregation.clusterRoleSelectors) {
      const { selector } = labelSelectorFromObject(selectorObject);
      for (const other of all) {
        if (other.metadata.name !== name && !isPlainObject(other.aggregationRule) && matchesLabels(selector, other.metadata.labels)) rules.push(...rulesOf(other));
      }
    }
    return rules;
  }

  /** Every rule that applies to the user in `namespace` ("" = cluster-wide only), with where it came from. */
  rulesFor(user: UserInfo, namespace: string): { rule: PolicyRule; source: string }[] {
    const out: { rule: PolicyRule; source: string }[] = [];
    for (const binding of this.reader.list("rbac.authorization.k8s.io/v1/clusterrolebindings", "")) {
      const ref = roleRefOf(binding);
      if (!ref || ref.kind !== "ClusterRole" || !subjectsOf(binding).some((s) => subjectMatches(s, user, ""))) continue;
      const source = `RBAC: allowed by ClusterRoleBinding "${binding.metadata.name}" of ClusterRole "${ref.name}" to ${describeUser(user)}`;
      for (const rule of this.clusterRoleRules(ref.name)) out.push({ rule, source });
    }
    if (namespace) {
      for (const binding of this.reader.list("rbac.authorization.k8s.io/v1/rolebindings", namespace)) {
        const ref = roleRefOf(binding);
        if (!ref || !subjectsOf(binding).some((s) => subjectMatches(s, user, namespace))) continue;
        const rules =
          ref.kind === "ClusterRole" ? this.clusterRoleRules(ref.name) : ref.kind === "Role" ? rulesOf(this.reader.get("rbac.authorization.k8s.io/v1/roles", namespace, ref.name)) : [];
        const source = `RBAC: allowed by RoleBinding "${binding.metadata.name}/${namespace}" of ${ref.kind} "${ref.name}" to ${describeUser(user)}`;
        for (const rule of rules) out.push({ rule, source });
      }
    }
    return out;
  }

  authorize(a: AuthorizationAttributes): Decision {
    for (const { rule, source } of this.rulesFor(a.user, a.resourceRequest ? a.namespace : "")) {
      if (ruleAllows(rule, a)) return { allowed: true, reason: source };
    }
    return { allowed: false, reason: "" };
  }
}

function describeUser(user: UserInfo): string {
  if (user.username.startsWith("system:serviceaccount:")) {
    const [, , ns, name] = user.username.split(":");
    return `ServiceAccount "${name}/${ns}"`;
  }
  return `User "${user.username}"`;
}

/** The 403 wording of Kubernetes' authorization filter. */
export function forbiddenMessage(a: AuthorizationAttributes, reason: string): string {
  const user = a.user.username;
  let message: string;
  if (!a.resourceRequest) message = `User "${user}" cannot ${a.verb} path "${a.path}"`;
  else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    message = a.namespace
      ? `User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" in the namespace "${a.namespace}"`
      : `User "${user}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" at the cluster scope`;
  }
  return reason ? `${message}: ${reason}` : message;
}
