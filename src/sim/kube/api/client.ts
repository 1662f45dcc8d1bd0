// The in-process client of the API server, for vpcsim's own control plane (scheduler, workload
// controllers, garbage collector, the namespace and token controllers) running in the daemon. It
// goes through exactly what an HTTP request goes through below authentication: decoding,
// defaulting, admission, validation, resourceVersions and watch; only HTTP and (for the control
// plane's identity) authorization are skipped. With another identity it is authorized like a
// request from that user, which tests use.
//
// Resources are named by apiVersion and plural: "v1/pods", "apps/v1/deployments",
// "coordination.k8s.io/v1/leases", "crd.k8s.amazonaws.com/v1alpha1/eniconfigs". Errors are
// KubeErrors carrying the Status a client would get (err.code, err.reason, err.status).

import type { KObject } from "../objects.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import { CONTROL_PLANE, type UserInfo } from "../auth/user.ts";
import { forbiddenMessage, type Authorizer } from "../auth/rbac.ts";
import { forbidden, KubeError, noSuchResource, type Status } from "../status.ts";
import type { KubeApi } from "./kube-api.ts";
import { PATCH_TYPES } from "./kube-api.ts";
import type { DeleteOptions, ListOptions, WatchOptions } from "./options.ts";
import type { FieldValidation, RequestContext } from "../request-context.ts";
import type { WatchEvent, WatchEventType, WatchHandle } from "./watch.ts";

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
}

export type PatchKind = "merge" | "strategic" | "json";

export interface ListResponse {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KObject[];
}

/** The in-process watch: events arrive asynchronously, in order; `done` is called once at the end. */
export interface WatchCallbacks {
  event: (type: WatchEventType, object: KObject | Status) => void;
  done?: (error?: KubeError) => void;
}

/** In-process watchers buffer at most this many undelivered events before the watch is ended. */
export const MAX_QUEUED_EVENTS = 100_000;

export class KubeClient {
  readonly api: KubeApi;
  readonly user: UserInfo;
  private readonly authorizer: Authorizer | undefined;
  /** Warnings of the last call (unknown fields, deprecated uses). */
  lastWarnings: string[] = [];

  constructor(api: KubeApi, user: UserInfo = CONTROL_PLANE, authorizer?: Authorizer) {
    this.api = api;
    this.user = user;
    this.authorizer = user === CONTROL_PLANE ? undefined : authorizer;
  }

  /** The same client acting as someone else (authorized as that user). */
  as(user: UserInfo, authorizer: Authorizer): KubeClient {
    return new KubeClient(this.api, user, authorizer);
  }

  type(key: string): ResourceType {
    const t = this.api.registry.byKey(key);
    if (!t) throw noSuchResource();
    return t;
  }

  /** The resource an object belongs to, from its apiVersion and kind. */
  typeOf(object: KObject): ResourceType {
    const t = this.api.registry.byKind(object.apiVersion, object.kind);
    if (!t) throw new KubeError({ code: 404, reason: "NotFound", message: `no matches for kind "${object.kind}" in version "${object.apiVersion}"` });
    return t;
  }

  private context(options: WriteOptions = {}): RequestContext {
    this.lastWarnings = [];
    return { user: this.user, ...(options.dryRun ? { dryRun: true } : {}), ...(options.fieldValidation ? { fieldValidation: options.fieldValidation } : {}), warnings: this.lastWarnings };
  }

  private authorize(type: ResourceType, verb: string, namespace: string, name: string, subresource = "", selectors: { fieldSelector?: string; labelSelector?: string } = {}): void {
    if (!this.authorizer) return;
    const attributes = {
      user: this.user,
      verb,
      resourceRequest: true,
      path: "",
      apiGroup: type.group,
      apiVersion: type.version,
      resource: type.resource,
      subresource,
      namespace,
      name,
      ...(selectors.fieldSelector ? { fieldSelector: selectors.fieldSelector } : {}),
      ...(selectors.labelSelector ? { labelSelector: selectors.labelSelector } : {}),
    };
    const decision = this.authorizer.authorize(attributes);
    if (!decision.allowed) throw forbidden({ group: type.group, resource: type.resource }, name, forbiddenMessage(attributes, decision.reason));
  }

  async get(key: string, name: string, namespace = ""): Promise<KObject> {
    const t = this.type(key);
    this.authorize(t, "get", namespace, name);
    return this.api.get(this.context(), t, t.namespaced ? namespace : "", name);
  }

  /** The object, or undefined when it does not exist. */
  async find(key: string, name: string, namespace = ""): Promise<KObject | undefined> {
    try {
      return await this.get(key, name, namespace);
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return undefined;
      throw err;
    }
  }

  async list(key: string, options: ListOptions & { namespace?: string } = {}): Promise<ListResponse> {
    const t = this.type(key);
    const { namespace = "", ...rest } = options;
    this.authorize(t, "list", namespace, "", "", rest);
    return this.api.list(this.context(), t, t.namespaced ? namespace : "", rest);
  }

