// Every Kubernetes API call the system makes, declared once. The client (client.ts) refuses any request
// that is not declared here, and the ClusterRole in deploy/aws-node.yaml must grant exactly these
// (test/deploy-permissions.test.ts compares the two both ways), so a new call cannot ship without its
// RBAC rule and a rule cannot outlive the call that needed it.

/** A Kubernetes authorization verb, as RBAC rules name them. */
export type KubeVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface KubeResourceCall {
  readonly kind: "resource";
  readonly verb: KubeVerb;
  /** API group; "" is the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural resource name, as in URLs and RBAC rules. */
  readonly resource: string;
  readonly namespaced: boolean;
  /** Why the system needs it (shown with a 403, so an operator knows what a missing rule breaks). */
  readonly why: string;
}

/** A request outside the resource API (/version): granted to every client by the default roles. */
export interface KubeNonResourceCall {
  readonly kind: "non-resource";
  readonly verb: "get";
  readonly path: string;
  readonly why: string;
}

export type KubeApiCall = KubeResourceCall | KubeNonResourceCall;

const resource = (verb: KubeVerb, group: string, version: string, plural: string, namespaced: boolean, why: string): KubeResourceCall =>
  Object.freeze({ kind: "resource", verb, group, version, resource: plural, namespaced, why });

export const KUBE_API_CALLS = Object.freeze({
  getVersion: Object.freeze({ kind: "non-resource", verb: "get", path: "/version", why: "checks that the API server answers before start-up relies on it" } as const),
  listNodes: resource("list", "", "v1", "nodes", false, "reads this node (max pods, labels and annotations naming its ENIConfig, taints)"),
  watchNodes: resource("watch", "", "v1", "nodes", false, "follows changes to this node"),
  listPods: resource("list", "", "v1", "pods", true, "reads the pods scheduled to this node (the agent's own pod carries its events)"),
  watchPods: resource("watch", "", "v1", "pods", true, "follows the pods scheduled to this node"),
  listEniConfigs: resource("list", "crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", false, "reads the ENIConfigs custom networking takes subnets and security groups from"),
  watchEniConfigs: resource("watch", "crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", false, "follows changes to the ENIConfigs"),
  createEvents: resource("create", "", "v1", "events", true, "reports missing EC2 permissions and address exhaustion as events on the agent's pod"),
  patchEvents: resource("patch", "", "v1", "events", true, "counts a repeated event instead of creating another"),
  getCniNodes: resource("get", "vpcresources.k8s.aws", "v1alpha1", "cninodes", false, "reads this node's CNINode before adding a feature to it"),
  patchCniNodes: resource("patch", "vpcresources.k8s.aws", "v1alpha1", "cninodes", false, "adds features (SecurityGroupsForPods, CustomNetworking) to this node's CNINode"),
} satisfies Record<string, KubeApiCall>);

export type KubeApiCallName = keyof typeof KUBE_API_CALLS;

/** "list nodes", "patch cninodes.vpcresources.k8s.aws", "get /version". */
export function describeCall(call: KubeApiCall | RequestAttributes): string {
  if (call.kind === "non-resource") return `${call.verb} ${call.path}`;
  const sub = "subresource" in call && call.subresource ? `/${call.subresource}` : "";
  return `${call.verb} ${call.resource}${sub}${call.group === "" ? "" : `.${call.group}`}`;
}

/** The URL path of a declared resource call (collection, or one object with `name`). */
export function callPath(call: KubeResourceCall, where: { namespace?: string | undefined; name?: string | undefined } = {}): string {
  // A namespaced resource is listed and watched across all namespaces without one.
  const allNamespaces = call.verb === "list" || call.verb === "watch";
  if (call.namespaced ? where.namespace === undefined && !allNamespaces : where.namespace !== undefined) {
    throw new Error(`internal: ${describeCall(call)} is ${call.namespaced ? "namespaced" : "cluster-scoped"}`);
  }
  const base = call.group === "" ? `/api/${call.version}` : `/apis/${call.group}/${call.version}`;
  const ns = where.namespace === undefined ? "" : `/namespaces/${encodeURIComponent(where.namespace)}`;
  const name = where.name === undefined ? "" : `/${encodeURIComponent(where.name)}`;
  return `${base}${ns}/${call.resource}${name}`;
}

// ---------------------------------------------------------------------------------------------------
// What a request asks for, read off its method and URL the way kube-apiserver's RequestInfo reads it.

export type RequestAttributes =
  | { readonly kind: "resource"; readonly verb: KubeVerb; readonly group: string; readonly version: string; readonly resource: string; readonly subresource: string; readonly namespace: string; readonly name: string }
  | { readonly kind: "non-resource"; readonly verb: string; readonly path: string };

const METHOD_VERBS: Readonly<Record<string, KubeVerb>> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

export function requestAttributes(method: string, url: string): RequestAttributes {
  const parsed = new URL(url, "http://server.invalid");
  const parts = parsed.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent);
  const upper = method.toUpperCase();
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else {
    return { kind: "non-resource", verb: upper === "GET" || upper === "HEAD" ? "get" : upper.toLowerCase(), path: parsed.pathname };
  }
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1] as string;
    rest = rest.slice(2);
  }
  const [plural = "", name = "", subresource = ""] = rest;
  let verb: KubeVerb;
  if (upper === "GET" || upper === "HEAD") {
    const watching = ["true", "1"].includes(parsed.searchParams.get("watch") ?? "");
    verb = watching ? "watch" : name === "" ? "list" : "get";
  } else if (upper === "DELETE" && name === "") {
    verb = "deletecollection";
  } else {
    const mapped = METHOD_VERBS[upper];
    if (mapped === undefined) throw new Error(`unsupported HTTP method ${method}`);
    verb = mapped;
  }
  return { kind: "resource", verb, group, version, resource: plural, subresource, namespace, name };
}

/** The declared call a request is, or undefined when the request is not one the system may make. */
export function declaredCallFor(attributes: RequestAttributes): KubeApiCallName | undefined {
  for (const [name, call] of Object.entries(KUBE_API_CALLS) as [KubeApiCallName, KubeApiCall][]) {
    if (call.kind === "non-resource") {
      if (attributes.kind === "non-resource" && attributes.verb === call.verb && attributes.path === call.path) return name;
      continue;
    }
    if (attributes.kind !== "resource" || attributes.subresource !== "") continue;
    if (attributes.verb === call.verb && attributes.group === call.group && attributes.version === call.version && attributes.resource === call.resource) return name;
  }
  return undefined;
}
