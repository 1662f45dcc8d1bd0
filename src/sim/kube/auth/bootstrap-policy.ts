// The RBAC objects every cluster starts with (the API server's bootstrap policy), created at start
// the way kube-apiserver reconciles them: cluster-admin for system:masters, discovery, basic-user
// and public-info-viewer for everyone authenticated (public info also for anonymous), the
// user-facing view/edit/admin roles aggregated from their `aggregate-to-*` parts, and system:node,
// whose rules the Node authorizer applies (its binding has no subjects, as in Kubernetes).
// Nothing of vpc-cni's is here: its RBAC comes from deploy/.

import type { KObject } from "../objects.ts";
import type { PolicyRule } from "./rbac.ts";

const RBAC = "rbac.authorization.k8s.io/v1";
const BOOTSTRAP_LABELS = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const AUTOUPDATE = { "rbac.authorization.kubernetes.io/autoupdate": "true" };

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];

function clusterRole(name: string, rules: PolicyRule[], extra: Partial<KObject> & { labels?: Record<string, string> } = {}): KObject {
  const { labels, ...rest } = extra;
  return { apiVersion: RBAC, kind: "ClusterRole", metadata: { name, labels: { ...BOOTSTRAP_LABELS, ...labels }, annotations: AUTOUPDATE }, rules, ...rest };
}

function clusterRoleBinding(name: string, role: string, groups: string[]): KObject {
  const binding: KObject = {
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name, labels: BOOTSTRAP_LABELS, annotations: AUTOUPDATE },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
  };
  if (groups.length > 0) binding.subjects = groups.map((g) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: g }));
  return binding;
}

/** What the Node authorizer grants a kubelet (before its per-object checks). */
export const NODE_RULES: PolicyRule[] = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["create", "get", "list", "watch", "update", "patch", "delete"] },
  { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch", "update"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["pods/status"], verbs: ["patch", "update"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch", "update"] },
  { apiGroups: [""], resources: ["services", "endpoints"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update", "patch", "delete"] },
  { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
  { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews", "localsubjectaccessreviews"], verbs: ["create"] },
];

const CORE_WORKLOAD_RESOURCES = ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy", "endpoints"];
const APPS_RESOURCES = ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale", "controllerrevisions"];

export function bootstrapPolicy(): KObject[] {
  const view: PolicyRule[] = [
    { apiGroups: [""], resources: [...CORE_WORKLOAD_RESOURCES.filter((r) => !r.includes("/")), "pods/log", "pods/status", "namespaces", "namespaces/status", "resourcequotas", "limitranges", "bindings"], verbs: READ },
    { apiGroups: ["apps"], resources: APPS_RESOURCES.filter((r) => !r.includes("rollback")), verbs: READ },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: READ },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
  ];
  const edit: PolicyRule[] = [
    { apiGroups: [""], resources: CORE_WORKLOAD_RESOURCES, verbs: WRITE },
    { apiGroups: [""], resources: ["secrets"], verbs: [...READ, ...WRITE] },
    { apiGroups: [""], resources: ["serviceaccounts/token"], verbs: ["create"] },
    { apiGroups: ["apps"], resources: APPS_RESOURCES, verbs: WRITE },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: WRITE },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: WRITE },
  ];
  const admin: PolicyRule[] = [
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: [...READ, ...WRITE] },
    { apiGroups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"], verbs: ["create"] },
  ];
  const aggregated = (name: string, to: string[]) =>
    clusterRole(name, [], { aggregationRule: { clusterRoleSelectors: to.map((t) => ({ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${t}`]: "true" } })) } });
  return [
    clusterRole("cluster-admin", [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, { nonResourceURLs: ["*"], verbs: ["*"] }]),
    clusterRole("system:discovery", [{ nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
    clusterRole("system:basic-user", [
      { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"] },
      { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
    ]),
    clusterRole("system:public-info-viewer", [{ nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
    clusterRole("system:node", NODE_RULES),
    clusterRole("system:auth-delegator", [
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]),
    aggregated("admin", ["admin"]),
    aggregated("edit", ["edit"]),
    aggregated("view", ["view"]),
    clusterRole("system:aggregate-to-admin", admin, { labels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true" } }),
    clusterRole("system:aggregate-to-edit", edit, { labels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true" } }),
    clusterRole("system:aggregate-to-view", view, {
      labels: { "rbac.authorization.k8s.io/aggregate-to-admin": "true", "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-view": "true" },
    }),
    clusterRoleBinding("cluster-admin", "cluster-admin", ["system:masters"]),
    clusterRoleBinding("system:discovery", "system:discovery", ["system:authenticated"]),
    clusterRoleBinding("system:basic-user", "system:basic-user", ["system:authenticated"]),
    clusterRoleBinding("system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    clusterRoleBinding("system:node", "system:node", []),
  ];
}
