// The system's Kubernetes client: client-node's generated API clients and its Watch, with every request
// checked against the declared calls (api-calls.ts) before it leaves, a per-request timeout, and one
// error type that says which call failed and why (a 403 names the RBAC rule that is missing).

import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  ServerConfiguration,
  VersionApi,
  Watch,
  createConfiguration,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
  type V1Node,
  type V1NodeList,
  type V1Pod,
  type V1PodList,
} from "@kubernetes/client-node";
import { KUBE_API_CALLS, declaredCallFor, describeCall, requestAttributes, type KubeApiCall } from "./api-calls.ts";
import type { CniNode, EniConfig, KubeList } from "./resources.ts";

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** A failed Kubernetes request. status 0: no answer (unreachable, timed out). */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status object's reason (Forbidden, NotFound, Conflict, ...), or the network error's code. */
  readonly reason: string;
  readonly call: string;
  constructor(call: string, status: number, reason: string, detail: string) {
    const what = status === 0 ? `no answer (${reason})` : `${status} ${reason}`;
    const hint = status === 403 ? ` The ClusterRole aws-node (deploy/aws-node.yaml) must allow ${call}.` : "";
    super(`Kubernetes API: ${call}: ${what}${detail === "" ? "" : `: ${detail}`}.${hint}`);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.call = call;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** Thrown before a request leaves when it is not a declared call: a programming error, never RBAC. */
export class UndeclaredKubeCallError extends Error {
  constructor(method: string, url: string) {
    const attrs = requestAttributes(method, url);
    super(`internal: ${describeCall(attrs)} (${method} ${new URL(url, "http://x").pathname}) is not declared in src/k8s/api-calls.ts; declare it and grant it in deploy/aws-node.yaml`);
    this.name = "UndeclaredKubeCallError";
  }
}

export interface KubeClientOptions {
  /** User-Agent of every request, e.g. "vpc-cni-agent/0.1.0". */
  readonly userAgent: string;
  readonly requestTimeoutMs?: number;
}

type Where = { readonly namespace?: string | undefined; readonly name?: string | undefined };

export class KubeClient {
  readonly server: string;
  readonly config: KubeConfig;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #version: VersionApi;
  readonly #watch: Watch;

  constructor(config: KubeConfig, options: KubeClientOptions) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error("the kubeconfig has no current cluster");
    this.config = config;
    this.server = cluster.server.replace(/\/+$/, "");
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const guard = {
      pre: async (ctx: RequestContext): Promise<RequestContext> => {
        const method = ctx.getHttpMethod();
        const url = ctx.getUrl();
        if (declaredCallFor(requestAttributes(method, url)) === undefined) throw new UndeclaredKubeCallError(method, url);
        ctx.setHeaderParam("User-Agent", options.userAgent);
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        return ctx;
      },
      post: async (ctx: ResponseContext): Promise<ResponseContext> => ctx,
    };
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(this.server, {}),
      authMethods: { default: config },
      promiseMiddleware: [guard],
    });
    this.#core = new CoreV1Api(configuration);
    this.#custom = new CustomObjectsApi(configuration);
    this.#version = new VersionApi(configuration);
    this.#watch = new CheckedWatch(config, this.server);
  }

  /** The Watch informers use: it refuses undeclared watches as the API clients refuse requests. */
  get watch(): Watch {
    return this.#watch;
  }

  version(): Promise<{ gitVersion: string }> {
    return this.#send(KUBE_API_CALLS.getVersion, {}, () => this.#version.getCode());
  }

  listNodes(query: { fieldSelector?: string; resourceVersion?: string } = {}): Promise<V1NodeList> {
    return this.#send(KUBE_API_CALLS.listNodes, {}, () => this.#core.listNode({ ...query }));
  }

  listPods(query: { fieldSelector?: string; resourceVersion?: string } = {}): Promise<V1PodList> {
    return this.#send(KUBE_API_CALLS.listPods, {}, () => this.#core.listPodForAllNamespaces({ ...query }));
  }

  listEniConfigs(): Promise<KubeList<EniConfig>> {
    const c = KUBE_API_CALLS.listEniConfigs;
    return this.#send(c, {}, () => this.#custom.listClusterCustomObject({ group: c.group, version: c.version, plural: c.resource }) as Promise<KubeList<EniConfig>>);
  }

  createEvent(namespace: string, event: CoreV1Event): Promise<CoreV1Event> {
    return this.#send(KUBE_API_CALLS.createEvents, { namespace }, () => this.#core.createNamespacedEvent({ namespace, body: event }));
  }

  /** A JSON merge patch of an event (count, lastTimestamp, message of a repeat). */
  patchEvent(namespace: string, name: string, patch: object): Promise<CoreV1Event> {
    return this.#send(KUBE_API_CALLS.patchEvents, { namespace, name }, () =>
      this.#core.patchNamespacedEvent({ namespace, name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
    );
  }

  getCniNode(name: string): Promise<CniNode> {
    const c = KUBE_API_CALLS.getCniNodes;
    return this.#send(c, { name }, () => this.#custom.getClusterCustomObject({ group: c.group, version: c.version, plural: c.resource, name }) as Promise<CniNode>);
  }

  /** A JSON merge patch of a CNINode; with metadata.resourceVersion in it, the server refuses it (409) if the object changed. */
  patchCniNode(name: string, patch: object): Promise<CniNode> {
    const c = KUBE_API_CALLS.patchCniNodes;
    return this.#send(c, { name }, () =>
      this.#custom.patchClusterCustomObject({ group: c.group, version: c.version, plural: c.resource, name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)) as Promise<CniNode>,
    );
  }

  async #send<T>(call: KubeApiCall, where: Where, request: () => Promise<T>): Promise<T> {
    const label = describeCall(call) + (where.name === undefined ? "" : ` ${where.namespace === undefined ? "" : `${where.namespace}/`}${where.name}`);
    try {
      return await request();
    } catch (err) {
      throw toKubeApiError(label, err);
    }
  }
}

