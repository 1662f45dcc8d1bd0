// The API server's request handling, below HTTP: get, list, watch, create, update, patch and
// delete for every served resource, each through the same steps as in Kubernetes: decoding against
// the kind's schema, defaulting, the strategy (status/spec split, generation), mutating admission,
// validation, validating admission, then storage with resourceVersion checks. The HTTP layer calls
// these after authenticating and authorizing; vpcsim's own controllers call them through
// `KubeClient` (client.ts) without HTTP. Nothing is stored unless every step passed.

import { deepClone, deepEqual, formatTime, isPlainObject, type KObject } from "../objects.ts";
import { apiVersionOf, groupResource, type ResourceType, type StrategyContext, type SubresourceApi, type WriteResult } from "../registry/resource-type.ts";
import type { Registry } from "../registry/registry.ts";
import { StoreConflict, type RevisionStore } from "../store/revision-store.ts";
import {
  alreadyExists,
  conflict,
  fieldErrors,
  internalError,
  invalid,
  KubeError,
  notFound,
  noSuchResource,
  STALE_OBJECT,
  success,
  unsupportedMediaType,
  type FieldError,
  type Status,
} from "../status.ts";
import { AdmissionChain, type AdmissionReader, type AdmissionRequest } from "../admission/plugin.ts";
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS, parseJsonPatch, PatchError } from "../patch/json-patch.ts";
import { applyMergePatch } from "../patch/merge-patch.ts";
import { applyStrategicMergePatch } from "../patch/strategic-merge.ts";
import { decodeBody } from "./decode-body.ts";
import { listObjects, type ListResult } from "./list.ts";
import { prepareCreateMeta, prepareUpdateMeta, validateObjectMeta, validateObjectMetaUpdate } from "./object-meta.ts";
import type { DeleteOptions, ListOptions, WatchOptions } from "./options.ts";
import type { RequestContext } from "../request-context.ts";
import { storageKey } from "./predicate.ts";
import { startWatch, type WatchHandle, type WatchSettings, type WatchSink } from "./watch.ts";

/** etcd refuses values over 1.5 MiB; so does this store. */
export const MAX_OBJECT_BYTES = 1_572_864;

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** A write that lost a race with another one (after an await); PATCH retries it. */
class StaleWrite extends KubeError {}


export interface KubeApiOptions {
  store: RevisionStore;
  registry: Registry;
  admission?: AdmissionChain;
  now?: () => number;
  watch?: Partial<WatchSettings>;
}

export class KubeApi implements SubresourceApi {
  readonly store: RevisionStore;
  readonly registry: Registry;
  readonly admission: AdmissionChain;
  readonly now: () => number;
  readonly watchSettings: WatchSettings;
  readonly reader: AdmissionReader;

  constructor(options: KubeApiOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.admission = options.admission ?? new AdmissionChain();
    this.now = options.now ?? Date.now;
    this.watchSettings = {
      bookmarkIntervalMs: 60_000,
      defaultTimeoutMs: () => (30 + Math.random() * 30) * 60_000,
      ...options.watch,
    };
    this.reader = {
      get: (key, namespace, name) => {
        const type = this.registry.byKey(key);
        if (!type) return undefined;
        const stored = this.store.get(type.table, storageKey(type, namespace, name));
        return stored ? this.toExternal(type, stored) : undefined;
      },
      list: (key, namespace) => {
        const type = this.registry.byKey(key);
        if (!type) return [];
        return this.store.list(type.table, type.namespaced && namespace ? `${namespace}/` : "").map(([, o]) => this.toExternal(type, o));
      },
      now: () => this.now(),
    };
  }

  /** A stored object as the type's version shows it (a copy the caller may change). */
  toExternal(type: ResourceType, stored: KObject): KObject {
    const copy = deepClone(stored);
    if (type.fromStorage) return type.fromStorage(copy);
    return { ...copy, apiVersion: apiVersionOf(type), kind: type.kind };
  }

  private toStored(type: ResourceType, object: KObject): KObject {
    if (type.toStorage) return type.toStorage(deepClone(object));
    return { ...object, apiVersion: type.storageApiVersion };
  }

