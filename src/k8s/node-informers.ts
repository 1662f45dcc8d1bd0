// The three things the agent watches, and no more (aws-node's cache is filtered the same way): its own
// Node, the pods scheduled to it, and the ENIConfigs custom networking reads.

import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { callPath, KUBE_API_CALLS } from "./api-calls.ts";
import type { KubeClient } from "./client.ts";
import { Informer, type InformerLog } from "./informer.ts";
import type { EniConfig } from "./resources.ts";

export type InformerClient = Pick<KubeClient, "listNodes" | "listPods" | "listEniConfigs" | "watch">;

export function nodeInformer(client: InformerClient, nodeName: string, log: InformerLog): Informer<V1Node> {
  const fieldSelector = `metadata.name=${nodeName}`;
  return new Informer<V1Node>({
    name: `node ${nodeName}`,
    path: callPath(KUBE_API_CALLS.watchNodes),
    list: () => client.listNodes({ fieldSelector }),
    watch: client.watch,
    fieldSelector,
    log,
  });
}

export function podsOnNodeInformer(client: InformerClient, nodeName: string, log: InformerLog): Informer<V1Pod> {
  const fieldSelector = `spec.nodeName=${nodeName}`;
  return new Informer<V1Pod>({
    name: `pods on ${nodeName}`,
    path: callPath(KUBE_API_CALLS.watchPods),
    list: () => client.listPods({ fieldSelector }),
    watch: client.watch,
    fieldSelector,
    log,
  });
}

export function eniConfigInformer(client: InformerClient, log: InformerLog): Informer<EniConfig> {
  return new Informer<EniConfig>({
    name: "ENIConfigs",
    path: callPath(KUBE_API_CALLS.watchEniConfigs),
    list: () => client.listEniConfigs(),
    watch: client.watch,
    log,
  });
}
