import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKubeAccess, SERVICE_ACCOUNT_DIR } from "./kube-access.ts";
import { FakeApiServer } from "./fake-api-server.test-support.ts";

test("KUBECONFIG wins over the in-cluster config", () => {
  const file = new FakeApiServer().kubeconfigFile();
  const got = loadKubeAccess({ KUBECONFIG: file, KUBERNETES_SERVICE_HOST: "10.100.0.1", KUBERNETES_SERVICE_PORT: "443" });
  assert.ok(got.ok);
  assert.equal(got.source, "kubeconfig");
  assert.match(got.server, /^http:\/\/127\.0\.0\.1:/);
});

test("in a pod: the service address and the projected token; CLUSTER_ENDPOINT replaces the address", () => {
  const root = mkdtempSync(join(tmpdir(), "vpc-cni-sa-"));
  mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, "token"), "t0ken");
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, "ca.crt"), "");
  const env = { KUBERNETES_SERVICE_HOST: "10.100.0.1", KUBERNETES_SERVICE_PORT: "443" };
  const got = loadKubeAccess(env, { root });
  assert.ok(got.ok);
  assert.equal(got.source, "in-cluster");
  assert.equal(got.server, "https://10.100.0.1:443");
  assert.equal(got.config.getCurrentUser()?.authProvider?.config?.tokenFile, join(root, SERVICE_ACCOUNT_DIR, "token"));
  const direct = loadKubeAccess({ ...env, CLUSTER_ENDPOINT: "https://ABCD.gr7.us-east-1.eks.amazonaws.com/" }, { root });
  assert.ok(direct.ok);
  assert.equal(direct.server, "https://ABCD.gr7.us-east-1.eks.amazonaws.com");
  assert.equal(direct.config.getCurrentUser()?.authProvider?.config?.tokenFile, join(root, SERVICE_ACCOUNT_DIR, "token"), "same credentials");
  assert.equal(process.env["KUBERNETES_SERVICE_HOST"], undefined, "the process environment is left alone");
});

test("no access configured is not an error; a broken configuration is", () => {
  const none = loadKubeAccess({});
  assert.equal(none.ok, false);
  assert.ok(!none.ok && !none.configured);
  const missing = loadKubeAccess({ KUBECONFIG: "/nonexistent/kubeconfig" });
  assert.ok(!missing.ok && missing.configured && /KUBECONFIG names \/nonexistent\/kubeconfig, which does not exist/.test(missing.reason));
  const noToken = loadKubeAccess({ KUBERNETES_SERVICE_HOST: "10.100.0.1", KUBERNETES_SERVICE_PORT: "443" }, { root: mkdtempSync(join(tmpdir(), "vpc-cni-sa-")) });
  assert.ok(!noToken.ok && noToken.configured && /token is missing: is automountServiceAccountToken off\?/.test(noToken.reason));
  const file = new FakeApiServer().kubeconfigFile();
  const badEndpoint = loadKubeAccess({ KUBECONFIG: file, CLUSTER_ENDPOINT: "not a url" });
  assert.ok(!badEndpoint.ok && badEndpoint.configured && /CLUSTER_ENDPOINT not a url is not a URL/.test(badEndpoint.reason));
  const garbage = join(mkdtempSync(join(tmpdir(), "vpc-cni-kc-")), "kubeconfig");
  writeFileSync(garbage, "clusters: [\n");
  const unreadable = loadKubeAccess({ KUBECONFIG: garbage });
  assert.ok(!unreadable.ok && unreadable.configured && /cannot be read/.test(unreadable.reason));
});
