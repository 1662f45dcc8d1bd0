// deploy/ on vpcsim's Kubernetes API server, end to end: kubectl applies it, and the agent's
// Kubernetes side, holding only the aws-node service account's token, does all it does (its Node, its
// pods, ENIConfigs, events on its pod, a CNINode feature) with exactly the ClusterRole's rules; with a
// rule taken away the call it served is refused (403) and the error names the rule.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { SimRun } from "./harness.ts";
import { DEPLOY } from "./deploy-harness.ts";
import { NodeKube, type NodeKubeOptions } from "../src/k8s/node-kube.ts";

const skip = process.getuid?.() === 0 ? false : "needs root (vpcsim creates network namespaces)";
const NODE = "node-rbac";
const POD = "aws-node-rbac";

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("deploy/ on vpcsim's API server: the agent's Kubernetes side with only the manifest's RBAC", { skip }, () => {
  let run: SimRun;
  let admin: KubeConfig;
  let saKubeconfig: string;
  let servesCrds = false;
  // --validate=false: kubectl's own schema check downloads the server's OpenAPI document, which
  // vpcsim's API server does not serve yet; the server still decodes and validates every object.
  const kubectl = (args: string[], input?: string) => run.vpcsim(["kubectl", "--run", run.name, ...args, ...(args[0] === "apply" ? ["--validate=false"] : [])], input);

  before(async () => {
    run = await SimRun.up(["--instance", "rbac=t3.medium,a"]);
    const adminFile = (await run.vpcsim(["kubeconfig", "--run", run.name])).stdout.trim();
    admin = new KubeConfig();
    admin.loadFromFile(adminFile);
    const versions = await kubectl(["api-versions"]);
    servesCrds = versions.stdout.split("\n").includes("apiextensions.k8s.io/v1");
    const applied = await kubectl(["apply", ...(servesCrds ? ["-f", DEPLOY] : ["-f", join(DEPLOY, "aws-node.yaml")])]);
    assert.equal(applied.code, 0, applied.stderr);
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNode({ body: { metadata: { name: NODE, labels: { "kubernetes.io/os": "linux" }, annotations: { "k8s.amazonaws.com/eniConfig": "blue" } } } });
    await core.patchNodeStatus({ name: NODE, body: { status: { capacity: { pods: "17" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    await core.createNamespacedPod({ namespace: "kube-system", body: { metadata: { name: POD }, spec: { nodeName: NODE, serviceAccountName: "aws-node", containers: [{ name: "aws-node", image: "localhost/vpc-cni:0.1.0" }] } } });
    if (servesCrds) {
      const custom = admin.makeApiClient(CustomObjectsApi);
      await custom.createClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", body: { apiVersion: "vpcresources.k8s.aws/v1alpha1", kind: "CNINode", metadata: { name: NODE }, spec: {} } });
      await custom.createClusterCustomObject({ group: "crd.k8s.amazonaws.com", version: "v1alpha1", plural: "eniconfigs", body: { apiVersion: "crd.k8s.amazonaws.com/v1alpha1", kind: "ENIConfig", metadata: { name: "blue" }, spec: { subnet: "subnet-0123abcd", securityGroups: ["sg-0123abcd"] } } });
    }
    // The aws-node service account's token (TokenRequest), as the kubelet hands it to the pod.
    const token = await core.createNamespacedServiceAccountToken({ name: "aws-node", namespace: "kube-system", body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const cluster = admin.getCurrentCluster()!;
    const sa = new KubeConfig();
    sa.loadFromOptions({
      clusters: [{ name: "vpcsim", server: cluster.server, caData: cluster.caData, caFile: cluster.caFile, skipTLSVerify: false }],
      users: [{ name: "aws-node", token: token.status?.token }],
      contexts: [{ name: "aws-node", cluster: "vpcsim", user: "aws-node" }],
      currentContext: "aws-node",
    });
    saKubeconfig = join(mkdtempSync(join(tmpdir(), "vpc-cni-rbac-")), "kubeconfig");
    writeFileSync(saKubeconfig, sa.exportConfig(), { mode: 0o600 });
  });
  after(async () => {
    await run?.down();
  });

  const options = (lines: string[]): NodeKubeOptions => ({
    env: { KUBECONFIG: saKubeconfig },
    nodeName: NODE,
    pod: { namespace: "kube-system", name: POD },
    requireApiServer: true,
    watchEniConfigs: servesCrds,
    eniConfigKeys: { annotation: "k8s.amazonaws.com/eniConfig", label: "k8s.amazonaws.com/eniConfig" },
    userAgent: "vpc-cni-agent/test",
    log: (level, msg) => void lines.push(`${level} ${msg}`),
  });

  test("its Node, its pods and events on its pod work with the ClusterRole's rules", async () => {
    const lines: string[] = [];
    const kube = await NodeKube.connect(options(lines));
    try {
      assert.equal(kube.state, "connected");
      assert.equal(await kube.waitForNode(10_000), true, lines.join("\n"));
      await until("its pod", () => kube.ownPod() !== undefined);
      assert.equal(kube.maxPods(), 17);
      assert.equal(kube.eniConfigName(), "blue");
      kube.recordMissingPermission("CreateNetworkInterface");
      kube.recordMissingPermission("CreateNetworkInterface");
      await kube.events.flush();
      const core = admin.makeApiClient(CoreV1Api);
      const events = (await core.listNamespacedEvent({ namespace: "kube-system" })).items.filter((e) => e.reason === "MissingIAMPermissions");
      assert.equal(events.length, 1, "the repeat is counted on the same event");
      assert.equal(events[0]?.count, 2);
      assert.equal(events[0]?.involvedObject.name, POD);
      assert.equal(events[0]?.involvedObject.uid, kube.ownPod()?.metadata?.uid);
      assert.ok(!lines.some((l) => /403|Forbidden/.test(l)), lines.join("\n"));
    } finally {
      await kube.stop();
    }
  });

  test("ENIConfigs and the CNINode feature work with the ClusterRole's rules", async (t) => {
    if (!servesCrds) return t.skip("vpcsim's API server does not serve CustomResourceDefinitions yet");
    const lines: string[] = [];
    const kube = await NodeKube.connect(options(lines));
    try {
      await until("the ENIConfig", () => kube.eniConfig("blue") !== undefined);
      assert.equal(kube.eniConfig("blue")?.spec.subnet, "subnet-0123abcd");
      assert.equal((await kube.addCniNodeFeature({ name: "SecurityGroupsForPods" })).changed, true);
      const custom = admin.makeApiClient(CustomObjectsApi);
      const cni = (await custom.getClusterCustomObject({ group: "vpcresources.k8s.aws", version: "v1alpha1", plural: "cninodes", name: NODE })) as { spec: { features: unknown[] } };
      assert.deepEqual(cni.spec.features, [{ name: "SecurityGroupsForPods" }]);
      assert.ok(!lines.some((l) => /403|Forbidden/.test(l)), lines.join("\n"));
    } finally {
      await kube.stop();
    }
  });

  test("with a rule taken from the ClusterRole, the call is refused with 403 and the error names the rule", async () => {
    const docs = parseAllDocuments(readFileSync(join(DEPLOY, "aws-node.yaml"), "utf8")).map((d) => d.toJS() as { kind: string; rules?: { resources: string[] }[] });
    const role = docs.find((d) => d?.kind === "ClusterRole")!;
    const reduced = { ...role, rules: role.rules!.filter((r) => !r.resources.includes("nodes")) };
    const applied = await kubectl(["apply", "-f", "-"], JSON.stringify(reduced));
    assert.equal(applied.code, 0, applied.stderr);
    const lines: string[] = [];
    const kube = await NodeKube.connect(options(lines));
    try {
      assert.equal(await kube.waitForNode(3_000), false);
      await until("the refusal to be reported", () => lines.some((l) => /403/.test(l)));
      const refusal = lines.find((l) => /403/.test(l)) ?? "";
      assert.match(refusal, /^error node node-rbac: Kubernetes API: list nodes: 403 Forbidden: .*cannot list resource "nodes".*The ClusterRole aws-node \(deploy\/aws-node.yaml\) must allow list nodes/);
      assert.equal(kube.maxPods(), undefined, "the agent goes on with the instance type's max pods");
    } finally {
      await kube.stop();
      const restored = await kubectl(["apply", "-f", join(DEPLOY, "aws-node.yaml")]);
      assert.equal(restored.code, 0, restored.stderr);
    }
  });
});
