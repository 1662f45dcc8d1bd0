// Resource requests over HTTP, after authentication and authorization: the resource and scope are
// resolved, options read from the query, the body read and parsed, and the call handed to the
// KubeApi (or a subresource's handler); the answer is encoded as the client negotiated (JSON,
// YAML, Table, PartialObjectMetadata).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { KObject } from "../objects.ts";
import type { KubeApi } from "../api/kube-api.ts";
import type { RequestContext } from "../request-context.ts";
import { PATCH_TYPES } from "../api/kube-api.ts";
import { deleteOptionsFrom, dryRunFromQuery, fieldValidationFromQuery, watchOptionsFromQuery } from "../api/options.ts";
import type { Registry } from "../registry/registry.ts";
import { apiVersionOf, type ResourceType, type Verb, type WriteResult } from "../registry/resource-type.ts";
import type { UserInfo } from "../auth/user.ts";
import { badRequest, methodNotAllowed, noSuchResource, unsupportedMediaType } from "../status.ts";
import { partialMetadata, toTable, type IncludeObject } from "../printing/table.ts";
import { bodyFormat, mediaType, parseBody, readBody } from "./body.ts";
import { negotiate, type Negotiated } from "./negotiate.ts";
import type { RequestInfo } from "./request-info.ts";
import { sendObject } from "./responses.ts";
import { serveWatch } from "./watch-stream.ts";

export interface ResourceDeps {
  api: KubeApi;
  registry: Registry;
  now: () => number;
  maxWatchBacklogBytes?: number;
}

const WRITE_CONTENT_TYPES = ["application/json", "application/yaml"];

function includeObjectOf(q: URLSearchParams): IncludeObject {
  const v = q.get("includeObject");
  if (v === null || v === "") return "Metadata";
  if (v === "None" || v === "Metadata" || v === "Object") return v;
  throw badRequest(`includeObject must be one of None, Metadata or Object, got ${JSON.stringify(v)}`);
}

/** List items of built-in kinds carry no apiVersion/kind on the wire (custom resources keep theirs). */
function wireItem(type: ResourceType, item: KObject): KObject {
  if (type.custom) return item;
  const { apiVersion: _a, kind: _k, ...rest } = item;
  return rest as KObject;
}

function encodeOne(type: ResourceType, object: KObject, negotiated: Negotiated, q: URLSearchParams, now: number): unknown {
  if (negotiated.transform === "table") return toTable([object], type.printer, { includeObject: includeObjectOf(q), metaVersion: negotiated.metaVersion, now });
  if (negotiated.transform === "metadata") return partialMetadata(object, negotiated.metaVersion);
  return object;
}

