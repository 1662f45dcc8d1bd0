// What the kubelet asks of the API server, as one small interface with two implementations: the
// HTTPS client a kubelet process uses from its node (rest-client.ts) and vpcsim's in-process
// KubeClient (which has these methods with these shapes), which unit tests use with the node's
// identity so the Node authorizer and NodeRestriction still judge every call.
//
// Resources are named as the in-process client names them: "v1/pods", "coordination.k8s.io/v1/leases".
// Failures are KubeErrors carrying the Status the server answered with.

import type { KObject } from "../../kube/objects.ts";
import type { Status } from "../../kube/status.ts";
import { KubeError } from "../../kube/status.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface ListAnswer {
  metadata: { resourceVersion: string };
  items: KObject[];
}

export interface NodeApiWatch {
  stop(): void;
}

export interface NodeApi {
  get(key: string, name: string, namespace?: string): Promise<KObject>;
  list(key: string, options?: { namespace?: string; fieldSelector?: string; labelSelector?: string; resourceVersion?: string }): Promise<ListAnswer>;
  create(object: KObject): Promise<KObject>;
  update(object: KObject): Promise<KObject>;
  patch(key: string, name: string, namespace: string, patch: unknown, kind?: "merge" | "strategic" | "json", options?: { subresource?: string }): Promise<KObject>;
  delete(key: string, name: string, namespace?: string, options?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<unknown>;
  createSubresource(key: string, name: string, namespace: string, subresource: string, body: KObject): Promise<KObject | Status>;
  watch(
    key: string,
    options: { namespace?: string; fieldSelector?: string; labelSelector?: string; resourceVersion?: string; allowWatchBookmarks?: boolean; timeoutSeconds?: number },
    callbacks: { event: (type: WatchEventType, object: KObject | Status) => void; done?: (error?: KubeError) => void },
  ): NodeApiWatch;
}

/** Whether err is the API server's answer with this HTTP code. */
export function isStatus(err: unknown, code: number): boolean {
  return err instanceof KubeError && err.code === code;
}
