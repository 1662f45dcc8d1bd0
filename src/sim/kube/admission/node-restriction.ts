// NodeRestriction: what a kubelet (`system:node:<name>`) may write. Its own Node object only; only
// mirror pods bound to itself; status and deletion only of pods bound to it; tokens only for pods
// bound to it; only its own Lease. The Node authorizer decides what it may ask for; this plugin
// checks the objects it sends.

import { isPlainObject, type KObject } from "../objects.ts";
import { nodeOf } from "../auth/user.ts";
import { forbidden } from "../status.ts";
import type { AdmissionPlugin, AdmissionRequest } from "./plugin.ts";

const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

function boundTo(pod: KObject | undefined): string | undefined {
  return pod && isPlainObject(pod.spec) && typeof pod.spec.nodeName === "string" ? pod.spec.nodeName : undefined;
}

export const nodeRestriction: AdmissionPlugin = {
  name: "NodeRestriction",
  validate(request: AdmissionRequest, reader) {
    const node = nodeOf(request.user);
    if (!node) return;
    const { type } = request;
    const deny = (why: string) => forbidden({ group: type.group, resource: request.subresource ? `${type.resource}/${request.subresource}` : type.resource }, request.name, why);
    if (type.group === "" && type.resource === "nodes") {
      if (request.name !== node) throw deny(`node "${node}" is not allowed to modify node "${request.name}"`);
      return;
    }
    if (type.group === "" && type.resource === "pods") {
      if (request.subresource === "" && request.operation === "CREATE") {
        const pod = request.object;
        if (pod?.metadata.annotations?.[MIRROR_ANNOTATION] === undefined) throw deny(`pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
        if (boundTo(pod) !== node) throw deny(`node "${node}" can only create pods with spec.nodeName set to itself`);
        return;
      }
      const existing = request.oldObject ?? reader.get("v1/pods", request.namespace, request.name);
      if (request.subresource === "status" && boundTo(existing) !== node) throw deny(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
      if (request.operation === "DELETE" && boundTo(existing) !== node) throw deny(`node "${node}" can only delete pods with spec.nodeName set to itself`);
      if (request.subresource === "eviction" && boundTo(existing) !== node) throw deny(`node "${node}" can only evict pods with spec.nodeName set to itself`);
      return;
    }
    if (type.group === "" && type.resource === "serviceaccounts" && request.subresource === "token") {
      const spec = isPlainObject(request.object?.spec) ? request.object!.spec : {};
      const ref = isPlainObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
      if (!ref || ref.kind !== "Pod") throw deny(`node requested token not bound to a pod`);
      const pod = reader.get("v1/pods", request.namespace, String(ref.name));
      if (boundTo(pod) !== node) throw deny(`node requested token bound to a pod scheduled on a different node`);
      return;
    }
    if (type.group === "coordination.k8s.io" && type.resource === "leases") {
      if (request.namespace !== "kube-node-lease" || request.name !== node) throw deny(`can only access node lease with the same name as the requesting node`);
    }
  },
};
