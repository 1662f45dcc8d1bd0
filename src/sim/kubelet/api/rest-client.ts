// The kubelet's HTTPS client of the API server: bearer token and CA from a kubeconfig (as the
// kubelet's --kubeconfig), JSON bodies, Status errors as KubeErrors, and watches as the server
// streams them (one JSON event a line). Small on purpose: a kubelet per node starts in well under a
// second and needs none of client-node.

import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import { parse } from "yaml";
import type { KObject } from "../../kube/objects.ts";
import { KubeError, type Status } from "../../kube/status.ts";
import type { ListAnswer, NodeApi, NodeApiWatch, WatchEventType } from "./node-api.ts";

const CLUSTER_SCOPED = new Set(["nodes", "namespaces", "persistentvolumes", "priorityclasses", "customresourcedefinitions", "clusterroles", "clusterrolebindings"]);
const REQUEST_TIMEOUT_MS = 30_000;

export interface RestConfig {
  server: string;
  caPem: string;
  token: string;
}

/** Reads the server, CA and token of a kubeconfig's current context. */
export function readKubeconfig(path: string): RestConfig {
  let doc: any;
  try {
    doc = parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`kubeconfig ${path} cannot be read: ${(err as Error).message}`);
  }
  const context = (doc?.contexts ?? []).find((c: any) => c?.name === doc?.["current-context"])?.context;
  const cluster = (doc?.clusters ?? []).find((c: any) => c?.name === context?.cluster)?.cluster;
  const user = (doc?.users ?? []).find((u: any) => u?.name === context?.user)?.user;
  if (!cluster?.server || !user?.token) throw new Error(`kubeconfig ${path} has no current context with a server and a bearer token`);
  const ca = cluster["certificate-authority-data"] ? Buffer.from(cluster["certificate-authority-data"], "base64").toString("utf8") : cluster["certificate-authority"] ? readFileSync(cluster["certificate-authority"], "utf8") : "";
  if (ca === "") throw new Error(`kubeconfig ${path} has no certificate authority for ${cluster.server}`);
  return { server: String(cluster.server).replace(/\/+$/, ""), caPem: ca, token: String(user.token) };
}

