// kubectl on the workload controllers: create a Deployment, `rollout status` waits for it,
// `get deploy` shows READY/UP-TO-DATE/AVAILABLE, `scale` changes its pods, `rollout status ds`,
// and `delete` (kubectl's background cascade) takes the pods.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, eventually, kubectl, kubectls, type TestServer } from "../../kube/kube.test-support.ts";
import { ControllerManager } from "../controller-manager.ts";
import { markPodsReady } from "./workload-controllers.test-support.ts";

const binaries = kubectls();

const manifest = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: netexec
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ${ns}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: busybox
`;

describe("kubectl on workloads", { skip: binaries.length === 0 ? "no kubectl (scripts/setup unpacks Debian's into .tools/)" : undefined }, () => {
  let ts: TestServer;
  let cm: ControllerManager;
  let marking: NodeJS.Timeout;
  before(async () => {
    ts = await startTestServer();
    cm = new ControllerManager(ts.server.client);
    await cm.start();
    await ts.server.client.create({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
  });
  after(async () => {
    clearInterval(marking);
    cm.stop();
    await ts.close();
  });

  for (const { name, path } of binaries) {
    test(`${name}: apply, rollout status, get deploy, scale, delete`, async () => {
      const ns = `wk-${name.replace(/[^a-z0-9]/g, "")}`;
      const k = (args: string[], input?: string) => kubectl(path, ts.adminKubeconfigPath, args, input);
      assert.equal((await k(["create", "namespace", ns])).code, 0);
      const applied = await k(["apply", "--validate=false", "-f", "-"], manifest(ns));
      assert.equal(applied.code, 0, applied.stderr);
      clearInterval(marking);
      marking = setInterval(() => void markPodsReady(ts.server.client, ns).catch(() => {}), 50);
      const rollout = await k(["rollout", "status", "deployment/web", "-n", ns, "--timeout=60s"]);
      assert.equal(rollout.code, 0, rollout.stderr);
      assert.match(rollout.stdout, /deployment "web" successfully rolled out/);
      const ds = await k(["rollout", "status", "daemonset/agent", "-n", ns, "--timeout=60s"]);
      assert.equal(ds.code, 0, ds.stderr);
      assert.match(ds.stdout, /daemon set "agent" successfully rolled out/);
      const history = await k(["rollout", "history", "daemonset/agent", "-n", ns]);
      assert.equal(history.code, 0, history.stderr);
      assert.match(history.stdout, /^1\s+<none>$/m);
      const get = await k(["get", "deploy", "-n", ns]);
      assert.equal(get.code, 0, get.stderr);
      assert.match(get.stdout, /^web\s+3\/3\s+3\s+3\s+\S+$/m);
      const rs = await k(["get", "rs", "-n", ns, "-o", "name"]);
      assert.match(rs.stdout, /^replicaset\.apps\/web-[a-z0-9]+$/m);
      const scaled = await k(["scale", "deployment/web", "-n", ns, "--replicas=5"]);
      assert.equal(scaled.code, 0, scaled.stderr);
      assert.equal((await k(["rollout", "status", "deployment/web", "-n", ns, "--timeout=60s"])).code, 0);
      const pods = await k(["get", "pods", "-n", ns, "-l", "app=web", "-o", "name"]);
      assert.equal(pods.stdout.trim().split("\n").length, 5);
      // The generators (protobuf bodies in newer kubectls).
      const created = await k(["create", "deployment", "gen", "-n", ns, "--image=registry.k8s.io/e2e-test-images/agnhost:2.53", "--replicas=2", "--port=8080", "--", "/agnhost", "netexec"]);
      assert.equal(created.code, 0, created.stderr);
      assert.equal((await k(["rollout", "status", "deployment/gen", "-n", ns, "--timeout=60s"])).code, 0);
      const gen = await ts.server.client.get("apps/v1/deployments", "gen", ns);
      const container = ((gen.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0])!;
      assert.deepEqual([container.image, container.command, container.ports], ["registry.k8s.io/e2e-test-images/agnhost:2.53", ["/agnhost", "netexec"], [{ containerPort: 8080, protocol: "TCP" }]]);
      assert.equal((gen.spec as { replicas: number }).replicas, 2);
      const run = await k(["run", "single", "-n", ns, "--image=registry.k8s.io/e2e-test-images/agnhost:2.53", "--env=A=1", "--", "netexec"]);
      assert.equal(run.code, 0, run.stderr);
      const single = await ts.server.client.get("v1/pods", "single", ns);
      const c = ((single.spec as { containers: Record<string, unknown>[] }).containers[0])!;
      assert.deepEqual([c.args, c.env], [["netexec"], [{ name: "A", value: "1" }]]);
      const deleted = await k(["delete", "deployment", "web", "-n", ns]);
      assert.equal(deleted.code, 0, deleted.stderr);
      await eventually(async () => ((await ts.server.client.list("v1/pods", { namespace: ns, labelSelector: "app=web" })).items.length === 0 ? true : undefined), "the Deployment's pods gone");
    });
  }
});
