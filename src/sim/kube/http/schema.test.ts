// The built-in kinds' schemas at work: unknown fields (fieldValidation Warn by default, Strict,
// Ignore), type errors as encoding/json reports them, strategic merge patch by merge key through
// client-node and kubectl, workloads' defaults, scale, and applying manifests twice.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from "@kubernetes/client-node";
import { kubectl, kubectls, startTestServer, type TestServer } from "../kube.test-support.ts";
import { applyObjects, LAST_APPLIED } from "../apply.ts";
import type { KObject } from "../objects.ts";

function post(ts: TestServer, path: string, body: unknown): Promise<{ code: number; warnings: string[]; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, ts.url), { method: "POST", ca: ts.server.ca.certPem, headers: { Authorization: `Bearer ${ts.server.adminToken}`, "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c));
      res.on("end", () => {
        const w = res.headers.warning;
        // Node joins repeated Warning headers with ", ".
        const warnings = w === undefined ? [] : (Array.isArray(w) ? w : [w]).flatMap((x) => x.split(/, (?=299 )/));
        resolve({ code: res.statusCode ?? 0, warnings, json: JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const deployment = (name: string): V1Deployment => ({
  metadata: { name, labels: { app: name } },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          { name: "app", image: "app:1", env: [{ name: "A", value: "1" }], ports: [{ containerPort: 8080 }] },
          { name: "sidecar", image: "side:1" },
        ],
      },
    },
  },
});

describe("schemas of the built-in kinds", () => {
  let ts: TestServer;
  let apps: AppsV1Api;
  before(async () => {
    ts = await startTestServer();
    apps = ts.admin.makeApiClient(AppsV1Api);
  });
  after(() => ts.close());

  test("unknown fields: dropped with a warning by default, refused with Strict, silent with Ignore", async () => {
    const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "x:1", colour: "red" }], nodeNmae: "typo" } });
    const warned = await post(ts, "/api/v1/namespaces/default/pods", pod("warned"));
    assert.equal(warned.code, 201);
    assert.deepEqual(warned.warnings.sort(), ['299 - "unknown field \\"spec.containers[0].colour\\""', '299 - "unknown field \\"spec.nodeNmae\\""']);
    assert.equal(warned.json.spec.nodeNmae, undefined);
    const strict = await post(ts, "/api/v1/namespaces/default/pods?fieldValidation=Strict", pod("strict"));
    assert.equal(strict.code, 400);
    assert.equal(strict.json.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].colour", unknown field "spec.nodeNmae"');
    const ignored = await post(ts, "/api/v1/namespaces/default/pods?fieldValidation=Ignore", pod("ignored"));
    assert.deepEqual([ignored.code, ignored.warnings], [201, []]);
  });

  test("a value of the wrong JSON type is a 400 naming the field", async () => {
    const bad = await post(ts, "/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "typed" }, spec: { containers: "c" } });
    assert.equal(bad.code, 400);
    assert.match(bad.json.message, /^Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field spec\.containers of type \[\]/);
    const port = await post(ts, "/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "typed2" }, spec: { containers: [{ name: "c", image: "x", ports: [{ containerPort: "80" }] }] } });
    assert.equal(port.code, 400);
    assert.match(port.json.message, /spec\.containers\[0\]\.ports\[0\]\.containerPort of type int32/);
  });

  test("deployments: defaults, strategic merge patch by container name, scale", async () => {
    const created = await apps.createNamespacedDeployment({ namespace: "default", body: deployment("web") });
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.spec?.strategy?.type, "RollingUpdate");
    assert.equal(String(created.spec?.strategy?.rollingUpdate?.maxSurge), "25%");
    assert.equal(created.spec?.template.spec?.containers[0]?.terminationMessagePolicy, "File");
    const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
    const patched = await apps.patchNamespacedDeployment(
      { name: "web", namespace: "default", body: { spec: { template: { spec: { containers: [{ name: "app", image: "app:2", env: [{ name: "B", value: "2" }] }] } } } } },
      strategic,
    );
    const containers = patched.spec!.template.spec!.containers;
    assert.deepEqual(containers.map((c) => [c.name, c.image]), [["app", "app:2"], ["sidecar", "side:1"]]);
    assert.deepEqual(containers[0]!.env!.map((e) => e.name), ["A", "B"]);
    assert.equal(patched.metadata?.generation, 2);
    const removed = await apps.patchNamespacedDeployment({ name: "web", namespace: "default", body: { spec: { template: { spec: { containers: [{ name: "sidecar", $patch: "delete" }] } } } } }, strategic);
    assert.deepEqual(removed.spec!.template.spec!.containers.map((c) => c.name), ["app"]);
    const merged = await apps.patchNamespacedDeployment({ name: "web", namespace: "default", body: { spec: { template: { spec: { containers: [{ name: "only", image: "o:1" }] } } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    assert.deepEqual(merged.spec!.template.spec!.containers.map((c) => c.name), ["only"], "a merge patch replaces the list");
    const scale = await apps.replaceNamespacedDeploymentScale({ name: "web", namespace: "default", body: { metadata: { name: "web" }, spec: { replicas: 4 } } });
    assert.equal(scale.spec?.replicas, 4);
    assert.equal(scale.status?.selector, "app=web");
    assert.equal((await apps.readNamespacedDeployment({ name: "web", namespace: "default" })).spec?.replicas, 4);
    const badSelector = await apps.patchNamespacedDeployment({ name: "web", namespace: "default", body: { spec: { selector: { matchLabels: { app: "other" } } } } }, strategic).catch((e) => e);
    assert.equal(badSelector.code, 422);
  });

  test("status is ignored on writes to the main resource of a workload; updateStatus changes only it", async () => {
    const d = await apps.readNamespacedDeployment({ name: "web", namespace: "default" });
    const withStatus = await apps.replaceNamespacedDeploymentStatus({ name: "web", namespace: "default", body: { ...d, status: { replicas: 4, readyReplicas: 2, observedGeneration: d.metadata!.generation } } });
    assert.equal(withStatus.status?.readyReplicas, 2);
    const main = await apps.replaceNamespacedDeployment({ name: "web", namespace: "default", body: { ...withStatus, status: { readyReplicas: 0 } } });
    assert.equal(main.status?.readyReplicas, 2);
  });

  test("applying manifests: created, then configured (a removed field goes), then unchanged", async () => {
    const manifest = (data: Record<string, string>, labels: Record<string, string>): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied", namespace: "default", labels }, data });
    assert.deepEqual((await applyObjects(ts.server.client, [manifest({ a: "1", b: "2" }, { x: "1" })])).map((r) => r.action), ["created"]);
    await ts.server.client.patch("v1/configmaps", "applied", "default", { metadata: { labels: { other: "kept" } } }, "merge");
    assert.deepEqual((await applyObjects(ts.server.client, [manifest({ a: "1" }, { x: "1" })])).map((r) => r.action), ["configured"]);
    const live = await ts.server.client.get("v1/configmaps", "applied", "default");
    assert.deepEqual(live.data, { a: "1" });
    assert.deepEqual(live.metadata.labels, { x: "1", other: "kept" }, "fields others set are kept");
    assert.deepEqual(JSON.parse(live.metadata.annotations![LAST_APPLIED]!).data, { a: "1" });
    assert.deepEqual((await applyObjects(ts.server.client, [manifest({ a: "1" }, { x: "1" })])).map((r) => r.action), ["unchanged"]);
  });

  for (const { name, path } of kubectls()) {
    test(`kubectl (${name}): patch --type strategic, scale, apply twice`, async () => {
      const k = (args: string[], input?: string) => kubectl(path, ts.adminKubeconfigPath, args, input);
      const ns = `s-${name.replace(/[^a-z0-9]/g, "")}`;
      assert.equal((await k(["create", "namespace", ns])).code, 0);
      const manifest = (image: string) => JSON.stringify({ ...deployment("kd"), apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "kd", namespace: ns } }).replace("app:1", image);
      const first = await k(["apply", "--validate=false", "-f", "-"], manifest("app:1"));
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /deployment.apps\/kd created/);
      const second = await k(["apply", "--validate=false", "-f", "-"], manifest("app:3"));
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /deployment.apps\/kd configured/);
      const patched = await k(["patch", "deployment", "kd", "-n", ns, "--type", "strategic", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"side:9"}]}}}}']);
      assert.equal(patched.code, 0, patched.stderr);
      const images = await k(["get", "deployment", "kd", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[*].image}"]);
      assert.equal(images.stdout, "app:3 side:9");
      const scaled = await k(["scale", "deployment", "kd", "-n", ns, "--replicas=3"]);
      assert.equal(scaled.code, 0, scaled.stderr);
      assert.equal((await k(["get", "deployment", "kd", "-n", ns, "-o", "jsonpath={.spec.replicas}"])).stdout, "3");
    });
  }
});
