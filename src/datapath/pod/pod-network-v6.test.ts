// The IPv6 pod recipe (reference §5.3, §5.7) and egress-cni's IPv4 egress veth and SNAT (§1.4), in
// namespaces of the test's own: a "host" with an IPv6 address and IPv4 and IPv6 forwarding on, and pods
// made with `ip netns add`. Nothing touches the root namespace; every namespace of the run is removed.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { run } from "../exec.ts";
import { checkPodNetwork, setupPodNetwork, teardownPodNetwork } from "./index.ts";
import { egressHostVethName, setupEgressV4, teardownEgressV4, checkEgressV4 } from "./egress-v4.ts";
import { egressChainName, setupEgressSnat, teardownEgressSnat, egressSnatDrifts } from "./egress-snat.ts";
import { checkEgressV6, egressV6HostVethName, setupEgressV6, teardownEgressV6 } from "./egress-v6.ts";
import { podHostVethName } from "../veth-name.ts";
import { removeNamespaces, skipWithoutRoot } from "../node-netns.test-support.ts";

const skip = skipWithoutRoot();
const prefix = `p6-${randomBytes(4).toString("hex")}-`;
let counter = 0;
const HOST_V6 = "2600:1f10:4000:1::10";
const HOST_V4 = "10.0.1.10";

const ipIn = async (netns: string, args: readonly string[]) => (await run("ip", ["-n", netns, ...args])).stdout;
const lines = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");

