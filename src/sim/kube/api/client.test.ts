// The in-process client and informer that vpcsim's controllers use: the same rules as HTTP
// (validation, conflicts, admission), watch events delivered asynchronously and in order, an
// identity's authorization, and an informer that relists after a 410.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubeApiServer } from "../server.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeError } from "../status.ts";
import { Informer } from "./informer.ts";
import { eventually } from "../kube.test-support.ts";
import type { KObject } from "../objects.ts";

describe("in-process client", () => {
  let server: KubeApiServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vpcsim-kube-client-"));
    server = await KubeApiServer.start({ dir, clusterName: "client" });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pod = (name: string, node?: string): KObject => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: "c", image: "busybox:1" }] } });

  test("writes go through validation and optimistic concurrency like HTTP requests", async () => {
    const c = server.client;
    const created = await c.create(pod("a"));
    assert.equal(created.status && (created.status as { phase: string }).phase, "Pending");
    await assert.rejects(c.create(pod("a")), (e: unknown) => e instanceof KubeError && e.code === 409 && e.reason === "AlreadyExists");
    await assert.rejects(c.create({ ...pod("b"), spec: {} }), (e: unknown) => e instanceof KubeError && e.code === 422);
    await c.patch("v1/pods", "a", "default", { metadata: { labels: { x: "1" } } });
    await assert.rejects(c.update(created), (e: unknown) => e instanceof KubeError && e.reason === "Conflict");
    assert.equal(await c.find("v1/pods", "nope", "default"), undefined);
    await c.bind("default", "a", "n1");
    assert.equal(((await c.get("v1/pods", "a", "default")).spec as { nodeName: string }).nodeName, "n1");
  });

  test("watch events arrive after the write returns, in order, until stopped", async () => {
    const c = server.client;
    const seen: string[] = [];
    let inWrite = false;
    const list = await c.list("v1/pods", { namespace: "default" });
    const w = c.watch("v1/pods", { namespace: "default", resourceVersion: list.metadata.resourceVersion }, {
      event: (type, o) => {
        assert.equal(inWrite, false, "never inside the write");
        seen.push(`${type} ${(o as KObject).metadata.name}`);
      },
    });
    inWrite = true;
    const write = c.create(pod("w1"));
    inWrite = false;
    await write;
    await c.create(pod("w2"));
    await c.delete("v1/pods", "w1", "default");
    await eventually(() => (seen.length === 3 ? true : undefined), "three events");
    assert.deepEqual(seen, ["ADDED w1", "ADDED w2", "DELETED w1"]);
    w.stop();
    await c.create(pod("w3"));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, 3);
  });

  test("clientAs(user) is authorized as that user: a node sees only its own pods", async () => {
    const node = server.clientAs(server.nodeCredential("n1").user);
    await assert.rejects(node.list("v1/pods", {}), (e: unknown) => e instanceof KubeError && e.code === 403 && /can only list pods with spec.nodeName field selector/.test(e.message));
    const mine = await node.list("v1/pods", { fieldSelector: "spec.nodeName=n1" });
    assert.deepEqual(mine.items.map((p) => p.metadata.name), ["a"]);
    await assert.rejects(node.get("v1/pods", "w2", "default"), (e: unknown) => e instanceof KubeError && e.code === 403);
  });

  test("an informer follows changes, and one restarted after missing them relists and reports what went", async () => {
    const c = server.client;
    const added: string[] = [];
    const deleted: string[] = [];
    const informer = new Informer(c, "v1/configmaps", { namespace: "default", labelSelector: "inf=yes" }, { add: (o) => added.push(o.metadata.name!), delete: (o) => deleted.push(o.metadata.name!) });
    await c.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "i0", namespace: "default", labels: { inf: "yes" } } });
    await informer.start();
    assert.deepEqual(informer.list().map((o) => o.metadata.name), ["i0"]);
    await c.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "i1", namespace: "default", labels: { inf: "yes" } } });
    await eventually(() => (informer.get("i1", "default") ? true : undefined), "i1");
    informer.stop();
    await c.delete("v1/configmaps", "i0", "default");
    for (let i = 2; i < 6; i++) await c.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `i${i}`, namespace: "default", labels: { inf: "yes" } } });
    assert.equal(informer.list().length, 2, "a stopped informer hears nothing");
    await informer.start();
    assert.deepEqual(informer.list().map((o) => o.metadata.name).sort(), ["i1", "i2", "i3", "i4", "i5"]);
    assert.deepEqual(deleted, ["i0"], "an object gone while away is reported deleted");
    await c.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "i6", namespace: "default", labels: { inf: "yes" } } });
    await eventually(() => (informer.get("i6", "default") ? true : undefined), "i6 after the restart");
    assert.deepEqual(added.sort(), ["i0", "i1", "i2", "i3", "i4", "i5", "i6"]);
    informer.stop();
  });
});
