// A stand-in for kubelets in controller tests: marks every pod Running and Ready (or only the
// ones `ready` picks), as a node would once its containers start. Pods here are never bound, so
// their deletion is immediate and there is nothing to finish.

import type { KubeClient } from "../../kube/api/client.ts";
import type { KObject } from "../../kube/objects.ts";
import { KubeError } from "../../kube/status.ts";

export async function markPodsReady(client: KubeClient, namespace: string, ready: (pod: KObject) => boolean = () => true): Promise<number> {
  let n = 0;
  for (const pod of (await client.list("v1/pods", { namespace })).items) {
    if (pod.metadata.deletionTimestamp || !ready(pod)) continue;
    const status = (pod.status ?? {}) as { phase?: string };
    if (status.phase === "Running") continue;
    const now = new Date().toISOString();
    try {
      await client.updateStatus({
        ...pod,
        status: {
          phase: "Running",
          podIP: `10.0.0.${(n % 250) + 2}`,
          conditions: [
            { type: "Ready", status: "True", lastTransitionTime: now },
            { type: "ContainersReady", status: "True", lastTransitionTime: now },
          ],
        },
      });
      n++;
    } catch (err) {
      if (!(err instanceof KubeError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
  return n;
}
