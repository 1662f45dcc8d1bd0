// User impersonation (`kubectl --as USER --as-group GROUP`): the Impersonate-User, -Group, -Uid and
// -Extra-* headers, each allowed only if the requester may `impersonate` that user, group,
// service account, uid or extra value, as Kubernetes' impersonation filter checks.

import type { IncomingHttpHeaders } from "node:http";
import type { Authorizer, AuthorizationAttributes } from "../auth/rbac.ts";
import { forbiddenMessage } from "../auth/rbac.ts";
import type { UserInfo } from "../auth/user.ts";
import { badRequest, forbidden } from "../status.ts";

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
}

/** The user to act as, or the requester when no impersonation headers are set. Throws 403/400. */
export function impersonate(requester: UserInfo, headers: IncomingHttpHeaders, authorizer: Authorizer): UserInfo {
  const username = headerValues(headers, "impersonate-user")[0];
  const groups = headerValues(headers, "impersonate-group");
  const uid = headerValues(headers, "impersonate-uid")[0];
  const extra: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (!key.startsWith("impersonate-extra-") || value === undefined) continue;
    extra[decodeURIComponent(key.slice("impersonate-extra-".length))] = (Array.isArray(value) ? value : [value]).flatMap((x) => x.split(",").map((s) => s.trim()));
  }
  if (username === undefined) {
    if (groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0) throw badRequest("requested impersonation of groups, uid or extra without a user");
    return requester;
  }
  const check = (attrs: Omit<AuthorizationAttributes, "user" | "resourceRequest" | "path" | "apiVersion" | "subresource"> & { subresource?: string }) => {
    const full: AuthorizationAttributes = { user: requester, resourceRequest: true, path: "", apiVersion: "", subresource: "", ...attrs };
    const decision = authorizer.authorize(full);
    if (!decision.allowed) throw forbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, forbiddenMessage(full, decision.reason));
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  if (sa) check({ verb: "impersonate", apiGroup: "", resource: "serviceaccounts", namespace: sa[1]!, name: sa[2]! });
  else check({ verb: "impersonate", apiGroup: "", resource: "users", namespace: "", name: username });
  for (const g of groups) check({ verb: "impersonate", apiGroup: "", resource: "groups", namespace: "", name: g });
  if (uid !== undefined) check({ verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", namespace: "", name: uid });
  for (const [key, values] of Object.entries(extra)) for (const v of values) check({ verb: "impersonate", apiGroup: "authentication.k8s.io", resource: `userextras/${key}`, namespace: "", name: v });
  const finalGroups = [...groups];
  if (sa) finalGroups.push("system:serviceaccounts", `system:serviceaccounts:${sa[1]}`);
  if (username !== "system:anonymous" && !finalGroups.includes("system:authenticated")) finalGroups.push("system:authenticated");
  if (username === "system:anonymous" && !finalGroups.includes("system:unauthenticated")) finalGroups.push("system:unauthenticated");
  return { username, ...(uid ? { uid } : {}), groups: finalGroups, ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}
