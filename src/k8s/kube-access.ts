// Where the system's Kubernetes access comes from: KUBECONFIG when set (a kubelet stand-in, a developer's
// machine), else the pod's in-cluster config (KUBERNETES_SERVICE_HOST/PORT and the projected
// service-account token, which client-node re-reads as the kubelet rotates it), else none: the agent
// then runs without the API server, as aws-node does when it cannot reach one.

import { existsSync } from "node:fs";
import { KubeConfig, type Cluster } from "@kubernetes/client-node";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export type KubeAccess =
  | { readonly ok: true; readonly source: "kubeconfig" | "in-cluster"; readonly config: KubeConfig; readonly server: string; readonly describe: string }
  /** No Kubernetes access is configured: not an error, the agent runs without the API server. */
  | { readonly ok: false; readonly configured: false; readonly reason: string }
  /** Access is configured but unusable: an operator's mistake, reported as such. */
  | { readonly ok: false; readonly configured: true; readonly reason: string };

type Env = Readonly<Record<string, string | undefined>>;

export interface KubeAccessOptions {
  /** A directory the in-cluster files are under instead of / (tests). */
  readonly root?: string;
}

export function loadKubeAccess(env: Env, options: KubeAccessOptions = {}): KubeAccess {
  const kubeconfig = env["KUBECONFIG"]?.trim() ?? "";
  const endpoint = env["CLUSTER_ENDPOINT"]?.trim() ?? "";
  let config: KubeConfig;
  let source: "kubeconfig" | "in-cluster";
  let describe: string;
  if (kubeconfig !== "") {
    // A list of files, as kubectl takes it: merged in order, the first one's context wins.
    const files = kubeconfig.split(":").filter((f) => f !== "");
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length > 0) return { ok: false, configured: true, reason: `KUBECONFIG names ${missing.join(", ")}, which does not exist` };
    config = new KubeConfig();
    try {
      files.forEach((file, i) => {
        if (i === 0) return config.loadFromFile(file);
        const more = new KubeConfig();
        more.loadFromFile(file);
        config.mergeConfig(more, true);
      });
    } catch (err) {
      return { ok: false, configured: true, reason: `KUBECONFIG ${kubeconfig} cannot be read: ${(err as Error).message}` };
    }
    source = "kubeconfig";
    describe = `KUBECONFIG ${kubeconfig}`;
  } else if ((env["KUBERNETES_SERVICE_HOST"] ?? "") !== "") {
    const root = options.root ?? "";
    const dir = `${root}${SERVICE_ACCOUNT_DIR}`;
    if ((env["KUBERNETES_SERVICE_PORT"] ?? "") === "") return { ok: false, configured: true, reason: "KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not" };
    if (!existsSync(`${dir}/token`)) {
      return { ok: false, configured: true, reason: `in a pod (KUBERNETES_SERVICE_HOST is set) but ${dir}/token is missing: is automountServiceAccountToken off?` };
    }
    config = new KubeConfig();
    // loadFromCluster reads the service address from process.env; ours may be a test's.
    withEnv({ KUBERNETES_SERVICE_HOST: env["KUBERNETES_SERVICE_HOST"], KUBERNETES_SERVICE_PORT: env["KUBERNETES_SERVICE_PORT"] }, () =>
      config.loadFromCluster(root),
    );
    source = "in-cluster";
    describe = "the pod's service account (in-cluster config)";
  } else {
    return { ok: false, configured: false, reason: "neither KUBECONFIG nor an in-cluster service account (KUBERNETES_SERVICE_HOST) is set" };
  }
  const cluster = config.getCurrentCluster();
  if (cluster === null) return { ok: false, configured: true, reason: `${describe} has no current context with a cluster` };
  if (endpoint !== "") {
    // aws-node's CLUSTER_ENDPOINT: reach the API server directly, e.g. before kube-proxy has
    // programmed the service address this agent's node needs to start pods at all.
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return { ok: false, configured: true, reason: `CLUSTER_ENDPOINT ${endpoint} is not a URL (e.g. https://ABCD.gr7.us-east-1.eks.amazonaws.com)` };
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, configured: true, reason: `CLUSTER_ENDPOINT ${endpoint} must be http(s)` };
    replaceServer(config, cluster, endpoint.replace(/\/+$/, ""));
    describe += ` with CLUSTER_ENDPOINT ${endpoint}`;
  }
  return { ok: true, source, config, server: config.getCurrentCluster()?.server ?? cluster.server, describe };
}

function replaceServer(config: KubeConfig, cluster: Cluster, server: string): void {
  const clusters = config.clusters.map((c) => (c.name === cluster.name ? { ...c, server } : c));
  config.loadFromOptions({ clusters, users: config.users, contexts: config.contexts, currentContext: config.currentContext });
}

function withEnv<T>(values: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  const set = (k: string, v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
  for (const [k, v] of Object.entries(values)) set(k, v);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}
