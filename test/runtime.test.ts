// vpc-cni with what runs it and what it is chained with: Debian's portmap and tuning after it in one
// conflist (ADD down the chain with prevResult, DEL back up), and a real container runtime, Debian's
// podman 4 with its CNI backend, running containers on the agent's network inside a vpcsim instance.

import { after, before, describe, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseConfList } from "../src/cni/index.ts";
import { CheckpointFile } from "../src/agent/datastore/checkpoint.ts";
import { AGENT_STATE_ROOT, AgentProcess } from "./agent-harness.ts";
import { deleteNetns, Node } from "./pod-harness.ts";
import { datapathUnavailable, runCommand, SimRun, waitFor, type CommandResult } from "./harness.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const BUSYBOX = "/usr/bin/busybox";

/** GET over HTTP from inside an instance (busybox's wget crashes outside its own rootfs here). */
async function fetchFrom(run: SimRun, instance: string, url: string): Promise<CommandResult> {
  return run.exec(instance, [
    process.execPath,
    "-e",
    `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(5000)}).then(r=>r.text()).then(t=>console.log(t.trim()),e=>{console.log('FAILED',e.cause?.code??e.name);process.exit(3)})`,
  ]);
}

/** The nat table of a namespace, as lines. */
async function natRules(netns: string): Promise<string[]> {
  const r = await runCommand("ip", ["netns", "exec", netns, "iptables-save", "-t", "nat"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l.startsWith("-A ") || l.startsWith(":"));
}

/**
 * Who holds an address, as the agent says: introspection (aws-node's /v1/enis: network and pod name;
 * it scrubs the container id, as aws-node does) and the checkpoint (container id and interface).
 */
async function holderOf(agent: AgentProcess, address: string): Promise<{ networkName: string; podName: string; containerID: string; ifName: string } | undefined> {
  const enis = await agent.introspect("/v1/enis");
  let found: { networkName: string; podName: string } | undefined;
  for (const eni of Object.values<any>(enis["0"]?.ENIs ?? {})) {
    for (const cidr of Object.values<any>(eni.AvailableIPv4Cidrs ?? {})) {
      const entry = cidr.IPAddresses?.[address];
      if (entry?.IPAMKey?.networkName) found = { networkName: entry.IPAMKey.networkName, podName: entry.IPAMMetadata?.k8sPodName ?? "" };
    }
  }
  const allocation = new CheckpointFile(join(agent.dir, "ipam.json")).read()?.allocations.find((e) => e.ipv4 === address);
  if (!found && !allocation) return undefined;
  return { networkName: found?.networkName ?? "", podName: found?.podName ?? "", containerID: allocation?.containerID ?? "", ifName: allocation?.ifName ?? "" };
}

describe("vpc-cni with runtimes and chained plugins", { skip }, () => {
  let run: SimRun;
  let agentA: AgentProcess, agentB: AgentProcess;
  let a: Node, b: Node;
  let nodeAddress: string;
  let nodeBAddress: string;

  before(async () => {
    run = await SimRun.up([
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--instance", "node-a=m5.large,a",
      "--instance", "node-b=m5.large,b",
    ]);
    agentA = await new AgentProcess(run, "node-a", FAST).start();
    agentB = await new AgentProcess(run, "node-b", FAST).start();
    [a, b] = await Promise.all([Node.of(agentA), Node.of(agentB)]);
    await Promise.all([agentA.settled(), agentB.settled()]);
    nodeAddress = (await run.instance("node-a")).privateIp;
    nodeBAddress = (await run.instance("node-b")).privateIp;
  });
  after(async () => {
    for (const ag of [agentA, agentB]) {
      await ag?.stop();
      ag?.clean();
    }
    await run?.down();
    if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
  });

  test("chained with Debian's portmap and tuning: ADD down the chain, DEL back up, nothing left", async () => {
    const scratch = mkdtempSync("/tmp/vpc-cni-chain-");
    const ns = await a.newPodNetns();
    const server = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", "require('http').createServer((q,s)=>s.end('pod says '+q.socket.remoteAddress+'\\n')).listen(80,'0.0.0.0',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const list = parseConfList(
        JSON.stringify({
          cniVersion: a.conflist.cniVersion,
          name: a.conflist.name,
          plugins: [
            a.conflist.plugins[0],
            { type: "portmap", capabilities: { portMappings: true }, snat: true },
            { type: "tuning", sysctl: { "net.core.somaxconn": "1234", "net.ipv4.conf.eth0.arp_notify": "1" }, dataDir: join(scratch, "tuning") },
          ],
        }),
      );
      assert.deepEqual(list.plugins.map((p) => p["type"]), ["vpc-cni", "portmap", "tuning"]);
      const hostBefore = await a.hostState();
      const natBefore = await natRules(a.netns);
      const assignedBefore = (await agentA.introspect("/v1/pool")).stats.assigned;
      const containerId = `chain${randomBytes(6).toString("hex")}`;
      const base = { containerId, netns: ns, args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=chained", runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] } };

      // ADD down the chain, each plugin getting the previous one's result, as libcni runs it.
      const results: any[] = [];
      for (let i = 0; i < list.plugins.length; i++) {
        const r = await a.cni({ command: "ADD", ...base, ...(i > 0 ? { prevResult: results[i - 1] } : {}) }, i, list);
        assert.equal(r.code, 0, `ADD ${String(list.plugins[i]!["type"])}: ${r.stdout} ${r.stderr}`);
        results.push(r.json);
      }
      const address = String(results[0].ips[0].address).replace(/\/32$/, "");
      assert.equal(results.at(-1).ips[0].address, `${address}/32`, "the chain passes vpc-cni's address through");
      assert.deepEqual(results.at(-1).interfaces, results[0].interfaces, "portmap and tuning keep vpc-cni's interfaces (and its DEL state)");
      assert.deepEqual(await holderOf(agentA, address), { networkName: "aws-cni", podName: "chained", containerID: containerId, ifName: "eth0" });

      // tuning's sysctls inside the pod, not on the node.
      assert.equal((await a.inPod(ns, ["cat", "/proc/sys/net/core/somaxconn"])).stdout.trim(), "1234");
      assert.equal((await a.inPod(ns, ["cat", "/proc/sys/net/ipv4/conf/eth0/arp_notify"])).stdout.trim(), "1");
      assert.notEqual((await runCommand("ip", ["netns", "exec", a.netns, "cat", "/proc/sys/net/core/somaxconn"])).stdout.trim(), "1234", "the node's own value is untouched");

      // portmap's DNAT: node-a:8080 -> pod:80, from the other instance; the pod sees node-b's address (no SNAT).
      const nat = await natRules(a.netns);
      assert.ok(nat.some((l) => l.includes("--dport 8080") && l.includes(`--to-destination ${address}:80`)), `a DNAT to the pod:\n${nat.join("\n")}`);
      await new Promise((r) => server.stdout!.once("data", r));
      const got = await fetchFrom(run, "node-b", `http://${nodeAddress}:8080/`);
      assert.equal(got.stdout.trim(), `pod says ${nodeBAddress}`, got.stderr);

      // DEL in reverse order, each with the final result as libcni sends it.
      for (let i = list.plugins.length - 1; i >= 0; i--) {
        const r = await a.cni({ command: "DEL", ...base, prevResult: results.at(-1) }, i, list);
        assert.equal(r.code, 0, `DEL ${String(list.plugins[i]!["type"])}: ${r.stdout} ${r.stderr}`);
      }
      // portmap removes its per-container chains and rules; its shared CNI-HOSTPORT-* scaffolding
      // (chains and their jumps, created on first use) stays by design, as on any node.
      const natAfter = await natRules(a.netns);
      const added = natAfter.filter((l) => !natBefore.includes(l) && !/^(:CNI-HOSTPORT-(DNAT|MASQ|SETMARK) |-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-(DNAT|MASQ)$|-A CNI-HOSTPORT-(MASQ|SETMARK) )/.test(l));
      assert.deepEqual(added, [], "no portmap chain or rule of the pod left");
      assert.ok(!natAfter.some((l) => l.includes(containerId) || l.includes(address) || /CNI-(DN|SN)-/.test(l)), natAfter.join("\n"));
      assert.equal((await agentA.introspect("/v1/pool")).stats.assigned, assignedBefore, "the address is back with the agent");
      assert.deepEqual(await a.hostState(), hostBefore, "no veth, route or rule left");
      const tuningDir = join(scratch, "tuning");
      assert.deepEqual(existsSync(tuningDir) ? readdirSync(tuningDir, { recursive: true }).filter((f) => String(f).endsWith(".json")) : [], [], "no tuning backup left");
    } finally {
      server.kill();
      await deleteNetns(ns);
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test("podman (CNI backend, runc) runs containers on the agent's network", async (t: TestContext) => {
    const why = await podmanUnavailable();
    if (why) return t.skip(why);
    const scratch = mkdtempSync("/tmp/vpc-cni-podman-");
    const cgroupParent = `/vpc-cni-test-${run.name}`;
    // podman and runc put state outside their configuration in two places: libcni's result cache
    // (/var/lib/cni/results) and runc's root (/run/runc). Removed afterwards if they were not there.
    const hostDirs = ["/var/lib/cni/results", "/var/lib/cni", "/run/runc"].filter((d) => !existsSync(d));
    const netnsBefore = new Set(readdirSync("/run/netns"));
    const podman = await Podman.create(scratch, a, agentA.dir);
    let podNs: string | undefined;
    let podB: Awaited<ReturnType<Node["addPod"]>> | undefined;
    let peer: ReturnType<typeof spawn> | undefined;
    try {
      // The network podman sees is the agent's conflist, copied; its name is the list's ("aws-cni").
      const nets = await podman.ok(["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
      assert.match(nets, /^aws-cni vpc-cni$/m, "podman loads the agent's conflist (after VERSION of vpc-cni and portmap)");
      // Can this machine run containers at all (no network involved)? If not, say exactly why.
      const probe = await podman.run(["run", "--rm", "--network", "none", "--cgroup-parent", cgroupParent, "--rootfs", podman.rootfs, "/bin/true"]);
      if (probe.code !== 0) return t.skip(`podman cannot run a container on this machine: ${probe.stderr.trim()}`);

      podNs = await b.newPodNetns();
      podB = await b.addPod("podman-peer", podNs);
      const assignedBefore = (await agentA.introspect("/v1/pool")).stats.assigned;

      const id = (await podman.ok(["run", "-d", "--name", "web", "--network", "aws-cni", "-p", "8080:80", "--cgroup-parent", cgroupParent, "--rootfs", podman.rootfs, "/bin/httpd", "-f", "-p", "80", "-h", "/www"])).trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const settings = JSON.parse(await podman.ok(["inspect", "web", "--format", "{{json .NetworkSettings}}"]));
      const address: string = settings.Networks["aws-cni"].IPAddress;
      const sandbox: string = settings.SandboxKey;
      assert.match(sandbox, /^\/run\/netns\/netns-/);
      assert.ok(existsSync(sandbox));

      // A VPC address of node-a's ENIs, assigned by the agent to this very container.
      const enis = (await run.instance("node-a")).enis;
      assert.ok(enis.some((e) => e.privateIps.includes(address)), `${address} is one of node-a's ENI addresses in EC2`);
      // podman passes the container name as K8S_POD_NAME (and no K8S_POD_NAMESPACE).
      assert.deepEqual(await holderOf(agentA, address), { networkName: "aws-cni", podName: "web", containerID: id, ifName: "eth0" });
      assert.equal((await agentA.introspect("/v1/pool")).stats.assigned, assignedBefore + 1);
      const inside = await podman.ok(["exec", "web", "ip", "-4", "addr", "show", "eth0"]);
      assert.ok(inside.includes(`inet ${address}/32`), inside);

      // The container reaches a pod on the other instance, which sees the container's own address.
      const ping = await podman.run(["exec", "web", "ping", "-c1", "-W2", podB.address]);
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      peer = spawn("ip", ["netns", "exec", podNs, process.execPath, "-e", "require('net').createServer(s=>s.end(s.remoteAddress+'\\n')).listen(7070,'0.0.0.0',()=>console.log('up'))"], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise((r) => peer!.stdout!.once("data", r));
      const seen = await podman.ok(["exec", "web", "nc", "-w", "3", podB.address, "7070"]);
      assert.equal(seen.trim(), address, "the pod on node-b sees the container's VPC address (no NAT)");

      // The published port, through the chained portmap, from the other instance.
      const page = await fetchFrom(run, "node-b", `http://${nodeAddress}:8080/index.html`);
      assert.equal(page.stdout.trim(), podman.marker, page.stderr);

      // rm -f: podman's DEL gives the address back and removes its namespace, cache entry and DNAT.
      await podman.ok(["rm", "-f", "-t", "0", "web"]);
      assert.equal((await podman.ok(["ps", "-a", "-q"])).trim(), "");
      const assignedAfter = await waitFor(async () => {
        const n = (await agentA.introspect("/v1/pool")).stats.assigned;
        return n === assignedBefore ? n : undefined;
      }, 10_000);
      assert.equal(assignedAfter, assignedBefore, "the address is back with the agent");
      assert.equal(await holderOf(agentA, address), undefined, "nobody holds the address");
      assert.ok(!existsSync(sandbox), `${sandbox} is gone`);
      assert.deepEqual(readdirSync("/run/netns").filter((n) => n.startsWith("netns-") && !netnsBefore.has(n)), [], "no podman netns left");
      assert.ok(!existsSync(`/var/lib/cni/results/aws-cni-${id}-eth0`), "libcni's cached result is gone");
      const nat = await natRules(a.netns);
      assert.ok(!nat.some((l) => l.includes(id) || l.includes(address) || /CNI-(DN|SN)-/.test(l)), nat.join("\n"));
    } finally {
      peer?.kill();
      await podman.run(["rm", "-a", "-f", "-t", "0"]);
      if (podB && podNs) await b.delPod("podman-peer", podNs, podB.containerId, podB.result);
      if (podNs) await deleteNetns(podNs);
      podman.cleanup(cgroupParent);
      for (const d of hostDirs) {
        try {
          rmdirSync(d); // only when empty: never anything another user of the machine put there
        } catch {}
      }
    }
    const mounts = readFileSync("/proc/self/mounts", "utf8");
    assert.ok(!mounts.includes(scratch), "nothing of podman's is still mounted");
  });
});

/** Why podman cannot be tried here at all, or undefined. */
async function podmanUnavailable(): Promise<string | undefined> {
  for (const bin of ["podman", "runc", "conmon", "nsenter"]) {
    const w = await runCommand("sh", ["-c", `command -v ${bin}`]);
    if (w.code !== 0) return `${bin} is not installed (scripts/setup installs podman, runc, conmon, catatonit, busybox-static)`;
  }
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (Debian's busybox-static)`;
  const v = await runCommand("podman", ["--version"]);
  const major = Number(/version (\d+)\./.exec(v.stdout)?.[1]);
  if (!(major >= 3 && major <= 4)) return `podman ${v.stdout.trim() || v.stderr.trim()} has no CNI backend (podman 5 dropped it)`;
  return undefined;
}

/**
 * Debian's podman with a private configuration under a scratch directory: CNI backend with the agent's
 * bin dir and Debian's plugins, runc, cgroupfs, vfs storage, a busybox root filesystem. It runs in the
 * node's network namespace through nsenter --net (ip netns exec would remount /sys and hide the cgroup
 * mounts runc needs, and give podman a private mount namespace for its /run/netns mounts).
 */
class Podman {
  readonly scratch: string;
  readonly rootfs: string;
  readonly marker = `hello from podman ${randomBytes(4).toString("hex")}`;
  readonly #node: Node;
  readonly #env: NodeJS.ProcessEnv;

  private constructor(scratch: string, node: Node, agentDir: string) {
    this.scratch = scratch;
    this.#node = node;
    this.rootfs = join(scratch, "rootfs");
    for (const d of ["bin", "etc", "www", "tmp"]) mkdirSync(join(this.rootfs, d), { recursive: true });
    copyFileSync(BUSYBOX, join(this.rootfs, "bin", "busybox"));
    writeFileSync(join(this.rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    writeFileSync(join(this.rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    writeFileSync(join(this.rootfs, "www", "index.html"), `${this.marker}\n`);
    const netd = join(scratch, "net.d");
    mkdirSync(netd);
    copyFileSync(join(agentDir, "net.d", "10-aws.conflist"), join(netd, "10-aws.conflist"));
    for (const d of ["tmp", "run", "graph"]) mkdirSync(join(scratch, d));
    writeFileSync(
      join(scratch, "containers.conf"),
      [
        "[containers]",
        'netns = "bridge"',
        'log_driver = "k8s-file"',
        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
        "[engine]",
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = "${join(scratch, "events.log")}"`,
        'runtime = "runc"',
        `tmp_dir = "${join(scratch, "tmp")}"`,
        `volume_path = "${join(scratch, "graph", "volumes")}"`,
        `static_dir = "${join(scratch, "graph", "libpod")}"`,
        "[network]",
        'network_backend = "cni"',
        `cni_plugin_dirs = ["${node.binDir}", "/usr/lib/cni"]`,
        `network_config_dir = "${netd}"`,
        'default_network = "aws-cni"',
        "",
      ].join("\n"),
    );
    writeFileSync(join(scratch, "storage.conf"), ["[storage]", 'driver = "vfs"', `runroot = "${join(scratch, "run")}"`, `graphroot = "${join(scratch, "graph")}"`, ""].join("\n"));
    this.#env = { ...process.env, CONTAINERS_CONF: join(scratch, "containers.conf"), CONTAINERS_STORAGE_CONF: join(scratch, "storage.conf") };
  }

  /** A root filesystem of busybox and its applets (busybox --list names itself too: skipped). */
  static async create(scratch: string, node: Node, agentDir: string): Promise<Podman> {
    const podman = new Podman(scratch, node, agentDir);
    const list = await runCommand(BUSYBOX, ["--list"]);
    for (const applet of list.stdout.split("\n").filter((x) => x && x !== "busybox")) symlinkSync("busybox", join(podman.rootfs, "bin", applet));
    return podman;
  }

  run(args: string[]): Promise<CommandResult> {
    return runCommand("nsenter", [`--net=/run/netns/${this.#node.netns}`, "podman", ...args], { env: this.#env, timeoutMs: 90_000 });
  }

  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    assert.equal(r.code, 0, `podman ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /** Unmounts what podman left under the scratch dir (nothing, normally), removes it and the cgroups. */
  cleanup(cgroupParent: string): void {
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => m.startsWith(this.scratch))
      .sort()
      .reverse();
    for (const m of mounts) spawnSync("umount", ["-l", m], { stdio: "ignore" });
    rmSync(this.scratch, { recursive: true, force: true });
    for (const hierarchy of readdirSync("/sys/fs/cgroup")) {
      const top = join("/sys/fs/cgroup", hierarchy, cgroupParent);
      if (!existsSync(top)) continue;
      // cgroup directories go deepest first; one with a process in it stays (and fails nothing).
      const dirs = readdirSync(top, { recursive: true, withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(e.parentPath, e.name))
        .sort((x, y) => y.length - x.length);
      for (const d of [...dirs, top]) {
        try {
          rmdirSync(d);
        } catch {}
      }
    }
  }
}
