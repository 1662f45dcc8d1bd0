// The review kinds, answered at once and never stored: authorization.k8s.io/v1
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview, LocalSubjectAccessReview
// and SelfSubjectRulesReview (`kubectl auth can-i --list`); authentication.k8s.io/v1 TokenReview
// and SelfSubjectReview (`kubectl auth whoami`). They ask the same authorizer and authenticator
// that guard the server.

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import { fieldErrors, invalid, type FieldError } from "../status.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { ClusterAuthorizer } from "../auth/authorizer.ts";
import { NODE_RULES } from "../auth/bootstrap-policy.ts";
import type { AuthorizationAttributes, PolicyRule } from "../auth/rbac.ts";
import { isMaster, nodeOf, type UserInfo } from "../auth/user.ts";
import type { TypeSchema } from "../schema/types.ts";
import {
  localSubjectAccessReviewSchema,
  selfSubjectAccessReviewSchema,
  selfSubjectReviewSchema,
  selfSubjectRulesReviewSchema,
  subjectAccessReviewSchema,
  tokenReviewSchema,
} from "../schema/cluster.ts";

type Obj = Record<string, unknown>;

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function attributesFrom(spec: Obj, user: UserInfo, kind: string, errors: FieldError[]): AuthorizationAttributes | undefined {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if ((resource === undefined) === (nonResource === undefined)) {
    errors.push(fieldErrors.invalid("spec.resourceAttributes", "null", "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
    return undefined;
  }
  if (isPlainObject(nonResource)) {
    return { user, verb: str(nonResource.verb), resourceRequest: false, path: str(nonResource.path), apiGroup: "", apiVersion: "", resource: "", subresource: "", namespace: "", name: "" };
  }
  if (!isPlainObject(resource)) {
    errors.push(fieldErrors.invalid("spec.resourceAttributes", resource, `must be an object in a ${kind}`));
    return undefined;
  }
  const fieldSelector = isPlainObject(resource.fieldSelector) ? str(resource.fieldSelector.rawSelector) : "";
  const labelSelector = isPlainObject(resource.labelSelector) ? str(resource.labelSelector.rawSelector) : "";
  return {
    user,
    verb: str(resource.verb),
    resourceRequest: true,
    path: "",
    apiGroup: str(resource.group),
    apiVersion: str(resource.version),
    resource: str(resource.resource),
    subresource: str(resource.subresource),
    namespace: str(resource.namespace),
    name: str(resource.name),
    ...(fieldSelector ? { fieldSelector } : {}),
    ...(labelSelector ? { labelSelector } : {}),
  };
}

function answer(review: KObject, allowed: boolean, reason: string): KObject {
  return { ...review, metadata: { ...review.metadata, creationTimestamp: null as unknown as string }, status: { allowed, ...(reason ? { reason } : {}) } };
}

function ruleEntries(rules: PolicyRule[]): { resourceRules: Obj[]; nonResourceRules: Obj[] } {
  const resourceRules: Obj[] = [];
  const nonResourceRules: Obj[] = [];
  for (const r of rules) {
    if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
    if ((r.resources ?? []).length > 0) {
      resourceRules.push({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources, ...((r.resourceNames ?? []).length > 0 ? { resourceNames: r.resourceNames } : {}) });
    }
  }
  return { resourceRules, nonResourceRules };
}

export function reviewTypes(authorizer: ClusterAuthorizer, authenticator: Authenticator): ResourceType[] {
  const authz = { group: "authorization.k8s.io", version: "v1", verbs: ["create" as const] };
  const review = (resource: string, kind: string, namespaced: boolean, schema: TypeSchema, userOf: (spec: Obj, requester: UserInfo, errors: FieldError[]) => UserInfo, namespaceCheck?: (spec: Obj, ns: string, errors: FieldError[]) => void) =>
    defineType({
      ...authz,
      resource,
      kind,
      namespaced,
      schema,
      virtualCreate: async (object, call) => {
        const spec = isPlainObject(object.spec) ? object.spec : {};
        const errors: FieldError[] = [];
        const user = userOf(spec, call.ctx.user, errors);
        const attributes = attributesFrom(spec, user, kind, errors);
        namespaceCheck?.(spec, call.namespace, errors);
        if (errors.length > 0 || !attributes) throw invalid("authorization.k8s.io", kind, "", errors);
        const decision = authorizer.authorize(attributes);
        return { code: 201, body: answer(object, decision.allowed, decision.reason) };
      },
    });
  const specUser = (spec: Obj, _requester: UserInfo, errors: FieldError[]): UserInfo => {
    const username = str(spec.user);
    const groups = Array.isArray(spec.groups) ? spec.groups.map(String) : [];
    if (username === "" && groups.length === 0) errors.push(fieldErrors.invalid("spec.user", "", "at least one of user or group must be specified"));
    return { username, groups, ...(str(spec.uid) ? { uid: str(spec.uid) } : {}) };
  };
  const rulesReview = defineType({
    ...authz,
    resource: "selfsubjectrulesreviews",
    kind: "SelfSubjectRulesReview",
    namespaced: false,
    schema: selfSubjectRulesReviewSchema,
    virtualCreate: async (object, call) => {
      const spec = isPlainObject(object.spec) ? object.spec : {};
      const namespace = str(spec.namespace);
      const user = call.ctx.user;
      let rules: PolicyRule[];
      if (isMaster(user)) rules = [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, { verbs: ["*"], nonResourceURLs: ["*"] }];
      else {
        rules = authorizer.rbac.rulesFor(user, namespace).map((r) => r.rule);
        if (nodeOf(user)) rules.push(...NODE_RULES);
      }
      return { code: 201, body: { ...object, metadata: { creationTimestamp: null as unknown as string }, status: { ...ruleEntries(rules), incomplete: false } } };
    },
  });
  const tokenReview = defineType({
    group: "authentication.k8s.io",
    version: "v1",
    resource: "tokenreviews",
    kind: "TokenReview",
    namespaced: false,
    schema: tokenReviewSchema,
    verbs: ["create"],
    virtualCreate: async (object) => {
      const spec = isPlainObject(object.spec) ? object.spec : {};
      if (typeof spec.token !== "string" || spec.token === "") throw invalid("authentication.k8s.io", "TokenReview", "", [fieldErrors.required("spec.token", "")]);
      const result = authenticator.authenticateToken(spec.token);
      const status = result.user
        ? { authenticated: true, user: { username: result.user.username, ...(result.user.uid ? { uid: result.user.uid } : {}), groups: result.user.groups, ...(result.user.extra ? { extra: result.user.extra } : {}) }, audiences: Array.isArray(spec.audiences) ? spec.audiences : [] }
        : { authenticated: false, user: {}, error: "[invalid bearer token]" };
      return { code: 201, body: { ...object, metadata: { creationTimestamp: null as unknown as string }, status } };
    },
  });
  const selfReview = defineType({
    group: "authentication.k8s.io",
    version: "v1",
    resource: "selfsubjectreviews",
    kind: "SelfSubjectReview",
    namespaced: false,
    schema: selfSubjectReviewSchema,
    verbs: ["create"],
    virtualCreate: async (object, call) => {
      const u = call.ctx.user;
      return { code: 201, body: { ...object, metadata: { creationTimestamp: null as unknown as string }, status: { userInfo: { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) } } } };
    },
  });
  return [
    review("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, selfSubjectAccessReviewSchema, (_s, requester) => requester),
    review("subjectaccessreviews", "SubjectAccessReview", false, subjectAccessReviewSchema, specUser),
    review("localsubjectaccessreviews", "LocalSubjectAccessReview", true, localSubjectAccessReviewSchema, specUser, (spec, ns, errors) => {
      const r = spec.resourceAttributes;
      if (isPlainObject(r) && str(r.namespace) !== ns) errors.push(fieldErrors.invalid("spec.resourceAttributes.namespace", str(r.namespace), "must match metadata.namespace"));
    }),
    rulesReview,
    tokenReview,
    selfReview,
  ];
}
