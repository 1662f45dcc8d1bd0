// kubectl against the server: Debian's 1.20 and whatever kubectl is first on PATH (here a newer
// one), each through discovery, get (tables, -o yaml/json/wide, -w), create, label, patch,
// delete, api-resources and auth can-i.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { kubectl, kubectlEnv, kubectls, startTestServer, type TestServer } from "../kube.test-support.ts";

const binaries = kubectls();

describe("kubectl", { skip: binaries.length === 0 ? "no kubectl (scripts/setup unpacks Debian's into .tools/)" : undefined }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  for (const { name, path } of binaries) {
    describe(name, () => {
      const k = (args: string[], input?: string) => kubectl(path, ts.adminKubeconfigPath, args, input);
      const ns = `k-${name.replace(/[^a-z0-9]/g, "")}`;

      test("version, api-resources, get namespaces", async () => {
        const version = await k(["version", "-o", "json"]);
        assert.equal(version.code, 0, version.stderr);
        assert.equal(JSON.parse(version.stdout).serverVersion.gitVersion, "v1.34.1-vpcsim");
        const resources = await k(["api-resources"]);
        assert.equal(resources.code, 0, resources.stderr);
        assert.match(resources.stdout, /^pods\s+po\s+v1\s+true\s+Pod$/m);
        assert.match(resources.stdout, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
        const created = await k(["create", "--validate=false", "-f", "-"], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`);
        assert.equal(created.code, 0, created.stderr);
        const got = await k(["get", "namespaces", ns, "-o", "jsonpath={.status.phase}"]);
        assert.equal(got.stdout, "Active");
      });

      test("create from a manifest, get -o yaml, label, patch (merge, json), delete", async () => {
        const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: ${ns}\ndata:\n  a: "1"\n`;
        const created = await k(["create", "--validate=false", "-f", "-"], manifest);
        assert.equal(created.code, 0, created.stderr);
        assert.match(created.stdout, /configmap\/cfg created/);
        const yaml = await k(["get", "configmap", "cfg", "-n", ns, "-o", "yaml"]);
        assert.match(yaml.stdout, /resourceVersion: "\d+"/);
        assert.match(yaml.stdout, /uid: [0-9a-f-]{36}/);
        assert.equal((await k(["label", "configmap", "cfg", "-n", ns, "team=net"])).code, 0);
        assert.equal((await k(["get", "configmap", "-n", ns, "-l", "team=net", "-o", "name"])).stdout.trim(), "configmap/cfg");
        assert.equal((await k(["patch", "configmap", "cfg", "-n", ns, "--type", "merge", "-p", '{"data":{"b":"2"}}'])).code, 0);
        assert.equal((await k(["patch", "configmap", "cfg", "-n", ns, "--type", "json", "-p", '[{"op":"remove","path":"/data/a"}]'])).code, 0);
        assert.equal((await k(["get", "configmap", "cfg", "-n", ns, "-o", "jsonpath={.data}"])).stdout.replace(/\s/g, ""), '{"b":"2"}');
        const failed = await k(["patch", "configmap", "cfg", "-n", ns, "--type", "json", "-p", '[{"op":"test","path":"/data/b","value":"9"}]']);
        assert.notEqual(failed.code, 0);
        assert.match(failed.stderr, /error in our request|testing value/);
        assert.match((await k(["delete", "configmap", "cfg", "-n", ns])).stdout, /configmap "cfg" deleted/);
        const missing = await k(["get", "configmap", "cfg", "-n", ns]);
        assert.notEqual(missing.code, 0);
        assert.match(missing.stderr, /configmaps "cfg" not found/);
      });

      test("generators (protobuf bodies in newer kubectls): namespace, configmap, secret, serviceaccount, token", async () => {
        const gen = `${ns}-gen`;
        for (const args of [
          ["create", "namespace", gen],
          ["create", "configmap", "lit", "-n", gen, "--from-literal=a=1"],
          ["create", "secret", "generic", "sec", "-n", gen, "--from-literal=password=s3cret"],
          ["create", "serviceaccount", "robot", "-n", gen],
        ]) {
          const r = await k(args);
          assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
        }
        assert.equal((await k(["get", "configmap", "lit", "-n", gen, "-o", "jsonpath={.data.a}"])).stdout, "1");
        assert.equal(Buffer.from((await k(["get", "secret", "sec", "-n", gen, "-o", "jsonpath={.data.password}"])).stdout, "base64").toString(), "s3cret");
        if (name === "debian-1.20") return; // `kubectl create token` came with 1.24
        const token = await k(["create", "token", "robot", "-n", gen]);
        assert.equal(token.code, 0, token.stderr);
        const robot = ts.server.authenticator.authenticateToken(token.stdout.trim());
        assert.equal(robot.user?.username, `system:serviceaccount:${gen}:robot`);
      });

      test("auth can-i, for the admin and for a user without rights", async () => {
        assert.equal((await k(["auth", "can-i", "create", "pods", "-n", ns])).stdout.trim(), "yes");
        const nobody = ts.configFor({ username: "nobody", groups: [] }, `nobody-${name}`);
        const no = await kubectl(path, nobody.path, ["auth", "can-i", "create", "pods", "-n", ns]);
        assert.equal(no.stdout.trim(), "no");
        const denied = await kubectl(path, nobody.path, ["get", "pods", "-n", ns]);
        assert.notEqual(denied.code, 0);
        assert.match(denied.stderr, new RegExp(`User "nobody" cannot list resource "pods" in API group "" in the namespace "${ns}"`));
      });

      test("get -w prints changes as they happen", async () => {
        const child = spawn(path, ["get", "configmaps", "-n", ns, "-w", "--request-timeout=30s"], { stdio: ["ignore", "pipe", "pipe"], env: kubectlEnv(ts.adminKubeconfigPath) });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c));
        const seen = (re: RegExp) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`kubectl -w printed: ${out}`)), 20_000);
            const check = () => {
              if (re.test(out)) {
                clearTimeout(timer);
                child.stdout.off("data", check);
                resolve();
              }
            };
            child.stdout.on("data", check);
            check();
          });
        await seen(/kube-root-ca\.crt/);
        await ts.server.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", namespace: ns } });
        await seen(/watched/);
        child.kill();
      });
    });
  }
});
