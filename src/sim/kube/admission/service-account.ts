// ServiceAccount admission for pods: the default account when none is named, a 403 when the named
// one does not exist, and (unless automounting is turned off on the pod or the account) the
// projected `kube-api-access-*` volume with the account's token, the cluster CA and the
// namespace, mounted in every container at /var/run/secrets/kubernetes.io/serviceaccount.

import { isPlainObject } from "../objects.ts";
import { generateName } from "../api/object-meta.ts";
import { forbidden } from "../status.ts";
import type { AdmissionPlugin } from "./plugin.ts";

export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";

type Obj = Record<string, unknown>;

export const serviceAccountAdmission: AdmissionPlugin = {
  name: "ServiceAccount",
  mutate(request, reader) {
    const pod = request.object;
    if (request.operation !== "CREATE" || request.subresource !== "" || request.type.group !== "" || request.type.resource !== "pods" || !pod) return;
    if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return;
    const spec = (isPlainObject(pod.spec) ? pod.spec : (pod.spec = {})) as Obj;
    const name = typeof spec.serviceAccountName === "string" && spec.serviceAccountName !== "" ? spec.serviceAccountName : "default";
    spec.serviceAccountName = name;
    spec.serviceAccount = name;
    const account = reader.get("v1/serviceaccounts", request.namespace, name);
    if (!account) {
      throw forbidden({ group: "", resource: "pods" }, pod.metadata.name ?? "", `error looking up service account ${request.namespace}/${name}: serviceaccount "${name}" not found`);
    }
    const automount = typeof spec.automountServiceAccountToken === "boolean" ? spec.automountServiceAccountToken : account.automountServiceAccountToken !== false;
    if (!automount) return;
    const containers = ["initContainers", "containers"].flatMap((f) => (Array.isArray(spec[f]) ? (spec[f] as unknown[]).filter(isPlainObject) : [])) as Obj[];
    const alreadyMounted = containers.some((c) => Array.isArray(c.volumeMounts) && c.volumeMounts.some((m) => isPlainObject(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH));
    if (alreadyMounted) return;
    const volumeName = generateName("kube-api-access-");
    const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
    volumes.push({
      name: volumeName,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
          { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
        ],
      },
    });
    spec.volumes = volumes;
    for (const c of containers) {
      const mounts = Array.isArray(c.volumeMounts) ? c.volumeMounts : [];
      mounts.push({ name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });
      c.volumeMounts = mounts;
    }
  },
};
