// The API server's HTTP entry: authentication (bearer tokens; none is anonymous), impersonation,
// authorization of every request (resource and non-resource, with Kubernetes' 401/403 Status
// answers), then the non-resource endpoints (version, health, discovery, OpenAPI) or the resource
// handler. Every failure, including a bug, leaves as a Status object.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "../auth/authenticator.ts";
import { forbiddenMessage, type AuthorizationAttributes, type Authorizer } from "../auth/rbac.ts";
import { ANONYMOUS, type UserInfo } from "../auth/user.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from "../discovery.ts";
import { asKubeError, forbidden, KubeError, unauthorized } from "../status.ts";
import { BodyTooLarge } from "./body.ts";
import { impersonate } from "./impersonation.ts";
import { requestInfo, type RequestInfo } from "./request-info.ts";
import { serveResource, type ResourceDeps } from "./resource-handler.ts";
import { sendObject, sendStatus, sendText } from "./responses.ts";

const ANONYMOUS_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

export const KUBERNETES_VERSION = { major: "1", minor: "34", gitVersion: "v1.34.1-vpcsim" };

export interface HandlerDeps extends ResourceDeps {
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** host:port clients should use (the /api document's serverAddressByClientCIDRs). */
  serverAddress: string;
  /** The OpenAPI v2 document, or undefined while it is not served. */
  openapiV2?: () => unknown;
  openapiV3?: (path: string) => unknown | undefined;
  onError?: (err: unknown, req: IncomingMessage) => void;
}

function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2025-09-01T00:00:00Z",
    goVersion: "go1.24.6",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

const HEALTH_CHECKS = ["ping", "log", "etcd", "poststarthook/start-apiextensions-controllers", "poststarthook/rbac/bootstrap-roles"];

function health(res: ServerResponse, q: URLSearchParams, endpoint: string, sub: string): void {
  if (sub && !HEALTH_CHECKS.includes(sub)) return sendText(res, 404, "404 page not found\n");
  if (sub || !q.has("verbose")) return sendText(res, 200, "ok");
  sendText(res, 200, `${HEALTH_CHECKS.map((c) => `[+]${c} ok`).join("\n")}\n${endpoint} check passed\n`);
}

function serveNonResource(res: ServerResponse, path: string, q: URLSearchParams, deps: HandlerDeps): void {
  const clean = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const health_ = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(clean);
  if (health_) return health(res, q, health_[1]!, health_[2] ?? "");
  if (clean === "/version") return sendObject(res, 200, versionInfo());
  if (clean === "/api") return sendObject(res, 200, apiVersions(deps.serverAddress));
  if (clean === "/apis") return sendObject(res, 200, apiGroupList(deps.registry));
  if (clean === "/openapi/v2" && deps.openapiV2) return sendObject(res, 200, deps.openapiV2());
  if (clean.startsWith("/openapi/v3") && deps.openapiV3) {
    const doc = deps.openapiV3(clean);
    if (doc !== undefined) return sendObject(res, 200, doc);
  }
  const m = /^\/(api|apis)\/([^/]+)(?:\/([^/]+))?$/.exec(clean);
  if (m) {
    const [, prefix, first, second] = m;
    const doc = prefix === "api" ? (second ? undefined : apiResourceList(deps.registry, "", first!)) : second ? apiResourceList(deps.registry, first!, second) : apiGroup(deps.registry, first!);
    if (doc) return sendObject(res, 200, doc);
  }
  sendText(res, 404, "404 page not found\n");
}

function attributesOf(info: RequestInfo, user: UserInfo, q: URLSearchParams): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    resourceRequest: info.isResourceRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
    ...(q.get("fieldSelector") ? { fieldSelector: q.get("fieldSelector")! } : {}),
    ...(q.get("labelSelector") ? { labelSelector: q.get("labelSelector")! } : {}),
  };
}

export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(req, res, deps).catch((err: unknown) => {
      const error = asKubeError(err);
      if (!(err instanceof KubeError)) deps.onError?.(err, req);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, error.status, { closeConnection: err instanceof BodyTooLarge });
      // An oversized body is not read to its end: close instead of draining it.
      if (err instanceof BodyTooLarge) res.on("finish", () => req.socket.destroy());
    });
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: HandlerDeps): Promise<void> {
  const url = new URL(req.url ?? "/", "https://kubernetes");
  const q = url.searchParams;
  const authenticated = deps.authenticator.authenticateHeader(req.headers.authorization);
  if (!authenticated.user) throw unauthorized();
  // Anonymous requests are accepted only where Kubernetes' public-info endpoints are (the
  // structured authentication config's anonymous conditions); elsewhere they are 401.
  if (authenticated.user === ANONYMOUS && !ANONYMOUS_PATHS.test(url.pathname)) throw unauthorized();
  const user = impersonate(authenticated.user, req.headers, deps.authorizer);
  const info = requestInfo(req.method ?? "GET", url.pathname, q);
  const attributes = attributesOf(info, user, q);
  const decision = deps.authorizer.authorize(attributes);
  if (!decision.allowed) {
    const why = forbiddenMessage(attributes, decision.reason);
    throw info.isResourceRequest ? forbidden({ group: info.apiGroup, resource: info.resource }, info.name, why) : forbidden(undefined, "", why);
  }
  if (!info.isResourceRequest) return serveNonResource(res, url.pathname, q, deps);
  await serveResource(req, res, info, user, q, deps);
}