/** The URL path of a resource ("v1/pods" in "default" -> /api/v1/namespaces/default/pods). */
export function resourcePath(key: string, namespace = "", name = "", subresource = ""): string {
  const parts = key.split("/");
  const resource = parts.pop()!;
  const groupVersion = parts.join("/");
  const root = parts.length === 1 ? `/api/${groupVersion}` : `/apis/${groupVersion}`;
  const ns = !CLUSTER_SCOPED.has(resource) && namespace !== "" ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${root}${ns}/${resource}${name ? `/${encodeURIComponent(name)}` : ""}${subresource ? `/${subresource}` : ""}`;
}

const PATCH_CONTENT_TYPES = { merge: "application/merge-patch+json", strategic: "application/strategic-merge-patch+json", json: "application/json-patch+json" } as const;

export class RestClient implements NodeApi {
  readonly #config: RestConfig;
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(config: RestConfig) {
    this.#config = config;
    this.#url = new URL(config.server);
    this.#agent = new Agent({ ca: config.caPem, keepAlive: true, maxSockets: 16 });
  }

  static fromKubeconfig(path: string): RestClient {
    return new RestClient(readKubeconfig(path));
  }

  close(): void {
    this.#agent.destroy();
  }

  #open(method: string, path: string, query: Record<string, string | undefined>, body?: { type: string; data: unknown }): Promise<IncomingMessage> {
    const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")).toString();
    const text = body === undefined ? undefined : JSON.stringify(body.data);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port || 443,
          method,
          path: `${path}${search ? `?${search}` : ""}`,
          headers: {
            authorization: `Bearer ${this.#config.token}`,
            accept: "application/json",
            "user-agent": "vpcsim-kubelet/v1.34.0",
            ...(text !== undefined ? { "content-type": body!.type, "content-length": Buffer.byteLength(text) } : {}),
          },
        },
        resolve,
      );
      req.on("error", reject);
      req.end(text);
    });
  }

  async #call(method: string, path: string, query: Record<string, string | undefined> = {}, body?: { type: string; data: unknown }): Promise<any> {
    const res = await withTimeout(this.#open(method, path, query, body), `${method} ${path}`);
    const text = await withTimeout(readAll(res), `${method} ${path}`);
    let parsed: any;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return parsed;
    if (parsed?.kind === "Status") throw new KubeError({ code, ...(parsed.message ? { message: parsed.message } : {}), ...(parsed.reason ? { reason: parsed.reason } : {}), ...(parsed.details ? { details: parsed.details } : {}) });
    throw new KubeError({ code, message: `${method} ${path}: HTTP ${code}: ${text.slice(0, 200)}` });
  }

  get(key: string, name: string, namespace = ""): Promise<KObject> {
    return this.#call("GET", resourcePath(key, namespace, name));
  }

  list(key: string, options: { namespace?: string; fieldSelector?: string; labelSelector?: string; resourceVersion?: string } = {}): Promise<ListAnswer> {
    const { namespace = "", ...query } = options;
    return this.#call("GET", resourcePath(key, namespace), query);
  }

  create(object: KObject): Promise<KObject> {
    return this.#call("POST", resourcePath(keyOf(object), object.metadata.namespace ?? ""), {}, { type: "application/json", data: object });
  }

  update(object: KObject): Promise<KObject> {
    return this.#call("PUT", resourcePath(keyOf(object), object.metadata.namespace ?? "", object.metadata.name ?? ""), {}, { type: "application/json", data: object });
  }

  patch(key: string, name: string, namespace: string, patch: unknown, kind: "merge" | "strategic" | "json" = "merge", options: { subresource?: string } = {}): Promise<KObject> {
    return this.#call("PATCH", resourcePath(key, namespace, name, options.subresource ?? ""), {}, { type: PATCH_CONTENT_TYPES[kind], data: patch });
  }

  delete(key: string, name: string, namespace = "", options: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<unknown> {
    return this.#call("DELETE", resourcePath(key, namespace, name), {}, { type: "application/json", data: { apiVersion: "v1", kind: "DeleteOptions", ...options } });
  }

  createSubresource(key: string, name: string, namespace: string, subresource: string, body: KObject): Promise<KObject | Status> {
    return this.#call("POST", resourcePath(key, namespace, name, subresource), {}, { type: "application/json", data: body });
  }

  watch(
    key: string,
    options: { namespace?: string; fieldSelector?: string; labelSelector?: string; resourceVersion?: string; allowWatchBookmarks?: boolean; timeoutSeconds?: number },
    callbacks: { event: (type: WatchEventType, object: KObject | Status) => void; done?: (error?: KubeError) => void },
  ): NodeApiWatch {
    const { namespace = "", allowWatchBookmarks, timeoutSeconds, ...rest } = options;
    let stopped = false;
    let response: IncomingMessage | undefined;
    let finished = false;
    const finish = (error?: KubeError) => {
      if (finished) return;
      finished = true;
      if (!stopped) callbacks.done?.(error);
    };
    const query = { ...rest, watch: "true", allowWatchBookmarks: allowWatchBookmarks ? "true" : undefined, timeoutSeconds: timeoutSeconds === undefined ? undefined : String(timeoutSeconds) };
    this.#open("GET", resourcePath(key, namespace), query).then(
      async (res) => {
        response = res;
        if (stopped) return void res.destroy();
        if ((res.statusCode ?? 0) !== 200) {
          const text = await readAll(res).catch(() => "");
          let status: any;
          try {
            status = JSON.parse(text);
          } catch {
            status = {};
          }
          return finish(new KubeError({ code: res.statusCode ?? 0, message: status.message ?? `watch: HTTP ${res.statusCode}`, ...(status.reason ? { reason: status.reason } : {}) }));
        }
        let partial = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          partial += chunk;
          let at: number;
          while ((at = partial.indexOf("\n")) >= 0) {
            const line = partial.slice(0, at).trim();
            partial = partial.slice(at + 1);
            if (line === "" || stopped) continue;
            try {
              const e = JSON.parse(line) as { type: WatchEventType; object: KObject | Status };
              callbacks.event(e.type, e.object);
            } catch (err) {
              res.destroy();
              return finish(new KubeError({ code: 500, message: `watch: undecodable event: ${(err as Error).message}` }));
            }
          }
        });
        res.on("end", () => finish());
        res.on("error", () => finish());
        res.on("close", () => finish());
      },
      (err: Error) => finish(new KubeError({ code: 503, reason: "ServiceUnavailable", message: `watch: ${err.message}` })),
    );
    return {
      stop() {
        stopped = true;
        response?.destroy();
      },
    };
  }
}

function keyOf(object: KObject): string {
  const plural = object.kind.toLowerCase().endsWith("s") ? `${object.kind.toLowerCase()}es` : `${object.kind.toLowerCase()}s`;
  return `${object.apiVersion}/${plural}`;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => (text += c));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new KubeError({ code: 504, reason: "Timeout", message: `${what}: no answer in ${REQUEST_TIMEOUT_MS / 1000}s` })), REQUEST_TIMEOUT_MS);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: Error) => {
        clearTimeout(timer);
        reject(err instanceof KubeError ? err : new KubeError({ code: 503, reason: "ServiceUnavailable", message: `${what}: ${err.message}` }));
      },
    );
  });
}
