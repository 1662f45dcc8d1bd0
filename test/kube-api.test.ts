// The Kubernetes API of a real vpcsim run: the host reaches it through `vpcsim kubectl`, the
// kubeconfig and its loopback forwarder; instances reach it on 192.0.2.20:443 over the emulated
// network; `vpcsim down` (and a crashed daemon) leave no forwarder behind.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { datapathUnavailable, ROOT, runCommand, SimRun } from "./harness.ts";

const skip = datapathUnavailable();

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("vpcsim's Kubernetes API", { skip }, () => {
  let run: SimRun;
  before(async () => {
    run = await SimRun.up();
  });
  after(() => run?.down());

  test("the host: vpcsim kubeconfig and vpcsim kubectl, as kubernetes-admin", async () => {
    const path = await run.vpcsim(["kubeconfig", "--run", run.name]);
    assert.equal(path.code, 0, path.stderr);
    assert.equal(path.stdout.trim(), `/run/vpcsim/${run.name}/kubeconfig`);
    const ns = await run.vpcsim(["kubectl", "--run", run.name, "get", "namespaces", "-o", "name"]);
    assert.equal(ns.code, 0, ns.stderr);
    assert.deepEqual(ns.stdout.trim().split("\n").sort(), ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]);
    const whoami = await run.vpcsim(["kubectl", "--run", run.name, "auth", "can-i", "*", "*"]);
    assert.equal(whoami.stdout.trim(), "yes");
    const config = new KubeConfig();
    config.loadFromFile(path.stdout.trim());
    assert.match(config.getCurrentCluster()!.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const pods = await config.makeApiClient(CoreV1Api).listNamespacedServiceAccount({ namespace: "kube-system" });
    assert.ok(pods.items.some((sa) => sa.metadata?.name === "default"));
    const status = await run.status();
    assert.equal(status.endpoints.kubernetes, "https://192.0.2.20");
  });

  test("an instance: HTTPS on 192.0.2.20:443 with the run's CA, through the fabric", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpcsim-kube-e2e-"));
    try {
      const admin = new KubeConfig();
      admin.loadFromFile(`/run/vpcsim/${run.name}/kubeconfig`);
      const cluster = admin.getCurrentCluster()!;
      const inNode = new KubeConfig();
      inNode.loadFromOptions({
        clusters: [{ name: "c", server: "https://192.0.2.20", caData: cluster.caData }],
        users: [{ name: "u", token: admin.getCurrentUser()!.token }],
        contexts: [{ name: "x", cluster: "c", user: "u" }],
        currentContext: "x",
      });
      writeFileSync(join(dir, "kubeconfig"), inNode.exportConfig(), { mode: 0o600 });
      const script = join(dir, "list.mjs");
      writeFileSync(
        script,
        `import { CoreV1Api, KubeConfig } from ${JSON.stringify(join(ROOT, "node_modules/@kubernetes/client-node/dist/index.js"))};
const kc = new KubeConfig(); kc.loadFromFile(process.argv[2]);
const list = await kc.makeApiClient(CoreV1Api).listNamespace();
console.log(list.items.map((n) => n.metadata.name).sort().join(","));`,
      );
      const r = await run.exec("node-a", [process.execPath, script, join(dir, "kubeconfig")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "default,kube-node-lease,kube-public,kube-system");
      const anonymous = await run.exec("node-b", ["curl", "-s", "--cacert", join(`/run/vpcsim/${run.name}`, "kube", "ca.crt"), "https://192.0.2.20/api/v1/pods"]);
      assert.match(anonymous.stdout, /"code":401/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the host's forwarder to the Kubernetes API", { skip }, () => {
  test("goes with vpcsim down, and by itself when the daemon crashes", async () => {
    const first = await SimRun.up();
    const state = JSON.parse(readFileSync(`/run/vpcsim/${first.name}/kube-forwarder.json`, "utf8")) as { pid: number; port: number };
    assert.ok(alive(state.pid));
    await first.down();
    await until(() => !alive(state.pid), "the forwarder to end with the run");

    const second = await SimRun.up();
    try {
      const forwarder = JSON.parse(readFileSync(`/run/vpcsim/${second.name}/kube-forwarder.json`, "utf8")) as { pid: number };
      const daemon = Number(readFileSync(`/run/vpcsim/${second.name}/daemon.pid`, "utf8"));
      process.kill(daemon, "SIGKILL");
      await until(() => !alive(forwarder.pid), "the forwarder to notice the daemon is gone");
      assert.ok(existsSync(`/run/vpcsim/${second.name}`), "the crashed run's directory is still there for down to clear");
    } finally {
      const r = await runCommand(join(ROOT, "bin", "vpcsim"), ["down", "--run", second.name]);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