export async function serveResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, q: URLSearchParams, deps: ResourceDeps): Promise<void> {
  const { api, registry } = deps;
  const type = registry.lookup(info.apiGroup, info.apiVersion, info.resource);
  if (!type) throw noSuchResource();
  const isNamespaceObject = type.group === "" && type.resource === "namespaces";
  if (!type.namespaced && info.namespace && !isNamespaceObject) throw noSuchResource();
  const collectionVerb = info.verb === "list" || info.verb === "watch" || info.verb === "deletecollection" || (info.verb === "create" && info.subresource === "");
  if (type.namespaced && !info.namespace && !collectionVerb) throw noSuchResource();
  if (type.namespaced && !info.namespace && info.verb === "create") throw noSuchResource();
  const namespace = type.namespaced ? info.namespace : "";
  const verb = info.verb as Verb;
  const ctx: RequestContext = { user, dryRun: dryRunFromQuery(q), fieldValidation: fieldValidationFromQuery(q), warnings: [] };
  const negotiated = negotiate(req.headers.accept, verb === "get" || verb === "list" || verb === "watch");
  const pretty = q.get("pretty") === "true";
  const now = deps.now();

  const readPayload = async (accepted: readonly string[]): Promise<{ body: unknown; contentType: string }> => {
    const contentType = mediaType(req.headers["content-type"]);
    const format = bodyFormat(contentType, accepted);
    return { body: parseBody(await readBody(req), format), contentType };
  };
  const respond = (result: WriteResult) => {
    const body = result.body.kind === "Status" ? result.body : encodeOne(type, result.body as KObject, negotiated, q, now);
    sendObject(res, result.code, body, negotiated.format, ctx.warnings, pretty);
  };

  if (info.subresource) {
    const sub = info.subresource;
    const handler = type.subresources[sub];
    if (sub === "status" && type.status) {
      if (verb === "get") return respond({ code: 200, body: await api.get(ctx, type, namespace, info.name) });
      if (verb === "update") return respond(await api.update(ctx, type, namespace, info.name, (await readPayload(WRITE_CONTENT_TYPES)).body, "status"));
      if (verb === "patch") {
        const { body, contentType } = await readPayload(Object.values(PATCH_TYPES));
        return respond(await api.patch(ctx, type, namespace, info.name, contentType, body, "status"));
      }
      throw methodNotAllowed();
    }
    if (!handler) throw noSuchResource();
    const call = { api, ctx, type, namespace, name: info.name };
    if (handler.generic && verb === "update") return respond(await api.update(ctx, type, namespace, info.name, (await readPayload(WRITE_CONTENT_TYPES)).body, sub));
    if (verb === "get" && handler.get) return respond({ code: 200, body: await handler.get(call) });
    if (verb === "create" && handler.create) return respond(await handler.create(call, (await readPayload(WRITE_CONTENT_TYPES)).body));
    if (verb === "update" && handler.update) return respond(await handler.update(call, (await readPayload(WRITE_CONTENT_TYPES)).body));
    if (verb === "patch" && handler.patch) {
      const { body, contentType } = await readPayload(Object.values(PATCH_TYPES));
      return respond(await handler.patch(call, contentType, body));
    }
    throw methodNotAllowed();
  }

  if (!type.verbs.includes(verb)) throw methodNotAllowed();
  switch (verb) {
    case "get":
      return respond({ code: 200, body: await api.get(ctx, type, namespace, info.name) });
    case "list": {
      const list = await api.list(ctx, type, namespace, watchOptionsFromQuery(q));
      let body: unknown;
      if (negotiated.transform === "table") {
        body = toTable(list.items, type.printer, { includeObject: includeObjectOf(q), metaVersion: negotiated.metaVersion, now, listMetadata: list.metadata });
      } else if (negotiated.transform === "metadata") {
        body = { kind: "PartialObjectMetadataList", apiVersion: `meta.k8s.io/${negotiated.metaVersion}`, metadata: list.metadata, items: list.items.map((i) => partialMetadata(i, negotiated.metaVersion)) };
      } else {
        body = { apiVersion: apiVersionOf(type), kind: type.listKind, metadata: list.metadata, items: list.items.map((i) => wireItem(type, i)) };
      }
      return sendObject(res, 200, body, negotiated.format, ctx.warnings, pretty);
    }
    case "watch": {
      const options = watchOptionsFromQuery(q);
      if (info.name) options.fieldSelector = [options.fieldSelector, `metadata.name=${info.name}`].filter(Boolean).join(",");
      const includeObject = includeObjectOf(q);
      serveWatch(res, (sink) => api.watch(ctx, type, namespace, options, sink), {
        transform: (object, first) => {
          if (negotiated.transform === "table") return toTable([object], type.printer, { includeObject, metaVersion: negotiated.metaVersion, now: deps.now(), noHeaders: !first });
          if (negotiated.transform === "metadata") return partialMetadata(object, negotiated.metaVersion);
          return object;
        },
        maxBacklogBytes: deps.maxWatchBacklogBytes,
      });
      return;
    }
    case "create":
      return respond(await api.create(ctx, type, namespace, (await readPayload(WRITE_CONTENT_TYPES)).body));
    case "update":
      return respond(await api.update(ctx, type, namespace, info.name, (await readPayload(WRITE_CONTENT_TYPES)).body));
    case "patch": {
      const contentType = mediaType(req.headers["content-type"]);
      const accepted = [PATCH_TYPES.json, PATCH_TYPES.merge, ...(type.strategicMerge ? [PATCH_TYPES.strategic] : [])];
      if (!(Object.values(PATCH_TYPES) as string[]).includes(contentType)) throw unsupportedMediaType(contentType, accepted);
      const { body } = await readPayload(Object.values(PATCH_TYPES));
      return respond(await api.patch(ctx, type, namespace, info.name, contentType, body));
    }
    case "delete": {
      const { body } = await readPayload(WRITE_CONTENT_TYPES);
      return respond(await api.delete(ctx, type, namespace, info.name, deleteOptionsFrom(body, q)));
    }
    case "deletecollection": {
      const { body } = await readPayload(WRITE_CONTENT_TYPES);
      const result = await api.deleteCollection(ctx, type, namespace, watchOptionsFromQuery(q), deleteOptionsFrom(body, q));
      return sendObject(res, result.code, result.body, negotiated.format, ctx.warnings, pretty);
    }
  }
  throw methodNotAllowed();
}
