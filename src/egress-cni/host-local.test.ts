// egress-cni's allocator: host-local's files (one per address, "<id>\r\n<ifname>", last_reserved_ip.0),
// the gateway and network address never handed out, a repeated ADD keeping its address, release, wrap
// around, a full range refused, and files host-local itself wrote read back.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { HostLocalAllocator, RangeFullError } from "./host-local.ts";

let dir = "";
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "egress-ipam-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("host-local allocator", () => {
  it("hands out .2 first (.0 is the network, .1 the gateway), in host-local's files", () => {
    const ipam = new HostLocalAllocator(dir, "aws-cni", "169.254.172.0/22");
    assert.deepEqual(ipam.reserve("c1", "eth0"), { address: "169.254.172.2", cidr: "169.254.172.2/22", gateway: "169.254.172.1" });
    assert.equal(ipam.reserve("c2", "eth0").address, "169.254.172.3");
    assert.equal(readFileSync(join(dir, "aws-cni", "169.254.172.2"), "utf8"), "c1\r\neth0");
    assert.equal(readFileSync(join(dir, "aws-cni", "last_reserved_ip.0"), "utf8"), "169.254.172.3");
  });

  it("gives a repeated ADD the address it holds, and releases by attachment", () => {
    const ipam = new HostLocalAllocator(dir, "aws-cni", "169.254.172.0/22");
    const first = ipam.reserve("c1", "eth0");
    assert.deepEqual(ipam.reserve("c1", "eth0"), first);
    assert.equal(ipam.release("c1", "eth1"), undefined, "another interface of the container holds nothing");
    assert.deepEqual(ipam.release("c1", "eth0"), first);
    assert.equal(ipam.release("c1", "eth0"), undefined, "DEL twice");
    assert.deepEqual(readdirSync(join(dir, "aws-cni")), ["last_reserved_ip.0"]);
  });

  it("continues after the last reserved address and wraps round; a full range is refused", () => {
    const ipam = new HostLocalAllocator(dir, "n", "10.9.0.0/29"); // .2 .. .6 usable
    const got = ["a", "b", "c", "d", "e"].map((c) => ipam.reserve(c, "eth0").address);
    assert.deepEqual(got, ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"]);
    assert.throws(() => ipam.reserve("f", "eth0"), RangeFullError);
    ipam.release("b", "eth0");
    assert.equal(ipam.reserve("f", "eth0").address, "10.9.0.3");
  });

  it("reads files host-local wrote, old ones with the container id alone", () => {
    mkdirSync(join(dir, "aws-cni"));
    writeFileSync(join(dir, "aws-cni", "169.254.172.2"), "old\n");
    writeFileSync(join(dir, "aws-cni", "169.254.172.3"), "new\r\neth0");
    const ipam = new HostLocalAllocator(dir, "aws-cni", "169.254.172.0/22");
    assert.equal(ipam.find("old", "eth0")?.address, "169.254.172.2");
    assert.equal(ipam.find("new", "eth0")?.address, "169.254.172.3");
    assert.equal(ipam.reserve("next", "eth0").address, "169.254.172.4");
  });

  it("serves IPv6 ranges too, and refuses what cannot name a directory", () => {
    const ipam = new HostLocalAllocator(dir, "aws-cni", "fd00::ac:00/118");
    assert.deepEqual(ipam.reserve("c1", "eth0"), { address: "fd00::ac:2", cidr: "fd00::ac:2/118", gateway: "fd00::ac:1" });
    assert.throws(() => new HostLocalAllocator(dir, "../x", "10.0.0.0/24"), /cannot name a directory/);
    assert.throws(() => new HostLocalAllocator(dir, "n", "10.0.0.0/31"), /too small/);
  });
});

describe("host-local allocator: holders (GC)", () => {
  it("lists every reservation with its attachment, lowest address first", () => {
    const ipam = new HostLocalAllocator(dir, "aws-cni", "169.254.172.0/22");
    ipam.reserve("b", "eth0");
    ipam.reserve("a", "eth1");
    assert.deepEqual(ipam.holders().map((h) => [h.address, h.containerId, h.ifName]), [["169.254.172.2", "b", "eth0"], ["169.254.172.3", "a", "eth1"]]);
  });
});
