// What a real API server survives with a Status answer and no damage: malformed bodies, unknown
// kinds and paths, wrong methods and media types, oversized bodies (refused before they are
// read), bad query parameters; and who gets in: anonymous only to the public endpoints, bad
// tokens never.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { startTestServer, type TestServer } from "../kube.test-support.ts";

interface Answer {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json?: any;
}

function call(ts: TestServer, method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string>; token?: string | null; sendBody?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const token = options.token === undefined ? ts.server.adminToken : options.token;
    const url = new URL(path, ts.url);
    const req = request(
      url,
      {
        method,
        ca: ts.server.ca.certPem,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ code: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    if (options.sendBody === false) {
      req.flushHeaders(); // headers only: the body never comes
      return;
    }
    req.end(options.body);
  });
}

function isStatus(a: Answer, code: number, reason: string): void {
  assert.equal(a.code, code, a.text);
  assert.equal(a.json?.kind, "Status", a.text);
  assert.equal(a.json?.code, code);
  assert.equal(a.json?.reason, reason, a.text);
}

describe("robustness", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test("malformed JSON and bodies that are not objects are 400s; nothing is stored", async () => {
    const before = ts.server.store.revision;
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: '{"metadata": {"name": "x"' }), 400, "BadRequest");
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: "[1,2]" }), 400, "BadRequest");
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: '"text"' }), 400, "BadRequest");
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}' }), 400, "BadRequest");
    assert.equal((await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: "metadata:\n  name: x\n", headers: { "Content-Type": "application/yaml" } })).code, 201);
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: "metadata: [unclosed", headers: { "Content-Type": "application/yaml" } }), 400, "BadRequest");
    isStatus(await call(ts, "PATCH", "/api/v1/namespaces/default/configmaps/x", { body: "{nope", headers: { "Content-Type": "application/merge-patch+json" } }), 400, "BadRequest");
    assert.equal(ts.server.store.revision, before + 1, "only the valid YAML create was stored");
  });

  test("unknown resources, groups and versions are 404 Status; unknown paths 404; wrong methods 405", async () => {
    isStatus(await call(ts, "GET", "/api/v1/frobs"), 404, "NotFound");
    isStatus(await call(ts, "GET", "/apis/example.com/v1/widgets"), 404, "NotFound");
    isStatus(await call(ts, "GET", "/api/v2/pods"), 404, "NotFound");
    isStatus(await call(ts, "GET", "/api/v1/pods/name-without-namespace"), 404, "NotFound");
    isStatus(await call(ts, "GET", "/api/v1/namespaces/default/nodes"), 404, "NotFound");
    assert.equal((await call(ts, "GET", "/apis/example.com")).code, 404);
    assert.equal((await call(ts, "GET", "/no/such/path")).code, 404);
    isStatus(await call(ts, "GET", "/api/v1/namespaces/default/bindings"), 405, "MethodNotAllowed");
    isStatus(await call(ts, "PUT", "/api/v1/namespaces/default/pods/x/binding", { body: "{}" }), 405, "MethodNotAllowed");
  });

  test("bad media types: 415 for the body, 406 for what cannot be answered", async () => {
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: "x", headers: { "Content-Type": "application/vnd.kubernetes.protobuf" } }), 415, "UnsupportedMediaType");
    isStatus(await call(ts, "PATCH", "/api/v1/namespaces/default/configmaps/x", { body: "{}", headers: { "Content-Type": "text/plain" } }), 415, "UnsupportedMediaType");
    isStatus(await call(ts, "GET", "/api/v1/namespaces", { headers: { Accept: "application/vnd.kubernetes.protobuf" } }), 406, "NotAcceptable");
    const fallback = await call(ts, "GET", "/api/v1/namespaces", { headers: { Accept: "application/vnd.kubernetes.protobuf, application/json" } });
    assert.equal(fallback.code, 200);
    assert.equal(fallback.json.kind, "NamespaceList");
    const yaml = await call(ts, "GET", "/api/v1/namespaces/default", { headers: { Accept: "application/yaml" } });
    assert.match(yaml.text, /^apiVersion: v1\nkind: Namespace\n/);
  });

  test("a huge body is refused with 413 before it is read (declared or streamed)", async () => {
    const declared = await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { headers: { "Content-Type": "application/json", "Content-Length": String(50 * 1024 * 1024) }, sendBody: false });
    isStatus(declared, 413, "RequestEntityTooLarge");
    assert.match(declared.json.message, /limit is 3145728/);
    const streamed = await new Promise<Answer>((resolve, reject) => {
      const req = request(new URL("/api/v1/namespaces/default/configmaps", ts.url), { method: "POST", ca: ts.server.ca.certPem, headers: { Authorization: `Bearer ${ts.server.adminToken}`, "Content-Type": "application/json", "Transfer-Encoding": "chunked" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString(), json: JSON.parse(Buffer.concat(chunks).toString()) }));
      });
      req.on("error", () => {}); // the server closes the connection once it has answered
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return req.once("drain", pump);
        }
        req.end();
      };
      req.write('{"metadata":{"name":"big"},"data":{"k":"');
      pump();
      setTimeout(() => reject(new Error("no answer")), 20_000).unref();
    });
    isStatus(streamed, 413, "RequestEntityTooLarge");
    // Under the request limit, over what the store keeps (etcd's 1.5 MiB).
    const object = await call(ts, "POST", "/api/v1/namespaces/default/events", { body: JSON.stringify({ metadata: { name: "almost" }, involvedObject: { kind: "Pod", name: "p" }, message: "x".repeat(2 * 1024 * 1024) }) });
    isStatus(object, 413, "RequestEntityTooLarge");
    assert.match(object.json.message, /larger than 1572864 bytes/);
    isStatus(await call(ts, "GET", "/api/v1/namespaces/default/configmaps/big"), 404, "NotFound");
  });

  test("bad query parameters are 400 or 422 Status", async () => {
    isStatus(await call(ts, "GET", "/api/v1/pods?labelSelector=a%20b"), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx"), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?resourceVersion=abc"), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?limit=x"), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?continue=garbage"), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?resourceVersionMatch=Exact"), 422, "Invalid");
    isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", { body: "{}" }), 400, "BadRequest");
    isStatus(await call(ts, "GET", "/api/v1/pods?watch=true&resourceVersion=99999999"), 504, "Timeout");
  });

  test("authentication: anonymous only to public endpoints, unknown tokens never", async () => {
    assert.equal((await call(ts, "GET", "/version", { token: null })).code, 200);
    assert.equal((await call(ts, "GET", "/healthz", { token: null })).text, "ok");
    assert.match((await call(ts, "GET", "/readyz?verbose", { token: null })).text, /readyz check passed/);
    isStatus(await call(ts, "GET", "/api", { token: null }), 401, "Unauthorized");
    isStatus(await call(ts, "GET", "/api/v1/pods", { token: null }), 401, "Unauthorized");
    isStatus(await call(ts, "GET", "/version", { token: "not-a-token" }), 401, "Unauthorized");
    isStatus(await call(ts, "GET", "/api/v1/pods", { headers: { Authorization: "Basic YTpi" }, token: null }), 401, "Unauthorized");
    const forged = ts.server.adminToken.slice(0, -2) + "xx";
    isStatus(await call(ts, "GET", "/api/v1/pods", { token: forged }), 401, "Unauthorized");
  });

  test("a bug becomes a 500 Status, not a dropped connection", async () => {
    const type = ts.server.registry.byKey("v1/configmaps")!;
    const original = type.strategy.validate;
    type.strategy.validate = () => {
      throw new Error("boom");
    };
    try {
      isStatus(await call(ts, "POST", "/api/v1/namespaces/default/configmaps", { body: '{"metadata":{"name":"bug"}}' }), 500, "InternalError");
    } finally {
      type.strategy.validate = original;
    }
    assert.equal((await call(ts, "GET", "/api/v1/namespaces/default/configmaps/bug")).code, 404);
  });
});