  private strategyContext(ctx: RequestContext): StrategyContext {
    return { user: ctx.user, now: this.now(), lookup: this.reader.get };
  }

  private stored(type: ResourceType, namespace: string, name: string): KObject {
    const stored = this.store.get(type.table, storageKey(type, namespace, name));
    if (!stored) throw notFound(groupResource(type), name);
    return stored;
  }

  // ---- reads

  async get(_ctx: RequestContext, type: ResourceType, namespace: string, name: string): Promise<KObject> {
    return this.toExternal(type, this.stored(type, namespace, name));
  }

  async list(_ctx: RequestContext, type: ResourceType, namespace: string, options: ListOptions = {}): Promise<ListResult & { apiVersion: string; kind: string }> {
    const result = listObjects(this.store, type, namespace, options, (o) => this.toExternal(type, o));
    return { apiVersion: apiVersionOf(type), kind: type.listKind, ...result };
  }

  watch(_ctx: RequestContext, type: ResourceType, namespace: string, options: WatchOptions, sink: WatchSink): WatchHandle {
    return startWatch(this.store, type, namespace, options, (o) => this.toExternal(type, o), sink, this.watchSettings);
  }

  // ---- writes

  async create(ctx: RequestContext, type: ResourceType, namespace: string, body: unknown): Promise<WriteResult> {
    const object = decodeBody(type, body, ctx);
    this.placeInNamespace(type, namespace, object);
    if (type.virtualCreate) return type.virtualCreate(object, { api: this, ctx, type, namespace, name: object.metadata.name ?? "" });
    if (object.metadata.resourceVersion) throw internalError("resourceVersion should not be set on objects to be created");
    const sctx = this.strategyContext(ctx);
    type.strategy.defaults?.(object);
    prepareCreateMeta(object, type, sctx.now);
    if (type.status && type.statusOnCreate === "reset") delete object.status;
    type.strategy.prepareForCreate?.(object, sctx);
    const request = this.admissionRequest(ctx, "CREATE", type, "", namespace, object, undefined);
    await this.admission.mutate(request, this.reader);
    type.strategy.defaults?.(object);
    const errors = [...validateObjectMeta(object.metadata, type, true), ...(type.strategy.validate?.(object, sctx) ?? [])];
    this.throwIfInvalid(type, object, errors);
    await this.admission.validate(request, this.reader);
    ctx.warnings.push(...(type.strategy.warnings?.(object) ?? []));
    this.checkSize(object);
    if (ctx.dryRun) return { code: 201, body: object };
    try {
      const stored = this.store.create(type.table, storageKey(type, namespace, object.metadata.name!), this.toStored(type, object));
      return { code: 201, body: this.toExternal(type, stored) };
    } catch (err) {
      if (err instanceof StoreConflict) throw alreadyExists(groupResource(type), object.metadata.name!);
      throw err;
    }
  }