  async create(object: KObject, options: WriteOptions = {}): Promise<KObject> {
    const t = this.typeOf(object);
    const namespace = t.namespaced ? (object.metadata?.namespace ?? "default") : "";
    this.authorize(t, "create", namespace, "");
    const result = await this.api.create(this.context(options), t, namespace, object);
    return result.body as KObject;
  }

  /** PUT of the object (its resourceVersion, when set, must be current). */
  async update(object: KObject, options: WriteOptions = {}): Promise<KObject> {
    return this.put(object, "", options);
  }

  /** PUT of the object's status subresource: only status changes. */
  async updateStatus(object: KObject, options: WriteOptions = {}): Promise<KObject> {
    return this.put(object, "status", options);
  }

  private async put(object: KObject, subresource: string, options: WriteOptions): Promise<KObject> {
    const t = this.typeOf(object);
    const namespace = t.namespaced ? (object.metadata?.namespace ?? "default") : "";
    const name = object.metadata?.name ?? "";
    this.authorize(t, "update", namespace, name, subresource);
    const result = await this.api.update(this.context(options), t, namespace, name, object, subresource);
    return result.body as KObject;
  }

  async patch(key: string, name: string, namespace: string, patch: unknown, kind: PatchKind = "merge", options: WriteOptions & { subresource?: string } = {}): Promise<KObject> {
    const t = this.type(key);
    const ns = t.namespaced ? namespace : "";
    const subresource = options.subresource ?? "";
    this.authorize(t, "patch", ns, name, subresource);
    const contentType = kind === "merge" ? PATCH_TYPES.merge : kind === "strategic" ? PATCH_TYPES.strategic : PATCH_TYPES.json;
    const ctx = this.context(options);
    if (subresource && subresource !== "status") {
      const handler = t.subresources[subresource];
      if (!handler?.patch) throw noSuchResource();
      return (await handler.patch({ api: this.api, ctx, type: t, namespace: ns, name }, contentType, patch)).body as KObject;
    }
    return (await this.api.patch(ctx, t, ns, name, contentType, patch, subresource)).body as KObject;
  }

  /** DELETE; the answer is the object (for pods, namespaces, custom resources, or a pending deletion) or a Status. */
  async delete(key: string, name: string, namespace = "", options: DeleteOptions = {}): Promise<KObject | Status> {
    const t = this.type(key);
    const ns = t.namespaced ? namespace : "";
    this.authorize(t, "delete", ns, name);
    return (await this.api.delete(this.context(), t, ns, name, options)).body;
  }

  /** POST to a subresource (pods/binding, serviceaccounts/token, ...). */
  async createSubresource(key: string, name: string, namespace: string, subresource: string, body: KObject): Promise<KObject | Status> {
    const t = this.type(key);
    const ns = t.namespaced ? namespace : "";
    this.authorize(t, "create", ns, name, subresource);
    const handler = t.subresources[subresource];
    if (!handler?.create) throw noSuchResource();
    return (await handler.create({ api: this.api, ctx: this.context(), type: t, namespace: ns, name }, body)).body;
  }

  /** Binds a pod to a node, as the scheduler does (pods/binding). */
  async bind(namespace: string, pod: string, node: string): Promise<void> {
    await this.createSubresource("v1/pods", pod, namespace, "binding", { apiVersion: "v1", kind: "Binding", metadata: { name: pod, namespace }, target: { apiVersion: "v1", kind: "Node", name: node } });
  }

  /** A TokenRequest for the service account; returns the token and its expiry. */
  async createToken(namespace: string, serviceAccount: string, spec: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind: string; apiVersion?: string; name: string; uid?: string } } = {}) {
    const answer = (await this.createSubresource("v1/serviceaccounts", serviceAccount, namespace, "token", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: {},
      spec,
    })) as KObject;
    const status = answer.status as { token: string; expirationTimestamp: string };
    return { token: status.token, expirationTimestamp: status.expirationTimestamp };
  }

  /**
   * Watches a resource. Events are delivered asynchronously and in order (never inside the write
   * that caused them); stop with the returned handle.
   */
  watch(key: string, options: WatchOptions & { namespace?: string }, callbacks: WatchCallbacks): WatchHandle {
    const t = this.type(key);
    const { namespace = "", ...rest } = options;
    this.authorize(t, "watch", namespace, "", "", rest);
    const queue: WatchEvent[] = [];
    let scheduled = false;
    let ending = false;
    let stopped = false;
    const drain = () => {
      scheduled = false;
      while (queue.length > 0 && !stopped) {
        const e = queue.shift()!;
        callbacks.event(e.type, e.object);
      }
      if (ending && !stopped) {
        stopped = true;
        callbacks.done?.();
      }
    };
    const schedule = () => {
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    };
    const handle = this.api.watch(this.context(), t, t.namespaced ? namespace : "", rest, {
      send(event) {
        if (queue.length >= MAX_QUEUED_EVENTS) return false;
        queue.push(event);
        schedule();
        return true;
      },
      close() {
        ending = true;
        schedule();
      },
    });
    return {
      stop() {
        stopped = true;
        handle.stop();
        queue.length = 0;
      },
      get stopped() {
        return stopped;
      },
    };
  }
}
