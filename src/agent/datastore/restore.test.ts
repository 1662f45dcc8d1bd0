import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointFormatError } from "./checkpoint-format.ts";
import { CheckpointFile } from "./checkpoint.ts";
import { Datastore, DatastoreError } from "./datastore.ts";
import { CheckpointVersionError, restoreCheckpoint } from "./restore.ts";
import { key, TEST_EPOCH_MS } from "./datastore.test-support.ts";
import { VirtualScheduler } from "../../time/virtual-scheduler.ts";
import { podHostVethName as hostVethName } from "../../datapath/veth-name.ts";

// A checkpoint as aws-node leaves it on an m5.large that ran for a while:
// 19-digit nanosecond timestamps, a pod from before interfacesCount existed,
// an entry migrated from CRI (no metadata), a /28-prefix pod next to /32 ones.
const AWS_NODE_FILE =
  '{"version":"vpc-cni-ipam/1","allocations":[' +
  '{"networkName":"aws-cni","containerID":"3f1c9a1e0b7d4e2f8a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f","ifName":"eth0","ipv4":"192.168.29.140","allocationTimestamp":1718023456789012345,"metadata":{"k8sPodNamespace":"kube-system","k8sPodName":"coredns-5d78c9869d-abcde","interfacesCount":1}},' +
  '{"networkName":"aws-cni","containerID":"a0b1c2d3e4f5","ifName":"eth0","ipv4":"192.168.7.49","allocationTimestamp":1718023501000000001,"metadata":{"k8sPodNamespace":"default","k8sPodName":"nginx"}},' +
  '{"networkName":"_migrated-from-cri","containerID":"9e8d7c6b5a49","ifName":"unknown","ipv4":"192.168.30.5","allocationTimestamp":1609459200123456789,"metadata":{}},' +
  '{"networkName":"aws-cni","containerID":"77aa88bb99cc","ifName":"eth0","ipv4":"192.168.30.6","allocationTimestamp":1718029999999999999,"metadata":{"k8sPodNamespace":"prod","k8sPodName":"api-7f9c6b7d8-x2x4z","interfacesCount":1}}' +
  "]}\n";

const LIVE_PODS = new Set([
  hostVethName("eni", "kube-system", "coredns-5d78c9869d-abcde"),
  hostVethName("eni", "default", "nginx"),
  hostVethName("eni", "prod", "api-7f9c6b7d8-x2x4z"),
]);

interface Node {
  dir: string;
  file: CheckpointFile;
  ds: Datastore;
  clock: VirtualScheduler;
}