  /** PUT of the main resource or its status subresource. */
  async update(ctx: RequestContext, type: ResourceType, namespace: string, name: string, body: unknown, subresource = ""): Promise<WriteResult> {
    const incoming = decodeBody(type, body, ctx);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw new KubeError({ code: 400, reason: "BadRequest", message: `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})` });
    }
    incoming.metadata.name = name;
    this.placeInNamespace(type, namespace, incoming);
    const storedOld = this.store.get(type.table, storageKey(type, namespace, name));
    if (!storedOld) {
      if (type.allowCreateOnUpdate && subresource === "") {
        delete incoming.metadata.resourceVersion;
        return this.create(ctx, type, namespace, incoming);
      }
      throw notFound(groupResource(type), name);
    }
    return this.applyUpdate(ctx, type, subresource, incoming, this.toExternal(type, storedOld));
  }

  async patch(ctx: RequestContext, type: ResourceType, namespace: string, name: string, patchType: string, patch: unknown, subresource = ""): Promise<WriteResult> {
    const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, ...(type.strategicMerge ? [PATCH_TYPES.strategic] : []), PATCH_TYPES.apply];
    if (patchType === PATCH_TYPES.apply) {
      // Server-side apply is not offered: answered as by a server that does not accept the type.
      throw unsupportedMediaType(patchType, accepted.filter((t) => t !== PATCH_TYPES.apply));
    }
    if (!accepted.includes(patchType as PatchType)) throw unsupportedMediaType(patchType, accepted);
    const operations = patchType === PATCH_TYPES.json ? this.parseJsonPatch(patch) : undefined;
    if (patchType !== PATCH_TYPES.json && !isPlainObject(patch)) {
      throw new KubeError({ code: 400, reason: "BadRequest", message: `json: cannot unmarshal ${Array.isArray(patch) ? "array" : typeof patch} into Go value of type map[string]interface {}` });
    }
    for (let attempt = 0; ; attempt++) {
      const old = this.toExternal(type, this.stored(type, namespace, name));
      let patched: unknown;
      try {
        if (operations) patched = applyJsonPatch(old, operations);
        else if (patchType === PATCH_TYPES.merge) patched = applyMergePatch(old, patch);
        else patched = applyStrategicMergePatch(old, patch, type.schema);
      } catch (err) {
        if (!(err instanceof PatchError)) throw err;
        throw new KubeError({
          code: 422,
          reason: "Invalid",
          message: "the server rejected our request due to an error in our request",
          details: { causes: [{ reason: "UnexpectedServerResponse", message: err.message }] },
        });
      }
      const incoming = decodeBody(type, patched, ctx);
      const explicitVersion = incoming.metadata.resourceVersion !== old.metadata.resourceVersion;
      try {
        return await this.applyUpdate(ctx, type, subresource, incoming, old);
      } catch (err) {
        // Another write landed while admission ran: patch the new state, as Kubernetes retries.
        if (!(err instanceof StaleWrite) || explicitVersion || attempt >= 4) throw err;
        ctx.warnings.length = 0;
      }
    }
  }

  private parseJsonPatch(patch: unknown) {
    try {
      const operations = parseJsonPatch(patch);
      if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
        throw new KubeError({ code: 413, reason: "RequestEntityTooLarge", message: `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}` });
      }
      return operations;
    } catch (err) {
      if (err instanceof PatchError) throw new KubeError({ code: 400, reason: "BadRequest", message: err.message });
      throw err;
    }
  }

  /** Common to PUT and PATCH: `incoming` replaces `old` (the stored object, external form). */
  private async applyUpdate(ctx: RequestContext, type: ResourceType, subresource: string, incoming: KObject, old: KObject): Promise<WriteResult> {
    const name = old.metadata.name!;
    const namespace = old.metadata.namespace ?? "";
    const gr = groupResource(type);
    const rv = incoming.metadata.resourceVersion;
    if (!rv) {
      if (!type.allowUnconditionalUpdate) throw invalid(type.group, type.kind, name, [fieldErrors.invalid("metadata.resourceVersion", "", "must be specified for an update")]);
    } else if (rv !== old.metadata.resourceVersion) {
      throw conflict(gr, name, STALE_OBJECT);
    }
    let next: KObject;
    if (subresource === "status") {
      next = deepClone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else if (subresource !== "") {
      const merged = type.strategy.subresourceUpdate?.(subresource, incoming, old);
      if (!merged) throw noSuchResource();
      next = merged;
    } else {
      next = incoming;
      if (type.status) {
        if (old.status === undefined) delete next.status;
        else next.status = deepClone(old.status);
      }
    }
    const sctx = this.strategyContext(ctx);
    type.strategy.defaults?.(next);
    prepareUpdateMeta(next, old, type);
    if (subresource === "") type.strategy.prepareForUpdate?.(next, old, sctx);
    const request = this.admissionRequest(ctx, "UPDATE", type, subresource, namespace, next, old);
    await this.admission.mutate(request, this.reader);
    type.strategy.defaults?.(next);
    const errors = [...validateObjectMeta(next.metadata, type, false), ...validateObjectMetaUpdate(next.metadata, old.metadata)];
    if (subresource === "status") errors.push(...(type.strategy.validateStatusUpdate?.(next, old, sctx) ?? []));
    else errors.push(...(type.strategy.validate?.(next, sctx) ?? []), ...(type.strategy.validateUpdate?.(next, old, sctx) ?? []));
    this.throwIfInvalid(type, next, errors);
    await this.admission.validate(request, this.reader);
    ctx.warnings.push(...(type.strategy.warnings?.(next) ?? []));
    this.checkSize(next);
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (deepEqual(next, old)) return { code: 200, body: old }; // no change, no new revision
    const key = storageKey(type, namespace, name);
    const expected = Number(old.metadata.resourceVersion);
    if (next.metadata.deletionTimestamp && this.blockers(type, next).length === 0 && (next.metadata.deletionGracePeriodSeconds ?? 0) === 0) {
      // The last finalizer is gone: the update completes the deletion.
      if (ctx.dryRun) return { code: 200, body: next };
      return { code: 200, body: this.toExternal(type, this.storeWrite(type, name, () => this.store.delete(type.table, key, expected))) };
    }
    if (ctx.dryRun) return { code: 200, body: next };
    return { code: 200, body: this.toExternal(type, this.storeWrite(type, name, () => this.store.update(type.table, key, this.toStored(type, next), expected))) };
  }

  async delete(ctx: RequestContext, type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}): Promise<WriteResult> {
    const old = this.toExternal(type, this.stored(type, namespace, name));
    const gr = groupResource(type);
    const p = options.preconditions;
    if (p?.uid !== undefined && p.uid !== old.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (p?.resourceVersion !== undefined && p.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const dryRun = ctx.dryRun === true || (options.dryRun ?? []).includes("All");
    await this.admission.validate(this.admissionRequest({ ...ctx, dryRun }, "DELETE", type, "", namespace, undefined, old), this.reader);
    const now = this.now();
    const next = deepClone(old);
    const finalizers = propagationFinalizers(next.metadata.finalizers ?? [], options);
    if (finalizers.length > 0) next.metadata.finalizers = finalizers;
    else delete next.metadata.finalizers;
    const grace = type.strategy.gracePeriod?.(old, options.gracePeriodSeconds) ?? 0;
    const pending = old.metadata.deletionTimestamp !== undefined;
    const accepted = options.orphanDependents === false ? 202 : 200;
    if (pending) {
      // Already being deleted: a shorter grace period moves the deadline; 0 finishes it.
      const remaining = old.metadata.deletionGracePeriodSeconds ?? 0;
      if (grace < remaining) {
        next.metadata.deletionGracePeriodSeconds = grace;
        next.metadata.deletionTimestamp = formatTime(now + grace * 1000);
      }
    } else {
      next.metadata.deletionTimestamp = formatTime(now + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      if (type.generation) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
      type.strategy.beginDeletion?.(next);
    }
    const key = storageKey(type, namespace, name);
    const expected = Number(old.metadata.resourceVersion);
    if ((next.metadata.deletionGracePeriodSeconds ?? 0) === 0 && this.blockers(type, next).length === 0) {
      const deleted = dryRun ? old : this.toExternal(type, this.storeWrite(type, name, () => this.store.delete(type.table, key, expected)));
      return { code: 200, body: type.returnDeletedObject ? deleted : success({ name, ...(type.group ? { group: type.group } : {}), kind: type.resource, uid: old.metadata.uid! }) };
    }
    if (deepEqual(next, old) || dryRun) return { code: accepted, body: dryRun ? next : old };
    return { code: accepted, body: this.toExternal(type, this.storeWrite(type, name, () => this.store.update(type.table, key, this.toStored(type, next), expected))) };
  }

  async deleteCollection(ctx: RequestContext, type: ResourceType, namespace: string, listOptions: ListOptions, options: DeleteOptions): Promise<WriteResult> {
    const list = await this.list(ctx, type, namespace, { ...listOptions, limit: undefined, continue: undefined });
    const items: KObject[] = [];
    for (const item of list.items) {
      try {
        const result = await this.delete(ctx, type, item.metadata.namespace ?? "", item.metadata.name!, options);
        items.push(result.body.kind === "Status" ? item : (result.body as KObject));
      } catch (err) {
        if (!(err instanceof KubeError && err.code === 404)) throw err;
      }
    }
    return { code: 200, body: { apiVersion: apiVersionOf(type), kind: type.listKind, metadata: { resourceVersion: String(this.store.revision) }, items } as unknown as KObject };
  }

  read(key: string, namespace: string, name: string): KObject | undefined {
    return this.reader.get(key, namespace, name);
  }

  /** For subresource handlers (binding, scale, token): validating admission of their write. */
  async admit(ctx: RequestContext, operation: "CREATE" | "UPDATE", type: ResourceType, subresource: string, namespace: string, name: string, object: KObject, old: KObject): Promise<void> {
    await this.admission.validate({ operation, type, subresource, namespace, name, object, oldObject: old, user: ctx.user, dryRun: ctx.dryRun === true }, this.reader);
  }

  /**
   * For subresource handlers (binding, scale, token): stores `next`, a changed copy of the stored
   * `old`, as one new revision; a 409 if `old` is no longer current.
   */
  commit(ctx: RequestContext, type: ResourceType, next: KObject, old: KObject): KObject {
    prepareUpdateMeta(next, old, type);
    this.checkSize(next);
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (deepEqual(next, old) || ctx.dryRun) return next;
    const key = storageKey(type, old.metadata.namespace ?? "", old.metadata.name!);
    return this.toExternal(type, this.storeWrite(type, old.metadata.name!, () => this.store.update(type.table, key, this.toStored(type, next), Number(old.metadata.resourceVersion))));
  }

  // ---- helpers

  private blockers(type: ResourceType, object: KObject): string[] {
    return [...(object.metadata.finalizers ?? []), ...(type.strategy.blockingFinalizers?.(object) ?? [])];
  }

  private placeInNamespace(type: ResourceType, namespace: string, object: KObject): void {
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    if (object.metadata.namespace && object.metadata.namespace !== namespace) {
      throw new KubeError({ code: 400, reason: "BadRequest", message: "the namespace of the provided object does not match the namespace sent on the request" });
    }
    object.metadata.namespace = namespace;
  }

  private throwIfInvalid(type: ResourceType, object: KObject, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(type.group, type.kind, object.metadata.name ?? object.metadata.generateName ?? "", errors);
  }

  private checkSize(object: KObject): void {
    if (Buffer.byteLength(JSON.stringify(object)) > MAX_OBJECT_BYTES) {
      throw new KubeError({ code: 413, reason: "RequestEntityTooLarge", message: `Request entity too large: the object is larger than ${MAX_OBJECT_BYTES} bytes, the most the store keeps` });
    }
  }

  private storeWrite(type: ResourceType, name: string, write: () => KObject): KObject {
    try {
      return write();
    } catch (err) {
      if (!(err instanceof StoreConflict)) throw err;
      if (err.why === "missing") throw notFound(groupResource(type), name);
      throw new StaleWrite(conflict(groupResource(type), name, STALE_OBJECT).status);
    }
  }

  private admissionRequest(ctx: RequestContext, operation: AdmissionRequest["operation"], type: ResourceType, subresource: string, namespace: string, object: KObject | undefined, oldObject: KObject | undefined): AdmissionRequest {
    return { operation, type, subresource, namespace, name: object?.metadata.name ?? oldObject?.metadata.name ?? "", object, oldObject, user: ctx.user, dryRun: ctx.dryRun === true };
  }
}

/** The garbage collector's finalizers a DELETE asks for (deletionFinalizersForGarbageCollection). */
function propagationFinalizers(current: string[], options: DeleteOptions): string[] {
  const policy = options.propagationPolicy ?? (options.orphanDependents === true ? "Orphan" : options.orphanDependents === false ? "Background" : undefined);
  if (policy === undefined) return current;
  const rest = current.filter((f) => f !== "orphan" && f !== "foregroundDeletion");
  if (policy === "Orphan") return [...rest, "orphan"];
  if (policy === "Foreground") return [...rest, "foregroundDeletion"];
  return rest;
}
