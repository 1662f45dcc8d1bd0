// The node runtime in real namespaces (root): sandboxes wired by a real CNI chain (Debian's ptp,
// host-local, portmap, loopback) inside a test "node" namespace, containers as processes in them
// (agnhost netexec, busybox), exit codes, stop signals and grace, exec, a restarted runtime finding
// its sandboxes, and nothing left behind.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RuntimeOptions, SandboxConfig, Sandbox, ContainerStatus } from "./runtime.ts";
import { RuntimeDriver } from "./runtime-client.test-support.ts";

const skip = process.getuid?.() !== 0 ? "needs root (network namespaces)" : undefined;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

function podConfig(name: string, over: Partial<SandboxConfig> = {}): SandboxConfig {
  return { namespace: "default", name, uid: `uid-${name}`, attempt: 0, hostNetwork: false, hostname: name, annotations: {}, labels: {}, portMappings: [], ...over };
}

describe("node runtime: sandboxes and containers in real namespaces", { skip }, () => {
  const run = `rt${randomBytes(3).toString("hex")}`;
  const prefix = `vs-${run}-`;
  const nodeNetns = `${prefix}node`;
  const nodeRoot = join("/run/vpcsim-test", run, "node");
  let options: RuntimeOptions;
  let driver: RuntimeDriver;

  const inNode = (args: string[]) => sh("ip", ["netns", "exec", nodeNetns, ...args]);
  const curl = (url: string) => inNode(["curl", "-s", "--max-time", "5", url]);
  /** The answer once the server answers at all (a container's server takes a moment to listen). */
  const curlWhenUp = async (url: string): Promise<string> => {
    for (let i = 0; ; i++) {
      try {
        return curl(url);
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  before(() => {
    sh("ip", ["netns", "add", nodeNetns]);
    sh("ip", ["-n", nodeNetns, "link", "set", "lo", "up"]);
    mkdirSync(join(nodeRoot, "etc/cni/net.d"), { recursive: true });
    writeFileSync(
      join(nodeRoot, "etc/cni/net.d/10-test.conflist"),
      JSON.stringify({
        cniVersion: "1.0.0",
        name: "test-net",
        plugins: [
          { type: "ptp", ipam: { type: "host-local", ranges: [[{ subnet: "10.99.0.0/24" }]], dataDir: join(nodeRoot, "var/lib/cni/networks") } },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      }),
    );
    options = { nodeRoot, netnsPrefix: prefix, cniBinDirs: [join(nodeRoot, "opt/cni/bin"), "/usr/lib/cni"], env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" } };
    driver = new RuntimeDriver(nodeNetns, options);
  });

  after(() => {
    driver?.stop();
    // Whatever a failed test left: processes in our namespaces, then the namespaces.
    for (const ns of readdirSync("/run/netns").filter((n) => n.startsWith(prefix))) {
      for (const pid of sh("ip", ["netns", "pids", ns]).split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {}
      }
      try {
        sh("ip", ["netns", "del", ns]);
      } catch {}
    }
    rmSync(join("/run/vpcsim-test", run), { recursive: true, force: true });
    try {
      rmdirSync("/run/vpcsim-test");
    } catch {
      // another test run uses it
    }
  });

  const container = (sandbox: Sandbox, name: string, image: string, argv: string[], env: Record<string, string> = {}) =>
    driver.ok<ContainerStatus>("pullAndCreate", sandbox.id, {
      name,
      attempt: 0,
      image,
      argv,
      env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env },
      workingDir: "",
      logPath: join(nodeRoot, "var/log/pods", `default_${sandbox.config.name}_${sandbox.config.uid}`, name, "0.log"),
    });

  const waitState = async (id: string, state: string, ms = 10_000): Promise<ContainerStatus> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await driver.ok<ContainerStatus>("containerStatus", id);
      if (s.state === state) return s;
      if (Date.now() > deadline) throw new Error(`container ${id} is ${s.state}, not ${state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test("the network is not ready until a config exists", async () => {
    const conf = join(nodeRoot, "etc/cni/net.d/10-test.conflist");
    const text = readFileSync(conf, "utf8");
    rmSync(conf);
    assert.equal((await driver.ok("networkStatus")).ready, false);
    const refused = await driver.call("runPodSandbox", podConfig("early"));
    assert.equal(refused.ok, false);
    assert.match(refused.error!.message, /failed to setup network for sandbox "[0-9a-f]{64}": cni plugin not initialized/);
    // Nothing of the failed attempt is left.
    assert.deepEqual(readdirSync("/run/netns").filter((n) => n.startsWith(`${prefix}cni-`)), []);
    writeFileSync(conf, text);
    assert.equal((await driver.ok("networkStatus")).ready, true);
  });

  test("two pods get addresses, serve netexec, see each other's addresses, and leave nothing behind", async () => {
    const a = await driver.ok<Sandbox>("runPodSandbox", podConfig("web-a", { portMappings: [{ hostPort: 18080, containerPort: 8080, protocol: "TCP", hostIP: "" }] }));
    const b = await driver.ok<Sandbox>("runPodSandbox", podConfig("web-b"));
    assert.match(a.ips[0]!, /^10\.99\.0\.\d+$/);
    assert.notEqual(a.ips[0], b.ips[0]);
    assert.match(a.netns, new RegExp(`^${prefix}cni-[0-9a-f-]{36}$`));
    // lo is up in the sandbox (the loopback plugin).
    assert.match(sh("ip", ["-n", a.netns, "link", "show", "lo"]), /UP/);
    const ca = await container(a, "netexec", "registry.k8s.io/e2e-test-images/agnhost:2.53", ["/agnhost", "netexec", "--http-port=8080"]);
    const cb = await container(b, "netexec", "agnhost:2.53", ["/agnhost", "netexec", "--http-port=8080"]);
    await driver.ok("startContainer", ca.id);
    await driver.ok("startContainer", cb.id);
    await waitState(ca.id, "running");
    assert.equal(await curlWhenUp(`http://${a.ips[0]}:8080/hostname`), "web-a", "the pod's own UTS namespace and hostname");
    await curlWhenUp(`http://${b.ips[0]}:8080/`);
    // From pod b, via agnhost's /dial: a sees b's own address (no NAT between pods of the node).
    const dial = JSON.parse(curl(`http://${b.ips[0]}:8080/dial?request=clientip&host=${a.ips[0]}&port=8080&tries=2`));
    assert.equal(dial.responses.length, 2);
    for (const r of dial.responses) assert.equal(r.split(":")[0], b.ips[0]);
    // hostPort through portmap, on the node.
    assert.equal(curl("http://127.0.0.1:18080/echo?msg=via%20hostPort"), "via hostPort");
    // The container is PID 1 of its own PID namespace; exec runs inside it.
    const exec = await driver.ok("execSync", ca.id, ["ps", "-o", "pid,comm"], 5000);
    assert.equal(exec.exitCode, 0);
    const processes = exec.stdout.trim().split("\n").slice(1).map((l: string) => l.trim().split(/\s+/));
    assert.deepEqual(processes[0], ["1", "agnhost"]);
    assert.ok(processes.length < 6, `only the container's processes: ${exec.stdout}`);
    assert.equal((await driver.ok("execSync", ca.id, ["sh", "-c", "exit 4"], 5000)).exitCode, 4);

    // agnhost stops on SIGTERM, as the real one: exit 0 well within the grace period.
    await driver.ok("stopContainer", ca.id, 30);
    const stopped = await driver.ok<ContainerStatus>("containerStatus", ca.id);
    assert.equal(stopped.state, "exited");
    assert.equal(stopped.exitCode, 0);
    for (const s of [a, b]) {
      await driver.ok("stopPodSandbox", s.id);
      await driver.ok("removePodSandbox", s.id);
    }
    assert.deepEqual(readdirSync("/run/netns").filter((n) => n.startsWith(`${prefix}cni-`)), []);
    assert.deepEqual(readdirSync(join(nodeRoot, "var/lib/cni/results")), []);
    assert.deepEqual(readdirSync(join(nodeRoot, "var/lib/cni/networks/test-net")).filter((n) => /^\d/.test(n)), [], "host-local released both addresses");
    assert.deepEqual(sh("ip", ["netns", "pids", nodeNetns]).split("\n").filter(Boolean).length, 1, "only the driver is left in the node");
  });

  test("exit codes: a command's status, SIGKILL after the grace period for a PID 1 that ignores SIGTERM, unknown programs", async () => {
    const s = await driver.ok<Sandbox>("runPodSandbox", podConfig("codes"));
    const three = await container(s, "three", "busybox", ["sh", "-c", "echo out; echo err >&2; exit 3"]);
    await driver.ok("startContainer", three.id);
    const done = await waitState(three.id, "exited");
    assert.equal(done.exitCode, 3);
    assert.equal(done.reason, "Error");
    assert.equal(readFileSync(three.config.logPath, "utf8"), "out\nerr\n");
    const sleeper = await container(s, "sleeper", "busybox:1.36", ["sleep", "1000"]);
    await driver.ok("startContainer", sleeper.id);
    await waitState(sleeper.id, "running");
    const t0 = Date.now();
    await driver.ok("stopContainer", sleeper.id, 1);
    const killed = await driver.ok<ContainerStatus>("containerStatus", sleeper.id);
    assert.equal(killed.exitCode, 137, "sleep as PID 1 ignores SIGTERM, so it is killed after the grace period");
    assert.ok(Date.now() - t0 >= 900, "the grace period was given");
    const missing = await driver.call("pullAndCreate", s.id, { ...three.config, name: "missing", argv: ["no-such-program"] });
    assert.equal(missing.ok, false);
    assert.equal(missing.error!.kind, "StartError");
    assert.match(missing.error!.message, /exec: "no-such-program": executable file not found in \$PATH/);
    const unknown = await driver.call("pullAndCreate", s.id, { ...three.config, name: "unknown", image: "nginx:1.27" });
    assert.equal(unknown.error!.kind, "ErrImagePull");
    assert.match(unknown.error!.message, /docker.io\/library\/nginx:1.27.*not found/);
    await driver.ok("stopPodSandbox", s.id);
    await driver.ok("removePodSandbox", s.id);
  });

  test("a restarted runtime finds its sandboxes and running containers, and can stop them", async () => {
    const s = await driver.ok<Sandbox>("runPodSandbox", podConfig("survivor"));
    const c = await container(s, "netexec", "agnhost:2.53", ["/agnhost", "netexec", "--http-port=8080"]);
    await driver.ok("startContainer", c.id);
    const before = await waitState(c.id, "running");
    await driver.crash();
    driver = new RuntimeDriver(nodeNetns, options);
    const sandboxes = await driver.ok<Sandbox[]>("listSandboxes");
    assert.deepEqual(sandboxes.map((x) => x.id), [s.id]);
    const again = await driver.ok<ContainerStatus>("containerStatus", c.id);
    assert.equal(again.state, "running");
    assert.equal(again.pid, before.pid);
    await driver.ok("checkSandboxNetwork", s.id);
    await driver.ok("stopPodSandbox", s.id);
    assert.equal((await driver.ok<ContainerStatus>("containerStatus", c.id)).exitCode, 137, "StopPodSandbox kills what is left at once");
    // A second stop: DEL again, with the namespace gone, as containerd does.
    await driver.ok("stopPodSandbox", s.id);
    assert.equal((await driver.ok<Sandbox>("sandbox", s.id)).teardowns, 2);
    await driver.ok("removePodSandbox", s.id);
    assert.deepEqual(await driver.ok("listSandboxes"), []);
  });

  test("hostNetwork sandboxes run in the node's namespace without CNI", async () => {
    const s = await driver.ok<Sandbox>("runPodSandbox", podConfig("host", { hostNetwork: true }));
    assert.equal(s.netns, "");
    assert.deepEqual(s.ips, []);
    const c = await container(s, "ls", "busybox", ["sh", "-c", "ip -o link | cut -d: -f2 | tr -d ' ' | sort | tr '\\n' ' '"]);
    await driver.ok("startContainer", c.id);
    await waitState(c.id, "exited");
    const links = readFileSync(c.config.logPath, "utf8");
    assert.match(links, /^lo /, "it sees the node's links");
    await driver.ok("stopPodSandbox", s.id);
    await driver.ok("removePodSandbox", s.id);
    assert.ok(!existsSync(join(nodeRoot, "var/lib/vpcsim-runtime/sandboxes", `${s.id}.json`)));
  });
});
