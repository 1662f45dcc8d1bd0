// Subresources other than status: each kind that has one (pods/binding, serviceaccounts/token,
// deployments/scale, namespaces/finalize, ...) names a handler here, which the HTTP layer and the
// in-process client dispatch to. `generic` ones are plain writes through the kind's strategy
// (Strategy.subresourceUpdate).

import type { KObject } from "../objects.ts";
import type { ResourceType, Verb } from "../registry/resource-type.ts";
import type { KubeApi, WriteResult } from "./kube-api.ts";
import type { RequestContext } from "./options.ts";

export interface SubresourceCall {
  api: KubeApi;
  ctx: RequestContext;
  type: ResourceType;
  namespace: string;
  name: string;
}

export interface SubresourceHandler {
  /** The kind the subresource reads and writes (discovery shows it). */
  kind: { group: string; version: string; kind: string };
  verbs: Verb[];
  /** Served by the generic update path with the kind's Strategy.subresourceUpdate. */
  generic?: boolean;
  get?(call: SubresourceCall): Promise<KObject>;
  create?(call: SubresourceCall, body: unknown): Promise<WriteResult>;
  update?(call: SubresourceCall, body: unknown): Promise<WriteResult>;
  patch?(call: SubresourceCall, patchType: string, patch: unknown): Promise<WriteResult>;
}
