// What the server knows about one served resource (a group/version/resource): its names for
// discovery, where it is stored, how objects are defaulted and validated (its strategy), which
// fields selectors may use, how it prints as a table and its schema. Built-in kinds and the
// custom resources of CRDs are described the same way, so every request path treats them alike.

import type { KObject } from "../objects.ts";
import type { FieldError, Status } from "../status.ts";
import type { FieldSet } from "../selectors/fields.ts";
import type { TypeSchema } from "../schema/types.ts";
import type { TablePrinter } from "../printing/table-types.ts";
import type { UserInfo } from "../auth/user.ts";
import type { RequestContext } from "../request-context.ts";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export const ALL_VERBS: readonly Verb[] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/** What a strategy may look at besides the object. */
export interface StrategyContext {
  user: UserInfo;
  now: number;
  /** Reads of other objects (e.g. a namespace's phase); never writes. */
  lookup: (apiVersionResource: string, namespace: string, name: string) => KObject | undefined;
}

/**
 * Per-kind behaviour (Kubernetes' RESTCreateStrategy/RESTUpdateStrategy). Every hook may be left
 * out; the generic code does the rest (metadata, status/spec split, generation, finalizers).
 */
export interface Strategy {
  /** Fills in defaults (the API's defaulting functions), on create and on update. */
  defaults?(object: KObject): void;
  /** Changes on create beyond defaults (e.g. a pod's status reset to Pending). */
  prepareForCreate?(object: KObject, ctx: StrategyContext): void;
  /** Changes on update of the main resource (e.g. keeping immutable fields). */
  prepareForUpdate?(object: KObject, old: KObject, ctx: StrategyContext): void;
  validate?(object: KObject, ctx: StrategyContext): FieldError[];
  validateUpdate?(object: KObject, old: KObject, ctx: StrategyContext): FieldError[];
  /** Validation of a write to the status subresource. */
  validateStatusUpdate?(object: KObject, old: KObject, ctx: StrategyContext): FieldError[];
  /** Warnings returned to the client (the `Warning:` header) for an accepted object. */
  warnings?(object: KObject): string[];
  /**
   * Graceful deletion: the grace period a DELETE gets, or 0 for at once. Only pods have one.
   * `requested` is DeleteOptions.gracePeriodSeconds.
   */
  gracePeriod?(object: KObject, requested: number | undefined): number;
  /** Besides metadata.finalizers, what else holds a deleted object (a namespace's spec.finalizers). */
  blockingFinalizers?(object: KObject): string[];
  /**
   * A write to a subresource other than status (a namespace's `finalize`): the object to store,
   * from the incoming one and the stored one; undefined when the kind has no such subresource.
   */
  subresourceUpdate?(subresource: string, incoming: KObject, old: KObject): KObject | undefined;
  /** Marks an object whose deletion is pending (a namespace becomes Terminating). */
  beginDeletion?(object: KObject): void;
}

export interface ScaleSubresource {
  specReplicasPath: string[];
  statusReplicasPath: string[];
  labelSelectorPath?: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: readonly Verb[];
  /** Storage table; versions of one resource share it. */
  table: string;
  /** The version Kubernetes would list first in discovery. */
  preferred: boolean;
  /** Objects are stored as this apiVersion; others are converted on the way in and out. */
  storageApiVersion: string;
  toStorage?(object: KObject): KObject;
  fromStorage?(object: KObject): KObject;
  /** The status subresource: writes to the main resource ignore status and vice versa. */
  status: boolean;
  /** With a status subresource: a created object's status is dropped (reset) or kept (nodes). */
  statusOnCreate: "reset" | "keep";
  scale?: ScaleSubresource;
  /** Subresources besides status (binding, token, scale, finalize, ...), by name. */
  subresources: Record<string, SubresourceHandler>;
  /** metadata.generation is kept and bumped on changes outside metadata and status. */
  generation: boolean;
  allowCreateOnUpdate: boolean;
  allowUnconditionalUpdate: boolean;
  /** Strategic merge patch is offered (built-in kinds only, as in Kubernetes). */
  strategicMerge: boolean;
  /** The deleted object is returned by DELETE (else a Status). */
  returnDeletedObject: boolean;
  /** Field selectors this kind supports, besides metadata.name and metadata.namespace. */
  selectableFields: readonly string[];
  fieldSet?(object: KObject): FieldSet;
  /** The rule for metadata.name (default: an RFC 1123 subdomain); returns the problem. */
  validateName?(name: string): string | undefined;
  strategy: Strategy;
  /** The type's schema: decoding (unknown fields, types), strategic merge and OpenAPI. */
  schema?: TypeSchema;
  /**
   * Resources that are not stored (SubjectAccessReview, TokenReview, ...): a create is answered
   * by this function instead.
   */
  virtualCreate?(object: KObject, call: SubresourceCall): Promise<WriteResult>;
  /** For CRDs: validation is structural-schema validation (422), not decoding (400). */
  custom?: { crdName: string };
  printer?: TablePrinter;
}

export function apiVersionOf(t: Pick<ResourceType, "group" | "version">): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

/** `v1/pods`, `apps/v1/deployments`: how the in-process API names a resource. */
export function resourceKey(t: Pick<ResourceType, "group" | "version" | "resource">): string {
  return `${apiVersionOf(t)}/${t.resource}`;
}

export function groupResource(t: Pick<ResourceType, "group" | "resource">): { group: string; resource: string } {
  return { group: t.group, resource: t.resource };
}

// ---- Subresources other than status: each kind that has one (pods/binding, serviceaccounts/token,
// deployments/scale, namespaces/finalize, ...) names a handler, which the HTTP layer and the
// in-process client dispatch to. `generic` ones are plain writes through the kind's strategy
// (Strategy.subresourceUpdate). Handlers reach the API through `SubresourceApi`, the few calls
// they make, so the kinds' descriptions do not depend on the API that serves them.

/** The HTTP code and body a write answers with. */
export interface WriteResult {
  code: number;
  body: KObject | Status;
}

/** What a subresource handler may do with the API: read, run validating admission, store. */
export interface SubresourceApi {
  /** The stored object as the request's version shows it; a 404 when absent. */
  get(ctx: RequestContext, type: ResourceType, namespace: string, name: string): Promise<KObject>;
  /** Any stored object by its resource key ("v1/nodes"), read as admission plugins read it. */
  read(key: string, namespace: string, name: string): KObject | undefined;
  /** Validating admission for a subresource write of `object` over the stored `old`; throws to refuse. */
  admit(ctx: RequestContext, operation: "CREATE" | "UPDATE", type: ResourceType, subresource: string, namespace: string, name: string, object: KObject, old: KObject): Promise<void>;
  /** Stores `next`, a changed copy of the stored `old`, as one new revision; a 409 if `old` is stale. */
  commit(ctx: RequestContext, type: ResourceType, next: KObject, old: KObject): KObject;
  now(): number;
}

export interface SubresourceCall {
  api: SubresourceApi;
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
