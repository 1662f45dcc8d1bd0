// Kubeconfig files as kubectl and client-node read them: one cluster (server URL and the CA's
// certificate inline), one user with a bearer token, one context.

import { writeFileSync } from "node:fs";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  token: string;
  namespace?: string;
}

export function kubeconfigText(spec: KubeconfigSpec): string {
  const context = `${spec.userName}@${spec.clusterName}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: spec.clusterName, cluster: { server: spec.server, "certificate-authority-data": Buffer.from(spec.caPem).toString("base64") } }],
    users: [{ name: spec.userName, user: { token: spec.token } }],
    contexts: [{ name: context, context: { cluster: spec.clusterName, user: spec.userName, ...(spec.namespace ? { namespace: spec.namespace } : {}) } }],
    "current-context": context,
    preferences: {},
  });
}

/** Writes the kubeconfig readable by its owner only (it holds a credential). */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  writeFileSync(path, kubeconfigText(spec), { mode: 0o600 });
}
