// A small Kubernetes API server for src/k8s's tests, over plain HTTP on loopback: the resources the
// client uses (nodes, pods, events, ENIConfigs, CNINodes), list with field selectors and
// resourceVersions, watch streams (410 Gone for a compacted resourceVersion), create, JSON merge patch
// with the optimistic lock, 403 for calls a test denies, and stop/start on the same port for outages.
// Not vpcsim's API server (src/sim/kube/), which the end-to-end tests use; this one shares no code with it.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { requestAttributes, describeCall } from "./api-calls.ts";

type Obj = { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown }; [k: string]: unknown };
type WatchEvent = { type: "ADDED" | "MODIFIED" | "DELETED"; object: Obj; rv: number };

const KINDS: Record<string, { apiVersion: string; kind: string; namespaced: boolean }> = {
  nodes: { apiVersion: "v1", kind: "Node", namespaced: false },
  pods: { apiVersion: "v1", kind: "Pod", namespaced: true },
  events: { apiVersion: "v1", kind: "Event", namespaced: true },
  eniconfigs: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", namespaced: false },
  cninodes: { apiVersion: "vpcresources.k8s.aws/v1alpha1", kind: "CNINode", namespaced: false },
};

export class FakeApiServer {
  readonly requests: { method: string; url: string; call: string }[] = [];
  readonly #objects = new Map<string, Obj>(); // "resource/namespace/name"
  readonly #history: WatchEvent[] = [];
  readonly #watchers = new Set<{ resource: string; selector: (o: Obj) => boolean; res: ServerResponse }>();
  readonly #denied = new Set<string>();
  readonly #sockets = new Set<Socket>();
  #rv = 100;
  #compactedBelow = 0;
  #server: Server | undefined;
  #port = 0;
  /** Conflicts to answer on the next CNINode patches, whatever their resourceVersion. */
  forcedConflicts = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** An outage: every connection, watches included, is cut; start() brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** A kubeconfig file for this server (bearer token "test-token"). */
  kubeconfigFile(): string {
    const dir = mkdtempSync(join(tmpdir(), "vpc-cni-k8s-"));
    const file = join(dir, "kubeconfig");
    writeFileSync(file, [
      "apiVersion: v1", "kind: Config", "current-context: test",
      "clusters:", "- name: test", "  cluster:", `    server: ${this.url}`, "    insecure-skip-tls-verify: true", // plain HTTP on loopback: client-node asks for this
      "users:", "- name: agent", "  user:", "    token: test-token",
      "contexts:", "- name: test", "  context:", "    cluster: test", "    user: agent",
    ].join("\n") + "\n");
    return file;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfigFile());
    return kc;
  }

  /** Refuse a call with 403, e.g. deny("list", "nodes"). */
  deny(verb: string, resource: string): void {
    this.#denied.add(`${verb} ${resource}`);
  }

  allow(verb: string, resource: string): void {
    this.#denied.delete(`${verb} ${resource}`);
  }

  /** Forget watch history below the current resourceVersion: older watches get 410 Gone. */
  compact(): void {
    this.#compactedBelow = this.#rv;
    this.#history.length = 0;
  }

  put(resource: string, object: { metadata: Obj["metadata"]; [k: string]: unknown }): Obj {
    const meta = KINDS[resource];
    if (!meta) throw new Error(`fake API server: unknown resource ${resource}`);
    const key = this.#key(resource, object.metadata.namespace, object.metadata.name);
    const existed = this.#objects.has(key);
    const stored: Obj = { apiVersion: meta.apiVersion, kind: meta.kind, ...structuredClone(object), metadata: { uid: `uid-${object.metadata.name}`, ...structuredClone(object.metadata), resourceVersion: String(++this.#rv) } };
    this.#objects.set(key, stored);
    this.#notify(resource, { type: existed ? "MODIFIED" : "ADDED", object: stored, rv: this.#rv });
    return stored;
  }

  remove(resource: string, name: string, namespace?: string): void {
    const key = this.#key(resource, namespace, name);
    const old = this.#objects.get(key);
    if (!old) return;
    this.#objects.delete(key);
    this.#notify(resource, { type: "DELETED", object: { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.#rv) } }, rv: this.#rv });
  }

  get(resource: string, name: string, namespace?: string): Obj | undefined {
    return this.#objects.get(this.#key(resource, namespace, name));
  }

  all(resource: string): Obj[] {
    return [...this.#objects.entries()].filter(([k]) => k.startsWith(`${resource}/`)).map(([, o]) => o);
  }

  #key(resource: string, namespace: string | undefined, name: string): string {
    return `${resource}/${namespace ?? ""}/${name}`;
  }

  #notify(resource: string, event: WatchEvent): void {
    this.#history.push({ ...event, object: structuredClone(event.object) });
    for (const w of this.#watchers) {
      if (w.resource === resource && w.selector(event.object)) w.res.write(JSON.stringify({ type: event.type, object: event.object }) + "\n");
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const attrs = requestAttributes(method, url);
    this.requests.push({ method, url, call: describeCall(attrs) });
    const body = await new Promise<string>((resolve) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (text += c));
      req.on("end", () => resolve(text));
    });
    const status = (code: number, reason: string, message: string) => send(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });
    if (req.headers.authorization !== "Bearer test-token") return status(401, "Unauthorized", "Unauthorized");
    if (attrs.kind === "non-resource") {
      if (attrs.path === "/version") return send(res, 200, { major: "1", minor: "34", gitVersion: "v1.34.0-fake" });
      return status(404, "NotFound", "the server could not find the requested resource");
    }
    const meta = KINDS[attrs.resource];
    if (!meta) return status(404, "NotFound", `the server could not find the requested resource (${attrs.resource})`);
    if (this.#denied.has(`${attrs.verb} ${attrs.resource}`)) {
      return status(403, "Forbidden", `${attrs.resource} is forbidden: User "system:serviceaccount:kube-system:aws-node" cannot ${attrs.verb} resource "${attrs.resource}"`);
    }
    const query = new URL(url, "http://x").searchParams;
    const selector = fieldSelector(query.get("fieldSelector") ?? "");
    const inNamespace = (o: Obj) => attrs.namespace === "" || o.metadata.namespace === attrs.namespace;
    switch (attrs.verb) {
      case "list": {
        const items = this.all(attrs.resource).filter((o) => inNamespace(o) && selector(o));
        return send(res, 200, { apiVersion: meta.apiVersion, kind: `${meta.kind}List`, metadata: { resourceVersion: String(this.#rv) }, items });
      }
      case "watch": {
        const from = Number(query.get("resourceVersion") ?? "0");
        if (from < this.#compactedBelow) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired", message: `too old resource version: ${from}` } }) + "\n");
          return;
        }
        res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
        res.flushHeaders();
        for (const e of this.#history) {
          if (e.rv > from && e.object.metadata && inNamespace(e.object) && selector(e.object) && kindOf(e.object) === meta.kind) res.write(JSON.stringify({ type: e.type, object: e.object }) + "\n");
        }
        const watcher = { resource: attrs.resource, selector: (o: Obj) => inNamespace(o) && selector(o), res };
        this.#watchers.add(watcher);
        req.on("close", () => this.#watchers.delete(watcher));
        return;
      }
      case "get": {
        const o = this.get(attrs.resource, attrs.name, attrs.namespace || undefined);
        return o ? send(res, 200, o) : status(404, "NotFound", `${attrs.resource} "${attrs.name}" not found`);
      }
      case "create": {
        const o = JSON.parse(body) as Obj;
        if (attrs.namespace !== "") o.metadata.namespace = attrs.namespace;
        if (this.get(attrs.resource, o.metadata.name, o.metadata.namespace)) return status(409, "AlreadyExists", `${attrs.resource} "${o.metadata.name}" already exists`);
        return send(res, 201, this.put(attrs.resource, o));
      }
      case "patch": {
        if (req.headers["content-type"] !== "application/merge-patch+json") return status(415, "UnsupportedMediaType", `only merge patches here, got ${req.headers["content-type"]}`);
        const current = this.get(attrs.resource, attrs.name, attrs.namespace || undefined);
        if (!current) return status(404, "NotFound", `${attrs.resource} "${attrs.name}" not found`);
        const patch = JSON.parse(body) as { metadata?: { resourceVersion?: string } };
        if (attrs.resource === "cninodes" && this.forcedConflicts > 0) {
          this.forcedConflicts--;
          this.put(attrs.resource, current); // someone else wrote it meanwhile
          return status(409, "Conflict", `Operation cannot be fulfilled on cninodes "${attrs.name}": the object has been modified`);
        }
        const wanted = patch.metadata?.resourceVersion;
        if (wanted !== undefined && wanted !== current.metadata.resourceVersion) {
          return status(409, "Conflict", `Operation cannot be fulfilled on ${attrs.resource} "${attrs.name}": the object has been modified`);
        }
        return send(res, 200, this.put(attrs.resource, mergePatch(current, patch) as Obj));
      }
      default:
        return status(405, "MethodNotAllowed", `${attrs.verb} is not served here`);
    }
  }
}

function kindOf(o: Obj): string | undefined {
  return o.kind;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function fieldSelector(text: string): (o: Obj) => boolean {
  if (text === "") return () => true;
  const terms = text.split(",").map((t) => t.split("=") as [string, string]);
  return (o) => terms.every(([path, value]) => String(path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o) ?? "") === value);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