async function createHost(): Promise<string> {
  const host = `${prefix}h${++counter}`;
  await run("ip", ["netns", "add", host]);
  await run("ip", ["-n", host, "-batch", "-"], { input: `link set lo up\naddr add ${HOST_V6}/128 dev lo\naddr add ${HOST_V4}/32 dev lo\n` });
  await run("ip", ["netns", "exec", host, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1", "net.ipv4.ip_forward=1"]);
  return host;
}

async function createPod(): Promise<{ name: string; path: string }> {
  const name = `${prefix}p${++counter}`;
  await run("ip", ["netns", "add", name]);
  await run("ip", ["-n", name, "link", "set", "lo", "up"]);
  return { name, path: `/run/netns/${name}` };
}

async function hostState(host: string) {
  return {
    links: lines(await ipIn(host, ["-o", "link", "show"])).map((l) => l.split(":")[1]?.trim().split("@")[0]).sort(),
    routes6: lines(await ipIn(host, ["-6", "route", "show", "table", "all"])).filter((l) => !l.includes("table local")).sort(),
    rules6: lines(await ipIn(host, ["-6", "rule", "show"])),
    routes4: lines(await ipIn(host, ["-4", "route", "show", "table", "all"])).filter((l) => !l.includes("table local")).sort(),
    nat6: lines((await run("ip", ["netns", "exec", host, "ip6tables-save", "-t", "nat"])).stdout).filter((l) => l.startsWith("-A") || (l.startsWith(":") && !/^:(PREROUTING|INPUT|OUTPUT|POSTROUTING) /.test(l))),
    nat: lines((await run("ip", ["netns", "exec", host, "iptables-save", "-t", "nat"])).stdout).filter((l) => l.startsWith("-A") || (l.startsWith(":") && !/^:(PREROUTING|INPUT|OUTPUT|POSTROUTING) /.test(l))),
  };
}

describe("IPv6 pod datapath", { skip }, () => {
  before(async () => removeNamespaces(prefix));
  after(async () => removeNamespaces(prefix));

  it("wires an IPv6 pod as the reference does (fe80::1, permanent neighbour, /128 and rule 512, no from-rule), answers at once, CHECK clean, DEL leaves nothing", async () => {
    const host = await createHost();
    const before = await hostState(host);
    const pod = await createPod();
    const address = "2600:1f10:4000:1:a::";
    const options = { netnsPath: pod.path, ifName: "eth0", hostVethName: podHostVethName("eni", "default", pod.name), address, routeTableId: 254, mtu: 9001, hostNetns: host };
    const result = await setupPodNetwork(options);

    const addr = lines(await ipIn(pod.name, ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "global"])).map((l) => l.replace(/\s*\\?\s+valid_lft.*$/, "").replace(/^\d+:\s+/, ""));
    assert.deepEqual(addr, [`eth0    inet6 ${address}/128 scope global nodad`]);
    const routes = lines(await ipIn(pod.name, ["-6", "route", "show"]));
    assert.ok(routes.includes("fe80::1 dev eth0 metric 1024 pref medium"), routes.join("\n"));
    assert.ok(routes.includes("default via fe80::1 dev eth0 metric 1024 pref medium"), routes.join("\n"));
    assert.deepEqual(lines(await ipIn(pod.name, ["-6", "neigh", "show"])), [`fe80::1 dev eth0 lladdr ${result.hostVeth.mac} PERMANENT`]);
    const after = await hostState(host);
    assert.ok(after.routes6.includes(`${address} dev ${options.hostVethName} metric 1024 pref medium`), after.routes6.join("\n"));
    assert.deepEqual(after.rules6, ["0:\tfrom all lookup local", `512:\tfrom all to ${address} lookup main`, "32766:\tfrom all lookup main"]);
    const sysctl = (key: string) => run("ip", ["netns", "exec", host, "sysctl", "-n", `net.ipv6.conf.${options.hostVethName}.${key}`]).then((r) => r.stdout.trim());
    assert.deepEqual(await Promise.all(["accept_ra", "accept_redirects", "forwarding", "accept_dad"].map(sysctl)), ["0", "1", "0", "0"]);

    // Both ways at once: no DAD wait on the pod's address, none on the host end's link-local.
    const ping = await run("ip", ["netns", "exec", pod.name, "ping", "-6", "-c", "1", "-W", "1", HOST_V6]);
    assert.match(ping.stdout, /1 received/);
    const back = await run("ip", ["netns", "exec", host, "ping", "-6", "-c", "1", "-W", "1", address]);
    assert.match(back.stdout, /1 received/);

    assert.deepEqual(await checkPodNetwork(options), []);
    await run("ip", ["-n", pod.name, "-6", "neigh", "del", "fe80::1", "dev", "eth0"]);
    await run("ip", ["-n", host, "-6", "rule", "del", "priority", "512"]);
    assert.deepEqual((await checkPodNetwork(options)).map((d) => d.item), ["neighbour", "to-rule"]);
    await run("ip", ["-n", host, "-6", "rule", "add", "to", address, "lookup", "main", "priority", "512"]);

    await teardownPodNetwork(options);
    await teardownPodNetwork(options); // DEL twice
    assert.deepEqual(await hostState(host), before);
  });

  it("egress-cni's IPv4 egress: v4if0 from 169.254.172.0/22, the gateway on the host end, SNAT to the node's IPv4; DEL leaves nothing", async () => {
    const host = await createHost();
    const before = await hostState(host);
    const pod = await createPod();
    const containerId = `c${randomBytes(6).toString("hex")}`;
    await setupEgressV4({ netnsPath: pod.path, containerId, address: "169.254.172.2", prefixLength: 22, gateway: "169.254.172.1", subnet: "169.254.172.0/22", mtu: 9001, hostNetns: host });
    const chain = await setupEgressSnat({ network: "aws-cni", containerId, address: "169.254.172.2", nodeIp: HOST_V4, randomize: "prng", hostNetns: host });
    assert.equal(chain, egressChainName("aws-cni", containerId));
    assert.equal(chain.length, 28);

    assert.deepEqual(lines(await ipIn(pod.name, ["-4", "route", "show"])), [
      "default via 169.254.172.1 dev v4if0",
      "169.254.172.0/22 via 169.254.172.1 dev v4if0 src 169.254.172.2",
      "169.254.172.1 dev v4if0 scope link src 169.254.172.2",
    ]);
    const hostVeth = egressHostVethName(containerId);
    assert.match(await ipIn(host, ["-4", "addr", "show", "dev", hostVeth]), /inet 169\.254\.172\.1\/32 scope link/);
    const nat = (await hostState(host)).nat;
    const comment = `-m comment --comment "name: \\"aws-cni\\" id: \\"${containerId}\\""`;
    assert.deepEqual(nat.filter((l) => l.includes(chain)), [
      `:${chain} - [0:0]`,
      `-A POSTROUTING -s 169.254.172.2/32 ${comment} -j ${chain}`,
      `-A ${chain} -d 224.0.0.0/4 ${comment} -j ACCEPT`,
      `-A ${chain} ${comment} -j SNAT --to-source ${HOST_V4} --random-fully`,
    ]);
    const ping = await run("ip", ["netns", "exec", pod.name, "ping", "-4", "-c", "1", "-W", "1", HOST_V4]);
    assert.match(ping.stdout, /1 received/);
    assert.deepEqual(await checkEgressV4({ containerId, address: "169.254.172.2", hostNetns: host }), []);
    assert.deepEqual(await egressSnatDrifts({ network: "aws-cni", containerId, address: "169.254.172.2", hostNetns: host }), []);
    // A repeated SNAT set-up is exact (no second jump).
    await setupEgressSnat({ network: "aws-cni", containerId, address: "169.254.172.2", nodeIp: HOST_V4, randomize: "none", hostNetns: host });
    assert.equal((await hostState(host)).nat.filter((l) => l.startsWith("-A POSTROUTING")).length, 1);

    await teardownEgressSnat({ network: "aws-cni", containerId, hostNetns: host });
    await teardownEgressV4({ containerId, hostNetns: host });
    await teardownEgressSnat({ network: "aws-cni", containerId, hostNetns: host });
    await teardownEgressV4({ containerId, hostNetns: host });
    assert.deepEqual(await hostState(host), before);
  });

  it("egress-cni's IPv6 egress (IPv4 pods, ENABLE_V6_EGRESS): v6if0 from fd00::ac:00/118 via the host end's link-local, SNAT to the node's IPv6; IPv6 off on the pod's eth0; DEL leaves nothing", async () => {
    const host = await createHost();
    const before = await hostState(host);
    const pod = await createPod();
    await run("ip", ["-n", pod.name, "link", "add", "eth0", "type", "dummy"]).catch(async () => run("ip", ["-n", pod.name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"]));
    const containerId = `c${randomBytes(6).toString("hex")}`;
    const wired = await setupEgressV6({ netnsPath: pod.path, containerId, podIfName: "eth0", address: "fd00::ac:2", prefixLength: 118, mtu: 9001, hostNetns: host });
    assert.match(wired.gateway, /^fe80:/);
    assert.equal(wired.hostVeth, egressV6HostVethName(containerId));
    const chain = await setupEgressSnat({ network: "aws-cni", containerId, address: "fd00::ac:2", nodeIp: HOST_V6, randomize: "prng", hostNetns: host });
    assert.match(chain, /^CNI-E6-[0-9a-f]{21}$/);
    assert.deepEqual(lines(await ipIn(pod.name, ["-6", "route", "show", "default"])), [`default via ${wired.gateway} dev v6if0 metric 1024 pref medium`]);
    assert.equal((await run("ip", ["netns", "exec", pod.name, "sysctl", "-n", "net.ipv6.conf.eth0.disable_ipv6"])).stdout.trim(), "1");
    const comment = `-m comment --comment "name: \\"aws-cni\\" id: \\"${containerId}\\""`;
    assert.deepEqual((await hostState(host)).nat6.filter((l) => l.includes(chain)), [
      `:${chain} - [0:0]`,
      `-A POSTROUTING -s fd00::ac:2/128 ${comment} -j ${chain}`,
      `-A ${chain} -d ff00::/8 ${comment} -j ACCEPT`,
      `-A ${chain} ${comment} -j SNAT --to-source ${HOST_V6} --random-fully`,
    ]);
    const ping = await run("ip", ["netns", "exec", pod.name, "ping", "-6", "-c", "1", "-W", "2", HOST_V6]);
    assert.match(ping.stdout, /1 received/);
    assert.deepEqual(await checkEgressV6({ containerId, address: "fd00::ac:2", hostNetns: host }), []);
    assert.deepEqual(await egressSnatDrifts({ network: "aws-cni", containerId, address: "fd00::ac:2", hostNetns: host }), []);
    await teardownEgressSnat({ network: "aws-cni", containerId, family: "6", hostNetns: host });
    await teardownEgressV6({ containerId, hostNetns: host });
    await teardownEgressV6({ containerId, hostNetns: host });
    assert.deepEqual(await hostState(host), before);
  });
});
