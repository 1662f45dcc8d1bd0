// The shapes of the cluster-level kinds: RBAC, Lease, events.k8s.io Event, PriorityClass, webhook
// configurations, the authorization and authentication reviews, TokenRequest.

import { s, type TypeSchema } from "./types.ts";
import { kindSchema, labelSelector } from "./meta.ts";
import { objectReference } from "./core.ts";

type Props = Record<string, TypeSchema>;
const kind = (prefix: string, group: string, version: string) => (k: string, description: string, properties: Props) => kindSchema(`${prefix}.${k}`, { group, version, kind: k }, description, properties);
const obj = (prefix: string) => (name: string, description: string, properties: Props, extra: Partial<TypeSchema> = {}) => s.object(`${prefix}.${name}`, description, properties, extra);

// rbac.authorization.k8s.io/v1
const RBAC = "io.k8s.api.rbac.v1";
const rbac = kind(RBAC, "rbac.authorization.k8s.io", "v1");
const r = obj(RBAC);
const policyRule = r("PolicyRule", "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.", {
  apiGroups: s.array(s.string(), "APIGroups is the name of the APIGroup that contains the resources. \"\" represents the core API group and \"*\" represents all API groups."),
  nonResourceURLs: s.array(s.string(), "NonResourceURLs is a set of partial urls that a user should have access to. *s are allowed, but only as the full, final step in the path."),
  resourceNames: s.array(s.string(), "ResourceNames is an optional white list of names that the rule applies to. An empty set means that everything is allowed."),
  resources: s.array(s.string(), "Resources is a list of resources this rule applies to. '*' represents all resources."),
  verbs: s.array(s.string(), "Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
}, { required: ["verbs"] });
const subject = r("Subject", "Subject contains a reference to the object or user identities a role binding applies to.", {
  apiGroup: s.string("APIGroup holds the API group of the referenced subject. Defaults to \"\" for ServiceAccount subjects. Defaults to \"rbac.authorization.k8s.io\" for User and Group subjects."),
  kind: s.string("Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\"."),
  name: s.string("Name of the object being referenced."),
  namespace: s.string("Namespace of the referenced object. If the object kind is non-namespace, such as \"User\" or \"Group\", and this value is not empty the Authorizer should report an error."),
}, { required: ["kind", "name"] });
const roleRef = r("RoleRef", "RoleRef contains information that points to the role being used", { apiGroup: s.string("APIGroup is the group for the resource being referenced"), kind: s.string("Kind is the type of resource being referenced"), name: s.string("Name is the name of resource being referenced") }, { required: ["apiGroup", "kind", "name"] });
const rules = s.array(policyRule, "Rules holds all the PolicyRules for this Role");
export const roleSchema = rbac("Role", "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.", { rules });
export const clusterRoleSchema = rbac("ClusterRole", "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.", {
  aggregationRule: r("AggregationRule", "AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole", { clusterRoleSelectors: s.array(labelSelector, "ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules.") }),
  rules,
});
const bindingProps = { roleRef: s.described(roleRef, "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. This field is immutable."), subjects: s.array(subject, "Subjects holds references to the objects the role applies to.") };
export const roleBindingSchema = rbac("RoleBinding", "RoleBinding references a role, but does not contain it. It can reference a Role in the same namespace or a ClusterRole in the global namespace.", bindingProps);
export const clusterRoleBindingSchema = rbac("ClusterRoleBinding", "ClusterRoleBinding references a ClusterRole, but not contain it. It can reference a ClusterRole in the global namespace, and adds who information via Subject.", bindingProps);

// coordination.k8s.io/v1
export const leaseSchema = kind("io.k8s.api.coordination.v1", "coordination.k8s.io", "v1")("Lease", "Lease defines a lease concept.", {
  spec: s.object("io.k8s.api.coordination.v1.LeaseSpec", "LeaseSpec is a specification of a Lease.", {
    acquireTime: s.microTime("acquireTime is a time when the current lease was acquired."),
    holderIdentity: s.string("holderIdentity contains the identity of the holder of a current lease."),
    leaseDurationSeconds: s.int32("leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it."),
    leaseTransitions: s.int32("leaseTransitions is the number of transitions of a lease between holders."),
    preferredHolder: s.string("PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up."),
    renewTime: s.microTime("renewTime is a time when the current holder of a lease has last updated the lease."),
    strategy: s.string("Strategy indicates the strategy for picking the leader for coordinated leader election."),
  }),
});

// events.k8s.io/v1
const EV = "io.k8s.api.events.v1";
export const eventV1Schema = kind(EV, "events.k8s.io", "v1")("Event", "Event is a report of an event somewhere in the cluster. It generally denotes some state change in the system.", {
  action: s.string("action is what action was taken/failed regarding to the regarding object. It is machine-readable."),
  deprecatedCount: s.int32("deprecatedCount is the deprecated field assuring backward compatibility with core.v1 Event type."),
  deprecatedFirstTimestamp: s.time("deprecatedFirstTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
  deprecatedLastTimestamp: s.time("deprecatedLastTimestamp is the deprecated field assuring backward compatibility with core.v1 Event type."),
  deprecatedSource: s.object("io.k8s.api.core.v1.EventSource", "EventSource contains information for an event.", { component: s.string("Component from which the event is generated."), host: s.string("Node name on which the event is generated.") }),
  eventTime: s.microTime("eventTime is the time when this Event was first observed. It is required."),
  note: s.string("note is a human-readable description of the status of this operation. Maximal length of the note is 1kB."),
  reason: s.string("reason is why the action was taken. It is human-readable."),
  regarding: s.described(objectReference, "regarding contains the object this Event is about."),
  related: s.described(objectReference, "related is the optional secondary object for more complex actions."),
  reportingController: s.string("reportingController is the name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`."),
  reportingInstance: s.string("reportingInstance is the ID of the controller instance, e.g. `kubelet-xyzf`."),
  series: s.object(`${EV}.EventSeries`, "EventSeries contain information on series of events.", { count: s.int32("count is the number of occurrences in this series up to the last heartbeat time."), lastObservedTime: s.microTime("lastObservedTime is the time when last Event from the series was seen before last heartbeat.") }, { required: ["count", "lastObservedTime"] }),
  type: s.string("type is the type of this event (Normal, Warning), new types could be added in the future."),
});

// scheduling.k8s.io/v1
export const priorityClassSchema = kind("io.k8s.api.scheduling.v1", "scheduling.k8s.io", "v1")("PriorityClass", "PriorityClass defines mapping from a priority class name to the priority integer value.", {
  description: s.string("description is an arbitrary string that usually provides guidelines on when this priority class should be used."),
  globalDefault: s.bool("globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class."),
  preemptionPolicy: s.string("preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
  value: s.int32("value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
});

// admissionregistration.k8s.io/v1
const ADM = "io.k8s.api.admissionregistration.v1";
const a = obj(ADM);
const serviceReference = a("ServiceReference", "ServiceReference holds a reference to Service.legacy.k8s.io", { name: s.string("name is the name of the service. Required"), namespace: s.string("namespace is the namespace of the service. Required"), path: s.string("path is an optional URL path which will be sent in any request to this service."), port: s.int32("If specified, the port on the service that hosting webhook. Default to 443") }, { required: ["namespace", "name"] });
const clientConfig = a("WebhookClientConfig", "WebhookClientConfig contains the information to make a TLS connection with the webhook", { caBundle: s.bytes("caBundle is a PEM encoded CA bundle which will be used to validate the webhook's server certificate."), service: s.described(serviceReference, "service is a reference to the service for this webhook."), url: s.string("url gives the location of the webhook, in standard URL form (`scheme://host:port/path`).") });
const ruleWithOperations = a("RuleWithOperations", "RuleWithOperations is a tuple of Operations and Resources.", {
  apiGroups: s.array(s.string(), "APIGroups is the API groups the resources belong to. '*' is all groups."),
  apiVersions: s.array(s.string(), "APIVersions is the API versions the resources belong to. '*' is all versions."),
  operations: s.array(s.string(), "Operations is the operations the admission hook cares about - CREATE, UPDATE, DELETE, CONNECT or * for all of those operations and any future admission operations that are added."),
  resources: s.array(s.string(), "Resources is a list of resources this rule applies to."),
  scope: s.string("scope specifies the scope of this rule. Valid values are \"Cluster\", \"Namespaced\", and \"*\"."),
});
const webhook = (name: string, mutating: boolean) =>
  a(name, `${name} describes an admission webhook and the resources and operations it applies to.`, {
    admissionReviewVersions: s.array(s.string(), "AdmissionReviewVersions is an ordered list of preferred `AdmissionReview` versions the Webhook expects."),
    clientConfig: s.described(clientConfig, "ClientConfig defines how to communicate with the hook. Required"),
    failurePolicy: s.string("FailurePolicy defines how unrecognized errors from the admission endpoint are handled - allowed values are Ignore or Fail. Defaults to Fail."),
    matchConditions: s.mergeList(s.looseObject("MatchCondition represents a condition which must by fulfilled for a request to be sent to a webhook."), "name", "MatchConditions is a list of conditions that must be met for a request to be sent to this webhook."),
    matchPolicy: s.string("matchPolicy defines how the \"rules\" list is used to match incoming requests. Allowed values are \"Exact\" or \"Equivalent\"."),
    name: s.string("The name of the admission webhook. Name should be fully qualified, e.g., imagepolicy.kubernetes.io."),
    namespaceSelector: s.described(labelSelector, "NamespaceSelector decides whether to run the webhook on an object based on whether the namespace for that object matches the selector."),
    objectSelector: s.described(labelSelector, "ObjectSelector decides whether to run the webhook based on if the object has matching labels."),
    ...(mutating ? { reinvocationPolicy: s.string("reinvocationPolicy indicates whether this webhook should be called multiple times as part of a single admission evaluation. Allowed values are \"Never\" and \"IfNeeded\".") } : {}),
    rules: s.array(ruleWithOperations, "Rules describes what operations on what resources/subresources the webhook cares about."),
    sideEffects: s.string("SideEffects states whether this webhook has side effects. Acceptable values are: None, NoneOnDryRun."),
    timeoutSeconds: s.int32("TimeoutSeconds specifies the timeout for this webhook. The timeout value must be between 1 and 30 seconds. Default to 10 seconds."),
  }, { required: ["name", "clientConfig", "sideEffects", "admissionReviewVersions"] });
const admission = kind(ADM, "admissionregistration.k8s.io", "v1");
export const mutatingWebhookConfigurationSchema = admission("MutatingWebhookConfiguration", "MutatingWebhookConfiguration describes the configuration of and admission webhook that accept or reject and may change the object.", {
  webhooks: s.mergeList(webhook("MutatingWebhook", true), "name", "Webhooks is a list of webhooks and the affected resources and operations."),
});
export const validatingWebhookConfigurationSchema = admission("ValidatingWebhookConfiguration", "ValidatingWebhookConfiguration describes the configuration of and admission webhook that accept or reject and object without changing it.", {
  webhooks: s.mergeList(webhook("ValidatingWebhook", false), "name", "Webhooks is a list of webhooks and the affected resources and operations."),
});

// authorization.k8s.io/v1
const AUTHZ = "io.k8s.api.authorization.v1";
const z = obj(AUTHZ);
const authz = kind(AUTHZ, "authorization.k8s.io", "v1");
const selectorAttributes = (name: string) => z(name, `${name} indicates a selector limitation on a request.`, { rawSelector: s.string("rawSelector is the serialization of a selector that would be included in a query parameter."), requirements: s.array(s.looseObject(), "requirements is the parsed interpretation of a selector.") });
const resourceAttributes = z("ResourceAttributes", "ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface", {
  fieldSelector: selectorAttributes("FieldSelectorAttributes"),
  group: s.string("Group is the API Group of the Resource. \"*\" means all."),
  labelSelector: selectorAttributes("LabelSelectorAttributes"),
  name: s.string("Name is the name of the resource being requested for a \"get\" or deleted for a \"delete\". \"\" (empty) means all."),
  namespace: s.string("Namespace is the namespace of the action being requested."),
  resource: s.string("Resource is one of the existing resource types. \"*\" means all."),
  subresource: s.string("Subresource is one of the existing resource types. \"\" means none."),
  verb: s.string("Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy. \"*\" means all."),
  version: s.string("Version is the API Version of the Resource. \"*\" means all."),
});
const nonResourceAttributes = z("NonResourceAttributes", "NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface", { path: s.string("Path is the URL path of the request"), verb: s.string("Verb is the standard HTTP verb") });
const accessStatus = z("SubjectAccessReviewStatus", "SubjectAccessReviewStatus", {
  allowed: s.bool("Allowed is required. True if the action would be allowed, false otherwise."),
  denied: s.bool("Denied is optional. True if the action would be denied, otherwise false."),
  evaluationError: s.string("EvaluationError is an indication that some error occurred during the authorization check."),
  reason: s.string("Reason is optional. It indicates why a request was allowed or denied."),
}, { required: ["allowed"] });
const subjectSpec = z("SubjectAccessReviewSpec", "SubjectAccessReviewSpec is a description of the access request. Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set", {
  extra: s.map(s.array(s.string()), "Extra corresponds to the user.Info.GetExtra() method from the authenticator."),
  groups: s.array(s.string(), "Groups is the groups you're testing for."),
  nonResourceAttributes,
  resourceAttributes,
  uid: s.string("UID information about the requesting user."),
  user: s.string("User is the user you're testing for."),
});
export const subjectAccessReviewSchema = authz("SubjectAccessReview", "SubjectAccessReview checks whether or not a user or group can perform an action.", { spec: subjectSpec, status: accessStatus });
export const localSubjectAccessReviewSchema = authz("LocalSubjectAccessReview", "LocalSubjectAccessReview checks whether or not a user or group can perform an action in a given namespace.", { spec: subjectSpec, status: accessStatus });
export const selfSubjectAccessReviewSchema = authz("SelfSubjectAccessReview", "SelfSubjectAccessReview checks whether or the current user can perform an action.", {
  spec: z("SelfSubjectAccessReviewSpec", "SelfSubjectAccessReviewSpec is a description of the access request.", { nonResourceAttributes, resourceAttributes }),
  status: accessStatus,
});
export const selfSubjectRulesReviewSchema = authz("SelfSubjectRulesReview", "SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.", {
  spec: z("SelfSubjectRulesReviewSpec", "SelfSubjectRulesReviewSpec defines the specification for SelfSubjectRulesReview.", { namespace: s.string("Namespace to evaluate rules for. Required.") }),
  status: s.looseObject("Status is filled in by the server and indicates the set of actions a user can perform."),
});

// authentication.k8s.io/v1
const AUTHN = "io.k8s.api.authentication.v1";
const n = obj(AUTHN);
const authn = kind(AUTHN, "authentication.k8s.io", "v1");
const userInfo = n("UserInfo", "UserInfo holds the information about the user needed to implement the user.Info interface.", { extra: s.map(s.array(s.string()), "Any additional information provided by the authenticator."), groups: s.array(s.string(), "The names of groups this user is a part of."), uid: s.string("A unique value that identifies this user across time."), username: s.string("The name that uniquely identifies this user among all active users.") });
export const tokenReviewSchema = authn("TokenReview", "TokenReview attempts to authenticate a token to a known user.", {
  spec: n("TokenReviewSpec", "TokenReviewSpec is a description of the token authentication request.", { audiences: s.array(s.string(), "Audiences is a list of the identifiers that the resource server presented with the token identifies as."), token: s.string("Token is the opaque bearer token.") }),
  status: n("TokenReviewStatus", "TokenReviewStatus is the result of the token authentication request.", { audiences: s.array(s.string(), "Audiences are audience identifiers chosen by the authenticator."), authenticated: s.bool("Authenticated indicates that the token was associated with a known user."), error: s.string("Error indicates that the token couldn't be checked"), user: userInfo }),
});
export const selfSubjectReviewSchema = authn("SelfSubjectReview", "SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.", {
  status: n("SelfSubjectReviewStatus", "SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.", { userInfo }),
});
export const tokenRequestSchema = authn("TokenRequest", "TokenRequest requests a token for a given service account.", {
  spec: n("TokenRequestSpec", "TokenRequestSpec contains client provided parameters of a token request.", {
    audiences: s.array(s.string(), "Audiences are the intendend audiences of the token."),
    boundObjectRef: n("BoundObjectReference", "BoundObjectReference is a reference to an object that a token is bound to.", { apiVersion: s.string("API version of the referent."), kind: s.string("Kind of the referent. Valid kinds are 'Pod' and 'Secret'."), name: s.string("Name of the referent."), uid: s.string("UID of the referent.") }),
    expirationSeconds: s.int64("ExpirationSeconds is the requested duration of validity of the request."),
  }, { required: ["audiences"] }),
  status: n("TokenRequestStatus", "TokenRequestStatus is the result of a token request.", { expirationTimestamp: s.time("ExpirationTimestamp is the time of expiration of the returned token."), token: s.string("Token is the opaque bearer token.") }, { required: ["token", "expirationTimestamp"] }),
});
