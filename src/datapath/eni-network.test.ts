// Per-ENI host networking (reference §5.2) in a namespace of our own: the exact rule and routes,
// idempotence, convergence from stale state, a link that appears late, and a teardown that leaves
// the namespace as it was.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { run } from "./exec.ts";
import { readNodeNetworkState, routeTableId, setupEniNetwork, teardownEniNetwork, DatapathInputError, LinkNotFoundError, type EniNetworkOptions } from "./index.ts";
import { addLink, createTestNode, removeNamespaces, runPrefix, skipWithoutRoot, ENI1_MAC, type TestNode } from "./node-netns.test-support.ts";

const skip = skipWithoutRoot();
const prefix = runPrefix();

const eni = (node: TestNode, extra: Partial<EniNetworkOptions> = {}): EniNetworkOptions => ({
  netns: node.netns,
  mac: ENI1_MAC,
  deviceNumber: 1,
  primaryIp: "10.0.2.10",
  subnetCidr: "10.0.2.0/24",
  linkWait: { attempts: 2, intervalMs: 50 },
  ...extra,
});

async function snapshot(node: TestNode) {
  const state = await readNodeNetworkState({ netns: node.netns });
  const addrs = (await run("ip", ["-n", node.netns, "-4", "-o", "addr", "show"])).stdout.split("\n").filter(Boolean).map((line) => line.replace(/\s+valid_lft.*$/, ""));
  return { rules: state.ruleLines, routes: state.routeLines, addrs };
}

describe("routeTableId (no root)", () => {
  it("follows the reference formula", () => {
    assert.equal(routeTableId(0), 254);
    assert.equal(routeTableId(1), 2);
    assert.equal(routeTableId(7), 8);
    assert.equal(routeTableId(2, 1), 10102);
  });
});

describe("setupEniNetwork", { skip }, () => {
  after(async () => {
    await removeNamespaces(prefix);
  });

  it("sets up table device+1, the from-rule at 32765, no connected route in main; idempotent; teardown restores", async () => {
    const node = await createTestNode(prefix);
    const before = await snapshot(node);
    const result = await setupEniNetwork(eni(node));
    assert.deepEqual(result, { ifname: "eth1", table: 2, gateway: "10.0.2.1" });
    const state = await snapshot(node);
    assert.deepEqual(state.rules, [
      "0:\tfrom all lookup local",
      "32765:\tfrom 10.0.2.10 lookup 2",
      "32766:\tfrom all lookup main",
      "32767:\tfrom all lookup default",
    ]);
    assert.deepEqual(state.routes, [
      "default via 10.0.2.1 dev eth1 table 2",
      "10.0.2.1 dev eth1 table 2 scope link",
      "default via 10.0.1.1 dev eth0",
      "10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.10",
      "local 10.0.1.10 dev eth0 table local proto kernel scope host src 10.0.1.10",
      "broadcast 10.0.1.255 dev eth0 table local proto kernel scope link src 10.0.1.10",
      "local 10.0.2.10 dev eth1 table local proto kernel scope host src 10.0.2.10",
      "broadcast 10.0.2.255 dev eth1 table local proto kernel scope link src 10.0.2.10",
    ]);
    assert.ok(state.addrs.some((line) => /eth1\s+inet 10\.0\.2\.10\/24 /.test(line)));
    const link = (await run("ip", ["-n", node.netns, "link", "show", "eth1"])).stdout;
    assert.match(link, /mtu 9001 /);
    assert.match(link, /[<,]UP[,>]/);

    await setupEniNetwork(eni(node));
    assert.deepEqual(await snapshot(node), state);

    await teardownEniNetwork(eni(node));
    assert.deepEqual(await snapshot(node), before);
    await teardownEniNetwork(eni(node));
    assert.deepEqual(await snapshot(node), before);
  });

  it("converges from stale state: foreign address, stray route in its table, rule to the wrong table", async () => {
    const node = await createTestNode(prefix);
    for (const args of [
      ["link", "set", "eth1", "up"],
      ["addr", "add", "10.0.9.9/24", "dev", "eth1"],
      ["route", "add", "192.0.2.0/24", "dev", "eth1", "table", "2"],
      ["rule", "add", "from", "10.0.2.10", "lookup", "7", "priority", "32765"],
    ]) {
      await run("ip", ["-n", node.netns, ...args]);
    }
    await setupEniNetwork(eni(node));
    const state = await snapshot(node);
    assert.deepEqual(state.rules.filter((line) => line.startsWith("32765:")), ["32765:\tfrom 10.0.2.10 lookup 2"]);
    assert.deepEqual(state.routes.filter((line) => line.includes("table 2")), [
      "default via 10.0.2.1 dev eth1 table 2",
      "10.0.2.1 dev eth1 table 2 scope link",
    ]);
    assert.ok(!state.addrs.some((line) => line.includes("10.0.9.9")));
    assert.ok(!state.routes.some((line) => line.startsWith("10.0.2.0/24")));
  });

  it("waits a bounded time for a link that appears late, and says which MAC is missing", async () => {
    const node = await createTestNode(prefix);
    const lateMac = "02:dd:00:00:00:12";
    const pending = setupEniNetwork(eni(node, { mac: lateMac, deviceNumber: 2, primaryIp: "10.0.3.10", subnetCidr: "10.0.3.0/24", linkWait: { attempts: 20, intervalMs: 50 } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await addLink(node, "eth2", lateMac);
    assert.deepEqual(await pending, { ifname: "eth2", table: 3, gateway: "10.0.3.1" });

    const started = Date.now();
    await assert.rejects(
      setupEniNetwork(eni(node, { mac: "02:dd:00:00:00:77", linkWait: { attempts: 3, intervalMs: 50 } })),
      (error: unknown) => error instanceof LinkNotFoundError && /02:dd:00:00:00:77/.test(error.message) && /3 times/.test(error.message),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it("refuses the primary ENI and malformed input before running anything", async () => {
    const node = await createTestNode(prefix);
    const before = await snapshot(node);
    await assert.rejects(setupEniNetwork(eni(node, { deviceNumber: 0 })), DatapathInputError);
    await assert.rejects(setupEniNetwork(eni(node, { primaryIp: "10.0.3.10" })), /not in its subnet/);
    await assert.rejects(setupEniNetwork(eni(node, { subnetCidr: "10.0.2.0/24 table 5" })), DatapathInputError);
    await assert.rejects(setupEniNetwork(eni(node, { mac: "02:dd:00:00:00:11 up" })), DatapathInputError);
    await assert.rejects(setupEniNetwork(eni(node, { mtu: 9002 })), DatapathInputError);
    assert.deepEqual(await snapshot(node), before);
  });
});
