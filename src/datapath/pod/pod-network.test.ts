// The pod datapath (reference §5.3/§5.4) in namespaces of the test's own: a "host" namespace with a
// dummy eth0 and forwarding on, and "pods" made with `ip netns add`. Nothing touches the root
// namespace's links, routes or rules; every namespace of the run (prefix pd-<hex>-) is removed in after().

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { run } from "../exec.ts";
import {
  checkPodNetwork,
  setupPodNetwork,
  teardownPodNetwork,
  NetnsNotFoundError,
  PodAddressInUseError,
  PodNetworkError,
  type PodNetworkOptions,
} from "./index.ts";
import { podHostVethName } from "../veth-name.ts";
import { DatapathInputError } from "../validate.ts";
import { removeNamespaces, skipWithoutRoot } from "../node-netns.test-support.ts";

const skip = skipWithoutRoot();
const prefix = `pd-${randomBytes(4).toString("hex")}-`;
let counter = 0;

async function ipIn(netns: string, args: readonly string[]): Promise<string> {
  return (await run("ip", ["-n", netns, ...args])).stdout;
}

/** A node-like host namespace: lo and an eth0 (a veth: this kernel has no dummy driver) with an address, IPv4 forwarding on. */
async function createHost(): Promise<string> {
  const host = `${prefix}h${++counter}`;
  await run("ip", ["netns", "add", host]);
  await run("ip", ["-n", host, "-batch", "-"], {
    input: "link set lo up\nlink add eth0 type veth peer name eth0p\nlink set eth0p up\naddr add 10.0.1.10/24 dev eth0\nlink set eth0 up\n",
  });
  await run("ip", ["netns", "exec", host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  return host;
}

async function createPod(): Promise<{ name: string; path: string }> {
  const name = `${prefix}p${++counter}`;
  await run("ip", ["netns", "add", name]);
  return { name, path: `/run/netns/${name}` };
}

const lines = (text: string) => text.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "");

/** Everything of the host a pod could leave behind: links, every route, every rule. */
async function hostSnapshot(host: string) {
  return {
    links: lines(await ipIn(host, ["-o", "link", "show"])).map((line) => line.split(":")[1]?.trim().split("@")[0]),
    // Sorted: the kernel lists routes in its own (trie) order, which is not insertion order.
    routes: lines(await ipIn(host, ["-4", "route", "show", "table", "all"])).sort(),
    rules: lines(await ipIn(host, ["-4", "rule", "show"])),
  };
}

function podOptions(host: string, pod: { name: string; path: string }, address: string, routeTableId = 254): PodNetworkOptions {
  return {
    netnsPath: pod.path,
    ifName: "eth0",
    hostVethName: podHostVethName("eni", "default", pod.name),
    address,
    routeTableId,
    mtu: 9001,
    hostNetns: host,
  };
}

describe("podHostVethName (no root)", () => {
  it("is the reference's <prefix><11 hex of sha1(ns.name)>", () => {
    // `echo -n default.nginx | sha1sum` = c440f455693b69cd…
    assert.equal(podHostVethName("eni", "default", "nginx"), "enic440f455693");
    assert.equal(podHostVethName("eni", "default", "nginx").length, 14);
    assert.notEqual(podHostVethName("eni", "default", "nginx", 1), podHostVethName("eni", "default", "nginx"));
    assert.throws(() => podHostVethName("toolong", "a", "b"), DatapathInputError);
  });
});

describe("pod datapath input validation (no root)", () => {
  it("refuses malformed values before running anything", async () => {
    const base: PodNetworkOptions = { netnsPath: "/run/netns/x", ifName: "eth0", hostVethName: "eni0123456789a", address: "10.0.0.5", routeTableId: 2, mtu: 9001 };
    for (const bad of [
      { netnsPath: "relative/path" },
      { ifName: "eth0 up" },
      { hostVethName: "-eni" },
      { address: "10.0.0.5/32" },
      { address: "10.0.0.5\nlink del eth0" },
      { routeTableId: 255 },
      { routeTableId: 0 },
      { mtu: 70000 },
    ]) {
      await assert.rejects(setupPodNetwork({ ...base, ...bad }), DatapathInputError, JSON.stringify(bad));
    }
    await assert.rejects(teardownPodNetwork({ address: "10.0.0.5 table 3", routeTableId: 2 }), DatapathInputError);
  });
});

describe("pod datapath", { skip }, () => {
  before(async () => {
    // A previous run killed mid-way may have left namespaces of its own prefix; ours is fresh.
    await removeNamespaces(prefix);
  });
  after(async () => {
    await removeNamespaces(prefix);
  });

  it("sets up the exact layout on a secondary ENI (from-rule at 1536) and on the primary (none); check() is clean", async () => {
    const host = await createHost();
    const before = await hostSnapshot(host);
    const pod = await createPod();
    const options = podOptions(host, pod, "10.0.2.5", 3);
    const result = await setupPodNetwork(options);
    assert.equal(result.hostVeth.name, options.hostVethName);
    assert.match(result.hostVeth.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.equal(Number.parseInt(result.hostVeth.mac.slice(0, 2), 16) & 0x03, 0x02, "locally administered unicast");
    assert.deepEqual(result.podInterface.name, "eth0");

    const addr = lines(await ipIn(pod.name, ["-4", "-o", "addr", "show", "dev", "eth0"])).map((line) => line.replace(/\s*\\?\s+valid_lft.*$/, "").replace(/^\d+:\s+/, ""));
    assert.deepEqual(addr, ["eth0    inet 10.0.2.5/32 scope global eth0"]);
    assert.deepEqual(lines(await ipIn(pod.name, ["-4", "route", "show", "table", "all"])).filter((line) => !line.includes("table local")), [
      "default via 169.254.1.1 dev eth0",
      "169.254.1.1 dev eth0 scope link",
    ]);
    assert.deepEqual(lines(await ipIn(pod.name, ["-4", "neigh", "show"])), [`169.254.1.1 dev eth0 lladdr ${result.hostVeth.mac} PERMANENT`]);
    const podLink = await ipIn(pod.name, ["link", "show", "eth0"]);
    assert.match(podLink, /mtu 9001 /);
    assert.match(podLink, new RegExp(`link/ether ${result.podInterface.mac} `));

    const hostLink = await ipIn(host, ["link", "show", options.hostVethName]);
    assert.match(hostLink, /[<,]UP[,>]/);
    assert.match(hostLink, /mtu 9001 /);
    assert.match(hostLink, new RegExp(`link/ether ${result.hostVeth.mac} `));
    const after = await hostSnapshot(host);
    assert.deepEqual(after.routes, [`10.0.2.5 dev ${options.hostVethName} scope link`, ...before.routes].sort());
    assert.deepEqual(after.rules, ["0:\tfrom all lookup local", "512:\tfrom all to 10.0.2.5 lookup main", "1536:\tfrom 10.0.2.5 lookup 3", "32766:\tfrom all lookup main", "32767:\tfrom all lookup default"]);
    const sysctl = (await run("ip", ["netns", "exec", host, "sysctl", "-n", `net.ipv6.conf.${options.hostVethName}.accept_ra`, `net.ipv6.conf.${options.hostVethName}.accept_redirects`, `net.ipv6.conf.${options.hostVethName}.forwarding`])).stdout;
    assert.deepEqual(lines(sysctl), ["0", "1", "0"]);
    assert.deepEqual(await checkPodNetwork(options), []);

    const primaryPod = await createPod();
    const primary = podOptions(host, primaryPod, "10.0.1.20", 254);
    await setupPodNetwork(primary);
    const rules = (await hostSnapshot(host)).rules;
    assert.deepEqual(rules.filter((line) => line.includes("10.0.1.20")), ["512:\tfrom all to 10.0.1.20 lookup main"]);
    assert.deepEqual(await checkPodNetwork(primary), []);
  });

  it("two pods ping each other through the host, each seen with its own address", async () => {
    const host = await createHost();
    const [a, b] = [await createPod(), await createPod()];
    await setupPodNetwork(podOptions(host, a, "10.0.1.21"));
    await setupPodNetwork(podOptions(host, b, "10.0.2.22", 3));
    const ping = await run("ip", ["netns", "exec", a.name, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.0.2.22"]);
    assert.match(ping.stdout, /2 received/);
    assert.match(ping.stdout, /from 10\.0\.2\.22/);
    await run("ip", ["netns", "exec", b.name, "ping", "-c", "1", "-W", "2", "10.0.1.21"]);

    // The receiver sees the sender's pod address (routed, no NAT): a UDP datagram's source.
    const server = `const s=require("node:dgram").createSocket("udp4");s.on("message",(m,r)=>{console.log(r.address);process.exit(0)});s.bind(9999,"10.0.2.22",()=>console.log("ready"));setTimeout(()=>process.exit(3),5000)`;
    const child = spawn("ip", ["netns", "exec", b.name, process.execPath, "-e", server], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const ready = new Promise<void>((resolve) => child.stdout.on("data", (chunk: Buffer) => { out += chunk.toString(); if (out.includes("ready")) resolve(); }));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await ready;
    await run("ip", ["netns", "exec", a.name, process.execPath, "-e", `require("node:dgram").createSocket("udp4").send("hi",9999,"10.0.2.22",(e)=>process.exit(e?1:0))`]);
    assert.equal(await exited, 0);
    assert.deepEqual(lines(out), ["ready", "10.0.1.21"]);
  });

  it("teardown leaves the host exactly as before; twice, after the netns is gone, with an empty netnsPath", async () => {
    const host = await createHost();
    const before = await hostSnapshot(host);
    const pod = await createPod();
    const options = podOptions(host, pod, "10.0.2.30", 3);
    await setupPodNetwork(options);
    const del = { address: options.address, routeTableId: 3, hostVethName: options.hostVethName, netnsPath: pod.path, ifName: "eth0", hostNetns: host };
    await teardownPodNetwork(del);
    assert.deepEqual(await hostSnapshot(host), before, "the pod's end deleted inside its live netns took the host end with it");
    assert.deepEqual(lines(await ipIn(pod.name, ["-o", "link", "show"])).length, 1, "only lo left in the pod");
    await teardownPodNetwork(del);
    assert.deepEqual(await hostSnapshot(host), before);

    // The netns deleted first (the runtime's order after a crash): the veth died with it.
    await setupPodNetwork(options);
    await run("ip", ["netns", "del", pod.name]);
    await teardownPodNetwork(del);
    // The kernel destroys an unreferenced namespace (and so the veth) asynchronously.
    for (let i = 0; i < 100 && (await hostSnapshot(host)).links.length > before.links.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await hostSnapshot(host), before);
    await teardownPodNetwork(del);

    // Empty CNI_NETNS and nothing known but the address and table (prevResult-less DEL).
    const other = await createPod();
    const otherOptions = podOptions(host, other, "10.0.2.31", 3);
    await setupPodNetwork(otherOptions);
    await teardownPodNetwork({ address: "10.0.2.31", routeTableId: 3, netnsPath: "", hostNetns: host });
    const snapshot = await hostSnapshot(host);
    assert.deepEqual(snapshot.rules, before.rules);
    assert.deepEqual(snapshot.routes, before.routes);
    assert.deepEqual(snapshot.links, [...before.links, otherOptions.hostVethName], "without the netns the veth is left to die with it, as in the reference");
    await teardownPodNetwork({ address: "10.0.2.31", routeTableId: 3, hostNetns: host });
  });

  it("teardown never deletes an interface that does not carry the pod's address (CNI_NETNS naming the host's or another pod's namespace)", async () => {
    const host = await createHost();
    const before = await hostSnapshot(host);
    const pod = await createPod();
    const options = podOptions(host, pod, "10.0.2.35", 3);
    await setupPodNetwork(options);
    // A /proc/PID/ns/net whose PID now belongs to another namespace: here, the host's own, whose eth0
    // is the node's primary interface, and another pod's.
    const other = await createPod();
    await setupPodNetwork(podOptions(host, other, "10.0.2.36", 3));
    for (const victim of [`/run/netns/${host}`, other.path]) {
      await teardownPodNetwork({ address: options.address, routeTableId: 3, hostVethName: options.hostVethName, netnsPath: victim, ifName: "eth0", hostNetns: host });
      assert.match(await ipIn(victim.slice("/run/netns/".length), ["link", "show", "eth0"]), /eth0/, `eth0 in ${victim} survives`);
    }
    assert.deepEqual(await checkPodNetwork(podOptions(host, other, "10.0.2.36", 3)), []);
    await teardownPodNetwork({ address: "10.0.2.36", routeTableId: 3, netnsPath: other.path, ifName: "eth0", hostNetns: host });
    await run("ip", ["netns", "del", pod.name]);
    for (let i = 0; i < 100 && (await hostSnapshot(host)).links.length > before.links.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(await hostSnapshot(host), before);
  });

  it("does not cut off a newer sandbox of the same pod (same host veth name) when the old one's DEL arrives late", async () => {
    const host = await createHost();
    const [oldSandbox, newSandbox] = [await createPod(), await createPod()];
    const name = podHostVethName("eni", "default", "same-pod");
    await setupPodNetwork({ ...podOptions(host, oldSandbox, "10.0.2.40", 3), hostVethName: name });
    // The new sandbox's ADD deletes the stale host link (reference) and takes the name.
    const fresh = { ...podOptions(host, newSandbox, "10.0.2.41", 3), hostVethName: name };
    await setupPodNetwork(fresh);
    await teardownPodNetwork({ address: "10.0.2.40", routeTableId: 3, hostVethName: name, netnsPath: oldSandbox.path, ifName: "eth0", hostNetns: host });
    assert.deepEqual(await checkPodNetwork(fresh), []);
  });

  it("rolls back: an address another pod has, a missing netns, a taken ifName; a stale host link and a stale rule are taken over", async () => {
    const host = await createHost();
    const first = await createPod();
    await setupPodNetwork(podOptions(host, first, "10.0.2.50", 3));
    const before = await hostSnapshot(host);

    const second = await createPod();
    const conflicting = podOptions(host, second, "10.0.2.50", 3);
    await assert.rejects(setupPodNetwork(conflicting), (error: unknown) => {
      assert.ok(error instanceof PodAddressInUseError, String(error));
      assert.equal(error.step, "host-route");
      assert.equal(error.holder, podOptions(host, first, "x").hostVethName);
      assert.deepEqual(error.rollbackErrors, []);
      return true;
    });
    assert.deepEqual(await hostSnapshot(host), before, "the other pod's identical rules were not ours to remove");
    assert.equal(lines(await ipIn(second.name, ["-o", "link", "show"])).length, 1);
    assert.deepEqual(await checkPodNetwork(podOptions(host, first, "10.0.2.50", 3)), []);

    await assert.rejects(setupPodNetwork({ ...conflicting, netnsPath: `/run/netns/${prefix}missing`, address: "10.0.2.51" }), (error: unknown) => {
      assert.ok(error instanceof NetnsNotFoundError);
      assert.match(error.message, /does not exist/);
      return true;
    });
    await assert.rejects(checkPodNetwork({ ...conflicting, netnsPath: `/run/netns/${prefix}missing` }), NetnsNotFoundError);

    await ipIn(second.name, ["link", "add", "eth0", "type", "veth", "peer", "name", "taken"]);
    await assert.rejects(setupPodNetwork({ ...conflicting, address: "10.0.2.52" }), (error: unknown) => error instanceof PodNetworkError && error.step === "veth" && /File exists/.test(error.message));
    assert.deepEqual(await hostSnapshot(host), before);
    await ipIn(second.name, ["link", "del", "eth0"]);

    // A leftover host link of this name (stale sandbox) and a leftover identical 512 rule.
    await ipIn(host, ["link", "add", conflicting.hostVethName, "type", "veth", "peer", "name", "stalepeer"]);
    await ipIn(host, ["rule", "add", "to", "10.0.2.53/32", "lookup", "main", "priority", "512"]);
    const options = { ...conflicting, address: "10.0.2.53" };
    const result = await setupPodNetwork(options);
    assert.deepEqual(await checkPodNetwork(options), []);
    assert.match(await ipIn(host, ["-d", "link", "show", options.hostVethName]), new RegExp(`${result.hostVeth.mac}[\\s\\S]*veth`));
    await teardownPodNetwork({ ...options, hostNetns: host });
    assert.deepEqual(await hostSnapshot(host), before);
  });

  it("check() names each drift introduced by hand", async () => {
    const host = await createHost();
    const pod = await createPod();
    const options = podOptions(host, pod, "10.0.2.60", 3);
    const result = await setupPodNetwork(options);
    const veth = options.hostVethName;
    const items = async () => (await checkPodNetwork(options)).map((drift) => drift.item);

    await ipIn(host, ["rule", "del", "from", "10.0.2.60/32", "lookup", "3", "priority", "1536"]);
    assert.deepEqual(await items(), ["from-rule"]);
    await ipIn(host, ["rule", "del", "to", "10.0.2.60/32", "lookup", "main", "priority", "512"]);
    assert.deepEqual(await items(), ["to-rule", "from-rule"]);
    await ipIn(host, ["route", "del", "10.0.2.60/32", "dev", veth]);
    assert.deepEqual(await items(), ["host-route", "to-rule", "from-rule"]);
    await ipIn(pod.name, ["neigh", "replace", "169.254.1.1", "lladdr", "02:00:00:00:00:99", "nud", "permanent", "dev", "eth0"]);
    const drifts = await checkPodNetwork(options);
    const neighbour = drifts.find((drift) => drift.item === "neighbour");
    assert.ok(neighbour !== undefined);
    assert.match(neighbour.expected, new RegExp(result.hostVeth.mac));
    assert.match(neighbour.found, /02:00:00:00:00:99/);
    await ipIn(pod.name, ["route", "del", "default"]);
    assert.deepEqual(await items(), ["pod-default-route", "neighbour", "host-route", "to-rule", "from-rule"]);
    await ipIn(pod.name, ["route", "del", "169.254.1.1/32", "dev", "eth0"]);
    assert.deepEqual(await items(), ["pod-gateway-route", "pod-default-route", "neighbour", "host-route", "to-rule", "from-rule"]);
    await ipIn(pod.name, ["addr", "del", "10.0.2.60/32", "dev", "eth0"]);
    await ipIn(host, ["link", "set", veth, "down"]);
    assert.deepEqual(await items(), ["pod-address", "pod-gateway-route", "pod-default-route", "host-veth", "neighbour", "host-route", "to-rule", "from-rule"]);
    await ipIn(host, ["rule", "add", "from", "10.0.2.60/32", "lookup", "7", "priority", "1536"]);
    assert.equal((await checkPodNetwork(options)).find((drift) => drift.item === "from-rule")?.found, "lookup 7");
  });

  it("30 setups in parallel, then 30 teardowns, leave nothing behind", async () => {
    const host = await createHost();
    const before = await hostSnapshot(host);
    const pods = await Promise.all(Array.from({ length: 30 }, () => createPod()));
    const options = pods.map((pod, index) => podOptions(host, pod, `10.0.${2 + (index % 3)}.${100 + index}`, index % 3 === 0 ? 254 : 2 + (index % 3)));
    const started = Date.now();
    const results = await Promise.all(options.map((option) => setupPodNetwork(option)));
    const setupMs = Date.now() - started;
    assert.equal(new Set(results.map((result) => result.hostVeth.mac)).size, 30);
    const during = await hostSnapshot(host);
    assert.equal(during.links.length, before.links.length + 30);
    assert.equal(during.rules.filter((line) => line.startsWith("512:")).length, 30);
    assert.equal(during.rules.filter((line) => line.startsWith("1536:")).length, 20);
    const drifts = await Promise.all(options.map((option) => checkPodNetwork(option)));
    assert.deepEqual(drifts.flat(), []);
    const started2 = Date.now();
    await Promise.all(options.map((option) => teardownPodNetwork({ ...option, ifName: "eth0" })));
    const teardownMs = Date.now() - started2;
    assert.deepEqual(await hostSnapshot(host), before);
    assert.ok(setupMs < 10_000 && teardownMs < 10_000, `setup ${setupMs} ms, teardown ${teardownMs} ms`);
  });

  it("production path: the host is the process's own namespace; a /proc/PID/ns/net pod path (nsenter)", async () => {
    const host = await createHost();
    const before = await hostSnapshot(host);
    const fixture = fileURLToPath(new URL("./own-namespace.test-support.ts", import.meta.url));
    const podNs = await createPod();
    // A process holding the pod namespace, reached by /proc/PID/ns/net as docker and CRI-O pass it.
    const holder = spawn("ip", ["netns", "exec", podNs.name, "sleep", "60"], { stdio: "ignore" });
    try {
      const netnsPath = `/proc/${holder.pid}/ns/net`;
      const pod = { netnsPath, ifName: "eth0", hostVethName: podHostVethName("eni", "default", podNs.name), address: "10.0.2.70", routeTableId: 3, mtu: 9001 };
      // From a runtime's minimal environment: a PATH without ip's or nsenter's directory.
      const { stdout } = await run("ip", ["netns", "exec", host, "env", "PATH=/nonexistent", process.execPath, fixture, JSON.stringify({ pod, rounds: 10, keep: true })]);
      const report = JSON.parse(stdout) as { result: { hostVeth: { mac: string } }; drifts: unknown[]; addMs: number[]; delMs: number[] };
      assert.deepEqual(report.drifts, []);
      assert.equal(report.addMs.length, 10);
      const sorted = (values: number[]) => [...values].sort((x, y) => x - y);
      const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)] ?? NaN;
      console.log(`# production path: ADD p50 ${median(report.addMs).toFixed(1)} ms, DEL p50 ${median(report.delMs).toFixed(1)} ms (in-process, ${report.addMs.length} rounds)`);
      // The last ADD is still in place: the same layout as with hostNetns, sysctls written via /proc/sys.
      assert.deepEqual(await checkPodNetwork({ ...pod, hostNetns: host }), []);
      const sysctl = (await run("ip", ["netns", "exec", host, "sysctl", "-n", `net.ipv6.conf.${pod.hostVethName}.accept_ra`])).stdout;
      assert.equal(sysctl.trim(), "0");
      await run("ip", ["netns", "exec", host, "env", "PATH=/nonexistent", process.execPath, "-e", `import(${JSON.stringify(new URL("./index.ts", import.meta.url).href)}).then((m) => m.teardownPodNetwork(${JSON.stringify(pod)}))`]);
      assert.deepEqual(await hostSnapshot(host), before);
    } finally {
      holder.kill("SIGKILL");
    }
  });
});
