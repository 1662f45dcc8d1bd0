// Discovery documents, as kubectl and client-go read them: /api (APIVersions), /apis
// (APIGroupList), /apis/GROUP (APIGroup) and /api/v1, /apis/GROUP/VERSION (APIResourceList) with
// each resource's verbs, short names, categories, scope and subresources. Custom resources appear
// once their CRD is established, because only then are they in the registry.

import { createHash } from "node:crypto";
import type { Registry } from "./registry/registry.ts";
import { apiVersionOf, type ResourceType } from "./registry/resource-type.ts";

export interface DiscoveryResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

function storageVersionHash(t: ResourceType): string {
  return createHash("sha256").update(`${t.storageApiVersion}/${t.kind}`).digest("base64").slice(0, 11);
}

function resourceEntries(t: ResourceType): DiscoveryResource[] {
  const main: DiscoveryResource = {
    name: t.resource,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: [...t.verbs].sort(),
    ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length > 0 ? { categories: t.categories } : {}),
    ...(t.verbs.includes("list") ? { storageVersionHash: storageVersionHash(t) } : {}),
  };
  const out = [main];
  if (t.status) out.push({ name: `${t.resource}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] });
  for (const [name, handler] of Object.entries(t.subresources)) {
    const sameGroup = handler.kind.group === t.group && handler.kind.version === t.version;
    out.push({
      name: `${t.resource}/${name}`,
      singularName: "",
      namespaced: t.namespaced,
      ...(sameGroup ? {} : { group: handler.kind.group, version: handler.kind.version }),
      kind: handler.kind.kind,
      verbs: [...handler.verbs].sort(),
    });
  }
  return out;
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function groupEntry(registry: Registry, group: string): Record<string, unknown> {
  const versions = registry.versions(group).map((v) => ({ groupVersion: apiVersionOf({ group, version: v }), version: v }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: Registry): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: registry.groups().filter((g) => g !== "").map((g) => groupEntry(registry, g)) };
}

/** undefined when the group is not served (a 404). */
export function apiGroup(registry: Registry, group: string): Record<string, unknown> | undefined {
  if (!registry.groups().includes(group) || group === "") return undefined;
  return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(registry, group) };
}

/** undefined when the group/version is not served (a 404). */
export function apiResourceList(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const types = registry.resourcesOf(group, version);
  if (types.length === 0) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources: types.sort((a, b) => (a.resource < b.resource ? -1 : 1)).flatMap(resourceEntries),
  };
}