class CheckedWatch extends Watch {
  readonly #server: string;
  constructor(config: KubeConfig, server: string) {
    super(config);
    this.#server = server;
  }
  override async watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    const url = `${this.#server}${path}?watch=true`;
    if (declaredCallFor(requestAttributes("GET", url)) === undefined) throw new UndeclaredKubeCallError("GET", url);
    return super.watch(path, queryParams, callback, (err: unknown) => done(err === null || err === undefined ? err : watchError(path, err)));
  }
}

/** Keeps what ListWatch looks at (statusCode 410, name TimeoutError) and adds a clear message. */
function watchError(path: string, err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (err.name === "TimeoutError" || err.name === "AbortError" || status === 410) return err;
  const attrs = requestAttributes("GET", `${path}?watch=true`);
  const wrapped = toKubeApiError(describeCall(attrs), err) as KubeApiError & { statusCode?: number };
  if (status !== undefined) wrapped.statusCode = status;
  return wrapped;
}

export function toKubeApiError(call: string, err: unknown): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const status = (err as ApiException<unknown>).code;
    const body = (err as ApiException<unknown>).body;
    const parsed = parseStatus(body);
    return new KubeApiError(call, status, parsed.reason ?? httpReason(status), parsed.message ?? "");
  }
  const e = err as { statusCode?: number; name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (typeof e.statusCode === "number") return new KubeApiError(call, e.statusCode, httpReason(e.statusCode), "");
  if (e.name === "TimeoutError") return new KubeApiError(call, 0, "timed out", "");
  const code = e.cause?.code ?? e.name ?? "error";
  return new KubeApiError(call, 0, code, e.cause?.message ?? e.message ?? String(err));
}

function parseStatus(body: unknown): { reason?: string; message?: string } {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return body === "" ? {} : { message: body.slice(0, 300) };
    }
  }
  if (value === null || typeof value !== "object") return {};
  const status = value as { reason?: unknown; message?: unknown };
  return {
    ...(typeof status.reason === "string" && status.reason !== "" ? { reason: status.reason } : {}),
    ...(typeof status.message === "string" && status.message !== "" ? { message: status.message } : {}),
  };
}

const REASONS: Readonly<Record<number, string>> = { 400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict", 410: "Gone", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout" };

function httpReason(status: number): string {
  return REASONS[status] ?? `HTTP ${status}`;
}

export type { V1Node, V1Pod };
