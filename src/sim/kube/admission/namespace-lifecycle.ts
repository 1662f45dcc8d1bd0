// NamespaceLifecycle: objects are created only in namespaces that exist and are not being
// deleted, and the namespaces every cluster depends on cannot be deleted.

import { isPlainObject } from "../objects.ts";
import { forbidden, KubeError, notFound } from "../status.ts";
import type { AdmissionPlugin } from "./plugin.ts";

export const IMMORTAL_NAMESPACES = ["default", "kube-system", "kube-public"];

export const namespaceLifecycle: AdmissionPlugin = {
  name: "NamespaceLifecycle",
  validate(request) {
    const { type } = request;
    if (request.operation === "DELETE" && type.group === "" && type.resource === "namespaces" && IMMORTAL_NAMESPACES.includes(request.name)) {
      throw forbidden({ group: "", resource: "namespaces" }, request.name, "this namespace may not be deleted");
    }
  },
  mutate(request, reader) {
    const { type } = request;
    if (request.operation !== "CREATE" || !type.namespaced || request.subresource !== "" || type.resource === "localsubjectaccessreviews") return;
    const ns = reader.get("v1/namespaces", "", request.namespace);
    if (!ns) throw notFound({ group: "", resource: "namespaces" }, request.namespace);
    const phase = isPlainObject(ns.status) ? ns.status.phase : undefined;
    if (phase === "Terminating" || ns.metadata.deletionTimestamp) {
      const denied = forbidden(
        { group: type.group, resource: type.resource },
        request.name,
        `unable to create new content in namespace ${request.namespace} because it is being terminated`,
      );
      throw new KubeError({ ...denied.status, details: { ...denied.status.details, causes: [{ reason: "NamespaceTerminating", message: `namespace ${request.namespace} is being terminated`, field: "metadata.namespace" }] } });
    }
  },
};
