// Every built-in resource the server serves, in Kubernetes' discovery order of groups.

import type { ResourceType } from "../registry/resource-type.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import type { ClusterAuthorizer } from "../auth/authorizer.ts";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { controllerrevisions, daemonsets, deployments, replicasets } from "./apps.ts";
import { mutatingwebhookconfigurations, priorityclasses, validatingwebhookconfigurations } from "./cluster-config.ts";
import { configmaps, secrets } from "./config.ts";
import { coreEvents, eventsV1 } from "./events.ts";
import { leases } from "./leases.ts";
import { namespaces } from "./namespaces.ts";
import { nodes } from "./nodes.ts";
import { bindings, pods } from "./pods.ts";
import { clusterrolebindings, clusterroles, rolebindings, roles } from "./rbac.ts";
import { reviewTypes } from "./reviews.ts";
import { serviceAccountsType } from "./serviceaccounts.ts";
import { endpoints, services } from "./services.ts";
import { customresourcedefinitions } from "../crd/crd-type.ts";
import { BUILT_IN_PRINTERS } from "../printing/built-in-printers.ts";
import { resourceKey } from "../registry/resource-type.ts";

export interface BuiltInDeps {
  tokens: ServiceAccountTokens;
  authorizer: ClusterAuthorizer;
  authenticator: Authenticator;
}

export function builtInTypes(deps: BuiltInDeps): ResourceType[] {
  const reviews = reviewTypes(deps.authorizer, deps.authenticator);
  const byGroup = (group: string) => reviews.filter((t) => t.group === group);
  const types = [
    bindings, configmaps, endpoints, coreEvents, namespaces, nodes, pods, secrets, serviceAccountsType(deps.tokens), services,
    controllerrevisions, daemonsets, deployments, replicasets,
    eventsV1,
    ...byGroup("authentication.k8s.io"),
    ...byGroup("authorization.k8s.io"),
    clusterrolebindings, clusterroles, rolebindings, roles,
    mutatingwebhookconfigurations, validatingwebhookconfigurations,
    customresourcedefinitions,
    priorityclasses,
    leases,
  ];
  return types.map((t) => (t.printer || !BUILT_IN_PRINTERS[resourceKey(t)] ? t : { ...t, printer: BUILT_IN_PRINTERS[resourceKey(t)] }));
}