/** The node's ENIs and CIDRs as init rebuilds them from IMDS, with the checkpoint wired to a real file. */
function node(dir: string, text?: string): Node {
  const file = new CheckpointFile(join(dir, "ipam.json"));
  if (text !== undefined) writeFileSync(file.path, text);
  const clock = new VirtualScheduler({ start: TEST_EPOCH_MS });
  const ds = new Datastore({ now: clock.now, persist: (d) => file.write(d) });
  ds.addEni({ id: "eni-0a1b2c3d4e5f60718", deviceNumber: 0, routeTableId: 254, isPrimary: true });
  ds.addEni({ id: "eni-0f1e2d3c4b5a69788", deviceNumber: 1, routeTableId: 2 });
  for (const ip of ["192.168.29.140", "192.168.30.5", "192.168.30.6", "192.168.30.7"]) ds.addCidr("eni-0a1b2c3d4e5f60718", `${ip}/32`);
  ds.addCidr("eni-0f1e2d3c4b5a69788", "192.168.7.48/28");
  return { dir, file, ds, clock };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-restore-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const everyLinkExists = { hostLinkExists: () => true };

test("an aws-node checkpoint is adopted as is and rewritten byte for byte", async () => {
  await withDir(async (dir) => {
    const n = node(dir, AWS_NODE_FILE);
    const report = await restoreCheckpoint(n.ds, n.file, { hostLinkExists: (name) => LIVE_PODS.has(name) });
    assert.equal(report.fresh, false);
    assert.deepEqual(report.pruned, []);
    assert.deepEqual(report.dropped, []);
    assert.deepEqual(
      report.adopted.map((a) => [a.address, a.eniId, a.assignedAtNs]),
      [
        ["192.168.29.140", "eni-0a1b2c3d4e5f60718", 1718023456789012345n],
        ["192.168.7.49", "eni-0f1e2d3c4b5a69788", 1718023501000000001n],
        ["192.168.30.5", "eni-0a1b2c3d4e5f60718", 1609459200123456789n],
        ["192.168.30.6", "eni-0a1b2c3d4e5f60718", 1718029999999999999n],
      ],
    );
    assert.equal(readFileSync(n.file.path, "utf8"), AWS_NODE_FILE);

    // The adopted pods behave like ours: a retried ADD gets its address back,
    // a DEL through the legacy key finds the migrated entry, new pods avoid them.
    const coredns = { networkName: "aws-cni", containerID: "3f1c9a1e0b7d4e2f8a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f", ifName: "eth0" };
    assert.equal(n.ds.assign(coredns).address, "192.168.29.140");
    assert.equal(n.ds.release(key("9e8d7c6b5a49"))?.address, "192.168.30.5");
    assert.equal(n.ds.assign(key("new")).address, "192.168.30.7");
  });
});

test("unknown fields are tolerated and dropped on the rewrite, as the reference does", async () => {
  await withDir(async (dir) => {
    const withExtras = AWS_NODE_FILE.replace('{"version":"vpc-cni-ipam/1",', '{"version":"vpc-cni-ipam/1","writer":"aws-node v1.19.2",').replace(
      '"ifName":"eth0","ipv4":"192.168.7.49"',
      '"ifName":"eth0","podUID":"0b6d…","ipv4":"192.168.7.49"',
    );
    const n = node(dir, withExtras);
    const report = await restoreCheckpoint(n.ds, n.file, everyLinkExists);
    assert.equal(report.adopted.length, 4);
    assert.equal(readFileSync(n.file.path, "utf8"), AWS_NODE_FILE);
  });
});

test("pods whose veth is gone are pruned; entries without namespace/name are kept unchecked", async () => {
  await withDir(async (dir) => {
    const n = node(dir, AWS_NODE_FILE);
    const asked: [string, string][] = [];
    const report = await restoreCheckpoint(n.ds, n.file, {
      // Asynchronous, as a netlink query would be; only coredns is still running.
      hostLinkExists: async (name, suffix) => {
        asked.push([name, suffix]);
        return name === hostVethName("eni", "kube-system", "coredns-5d78c9869d-abcde");
      },
    });
    assert.equal(asked.length, 3, "the metadata-less entry is not looked up");
    assert.deepEqual(asked[1], ["enic440f455693", "c440f455693"]);
    assert.deepEqual(
      report.pruned.map((p) => [p.address, p.vethName]),
      [
        ["192.168.7.49", "enic440f455693"],
        ["192.168.30.6", hostVethName("eni", "prod", "api-7f9c6b7d8-x2x4z")],
      ],
    );
    assert.deepEqual(
      report.adopted.map((a) => a.address),
      ["192.168.29.140", "192.168.30.5"],
    );
    const rewritten = n.file.read();
    assert.deepEqual(rewritten?.allocations.map((e) => e.ipv4), ["192.168.29.140", "192.168.30.5"]);
    // Pruned addresses are free again.
    assert.equal(n.ds.stats().assignedIPs, 2);
  });
});

test("a custom veth prefix is used for the lookup", async () => {
  await withDir(async (dir) => {
    const n = node(dir, AWS_NODE_FILE);
    const names: string[] = [];
    await restoreCheckpoint(n.ds, n.file, { vethPrefix: "cali", hostLinkExists: (name) => (names.push(name), true) });
    assert.ok(names.every((name) => name.startsWith("cali") && name.length === 15));
  });
});

test("entries whose address lies in no known CIDR, or is missing or malformed, are dropped and reported", async () => {
  await withDir(async (dir) => {
    const text =
      '{"version":"vpc-cni-ipam/1","allocations":[' +
      '{"networkName":"aws-cni","containerID":"gone-eni","ifName":"eth0","ipv4":"192.168.99.9","allocationTimestamp":1,"metadata":{}},' +
      '{"networkName":"aws-cni","containerID":"v6-only","ifName":"eth0","ipv6":"2600::1","allocationTimestamp":2,"metadata":{}},' +
      '{"networkName":"aws-cni","containerID":"bad","ifName":"eth0","ipv4":"192.168.030.5","allocationTimestamp":3,"metadata":{}},' +
      '{"networkName":"aws-cni","containerID":"ok","ifName":"eth0","ipv4":"192.168.30.7","allocationTimestamp":4,"metadata":{}}' +
      "]}\n";
    const n = node(dir, text);
    const report = await restoreCheckpoint(n.ds, n.file, everyLinkExists);
    assert.deepEqual(
      report.dropped.map((d) => [d.entry.containerID, d.address, d.reason]),
      [
        ["gone-eni", "192.168.99.9", "unknown-address"],
        ["v6-only", "", "no-address-of-family"],
        ["bad", "192.168.030.5", "invalid-address"],
      ],
    );
    assert.deepEqual(report.adopted.map((a) => a.key.containerID), ["ok"]);
    assert.deepEqual(n.file.read()?.allocations.map((e) => e.containerID), ["ok"]);
  });
});

test("an address claimed twice is an error that changes nothing, unless one claim is pruned first", async () => {
  const twice =
    '{"version":"vpc-cni-ipam/1","allocations":[' +
    '{"networkName":"aws-cni","containerID":"c1","ifName":"eth0","ipv4":"192.168.30.5","allocationTimestamp":1,"metadata":{"k8sPodNamespace":"default","k8sPodName":"a"}},' +
    '{"networkName":"aws-cni","containerID":"c2","ifName":"eth0","ipv4":"192.168.30.5","allocationTimestamp":2,"metadata":{"k8sPodNamespace":"default","k8sPodName":"b"}}' +
    "]}\n";
  await withDir(async (dir) => {
    const n = node(dir, twice);
    await assert.rejects(
      restoreCheckpoint(n.ds, n.file, everyLinkExists),
      (err: unknown) => err instanceof DatastoreError && err.code === "address-claimed-twice" && err.message.includes("192.168.30.5"),
    );
    assert.deepEqual(n.ds.allocations(), []);
    assert.equal(readFileSync(n.file.path, "utf8"), twice);
  });
  await withDir(async (dir) => {
    const n = node(dir, twice);
    const report = await restoreCheckpoint(n.ds, n.file, { hostLinkExists: (name) => name === hostVethName("eni", "default", "b") });
    assert.deepEqual(report.adopted.map((a) => a.key.containerID), ["c2"]);
  });
});

test("a wrong version is an error naming it; nothing changes", async () => {
  await withDir(async (dir) => {
    const text = AWS_NODE_FILE.replace("vpc-cni-ipam/1", "vpc-cni-ipam/2");
    const n = node(dir, text);
    await assert.rejects(
      restoreCheckpoint(n.ds, n.file, everyLinkExists),
      (err: unknown) => err instanceof CheckpointVersionError && err.version === "vpc-cni-ipam/2" && /"vpc-cni-ipam\/2".*"vpc-cni-ipam\/1"/.test(err.message),
    );
    assert.deepEqual(n.ds.allocations(), []);
    assert.equal(readFileSync(n.file.path, "utf8"), text);
  });
});

test("a corrupt or truncated file is a clear error; the file and the datastore are untouched", async () => {
  await withDir(async (dir) => {
    const truncated = AWS_NODE_FILE.slice(0, 300);
    const n = node(dir, truncated);
    await assert.rejects(
      restoreCheckpoint(n.ds, n.file, everyLinkExists),
      (err: unknown) => err instanceof CheckpointFormatError && err.message.includes(n.file.path) && /truncated or corrupt/.test(err.message),
    );
    assert.deepEqual(n.ds.allocations(), []);
    assert.equal(readFileSync(n.file.path, "utf8"), truncated);
    assert.deepEqual(readdirSync(dir), ["ipam.json"]);
  });
});

test("no file is a fresh node; the empty checkpoint is written at once", async () => {
  await withDir(async (dir) => {
    const n = node(dir);
    const report = await restoreCheckpoint(n.ds, n.file, everyLinkExists);
    assert.deepEqual(report, { path: n.file.path, fresh: true, adopted: [], pruned: [], dropped: [] });
    assert.equal(readFileSync(n.file.path, "utf8"), '{"version":"vpc-cni-ipam/1","allocations":[]}\n');
  });
});

test("if the rewrite fails the restore fails and adopts nothing", async () => {
  await withDir(async (dir) => {
    const file = new CheckpointFile(join(dir, "ipam.json"));
    writeFileSync(file.path, AWS_NODE_FILE);
    const n = node(dir);
    const ds = new Datastore({
      now: n.clock.now,
      persist: () => {
        throw Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" });
      },
    });
    ds.addEni({ id: "eni-a", deviceNumber: 0, routeTableId: 254 });
    ds.addCidr("eni-a", "192.168.29.140/32");
    await assert.rejects(
      restoreCheckpoint(ds, file, everyLinkExists),
      (err: unknown) => err instanceof DatastoreError && err.code === "checkpoint-write-failed" && /EROFS/.test(err.message),
    );
    assert.deepEqual(ds.allocations(), []);
    assert.equal(readFileSync(file.path, "utf8"), AWS_NODE_FILE);
  });
});

test("restart: what one agent wrote, the next restores exactly", async () => {
  await withDir(async (dir) => {
    const a = node(dir);
    await restoreCheckpoint(a.ds, a.file, everyLinkExists);
    a.ds.assign(key("c1"), { k8sPodNamespace: "default", k8sPodName: "p1", interfacesCount: 1 });
    a.ds.assign(key("c2"), { k8sPodNamespace: "default", k8sPodName: "p2", interfacesCount: 1 });
    a.ds.release(key("c1"));
    a.ds.assign(key("c3"));
    const before = a.ds.allocations();
    const b = node(dir);
    const report = await restoreCheckpoint(b.ds, b.file, everyLinkExists);
    assert.deepEqual(
      report.adopted.map(({ key, address, cidr, eniId, assignedAtNs }) => ({ key, address, cidr, eniId, assignedAtNs })),
      before.map(({ key, address, cidr, eniId, assignedAtNs }) => ({ key, address, cidr, eniId, assignedAtNs })),
    );
    assert.equal(b.ds.assign(key("c2")).address, before.find((x) => x.key.containerID === "c2")?.address);
  });
});
