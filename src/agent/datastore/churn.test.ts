// Randomized churn: many assign/release cycles with clock steps, injected
// checkpoint failures, CIDR and ENI changes. After every step the datastore is
// checked against an independent model: no address held twice, nothing handed
// out in cooldown, every choice the one the packing rule prescribes, stats
// consistent, and the last persisted checkpoint equal to memory.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointFile } from "./checkpoint.ts";
import type { DatastoreSnapshot, IPAMKey } from "./datastore.ts";
import { Datastore, DatastoreError } from "./datastore.ts";
import { parseIp } from "../../net/ip.ts";
import { restoreCheckpoint } from "./restore.ts";
import { key, makeDatastore } from "./datastore.test-support.ts";

function rng(seed: number): () => number {
  // mulberry32: small, seeded, reproducible.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ipValue = (text: string): bigint => (parseIp(text) as { value: bigint }).value;

/** The packing rule, computed from a snapshot alone. */
function expectedPick(snap: DatastoreSnapshot): string | undefined {
  const enis = snap.enis
    .filter((e) => !e.isExcluded)
    .sort((a, b) => b.assigned - a.assigned || a.deviceNumber - b.deviceNumber || (a.id < b.id ? -1 : 1));
  for (const eni of enis) {
    const cidrs = eni.cidrs
      .filter((c) => c.active)
      .sort((a, b) => b.assigned - a.assigned || (ipValue(a.cidr.split("/")[0] as string) < ipValue(b.cidr.split("/")[0] as string) ? -1 : 1));
    for (const c of cidrs) {
      const busy = new Set(c.addresses.filter((a) => a.key !== undefined || a.inCooldown).map((a) => a.address));
      const base = ipValue(c.cidr.split("/")[0] as string);
      for (let i = 0; i < c.size; i++) {
        const candidate = snap.family === "4" ? [24n, 16n, 8n, 0n].map((s) => String(((base + BigInt(i)) >> s) & 0xffn)).join(".") : "";
        if (!busy.has(candidate)) return candidate;
      }
    }
  }
  return undefined;
}

async function churn(seed: number, prefixDelegation: boolean, steps: number): Promise<void> {
  const random = rng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const cooldownMs = 30_000;
  const { ds, clock, store } = makeDatastore({ prefixDelegation, cooldownMs });

  ds.addEni({ id: "eni-0", deviceNumber: 0, routeTableId: 254, isPrimary: true });
  ds.addEni({ id: "eni-1", deviceNumber: 1, routeTableId: 2 });
  ds.addEni({ id: "eni-2", deviceNumber: 2, routeTableId: 3 });
  // Both kinds on every ENI: only the active kind may ever serve.
  const spare: [string, string][] = [];
  for (let e = 0; e < 3; e++) {
    for (let i = 0; i < 4; i++) ds.addCidr(`eni-${e}`, `10.${e}.0.${i + 1}/32`);
    ds.addCidr(`eni-${e}`, `10.${e}.1.0/28`);
    spare.push([`eni-${e}`, `10.${e}.2.0/28`], [`eni-${e}`, `10.${e}.0.${10 + e}/32`]);
  }

  const held = new Map<string, string>(); // key -> address
  const releasedAt = new Map<string, number>(); // address -> clock ms
  const keyOf = (k: IPAMKey): string => `${k.networkName}|${k.containerID}|${k.ifName}`;
  let next = 0;
  const counts = { assigned: 0, released: 0, exhausted: 0, failedWrites: 0 };

  for (let step = 0; step < steps; step++) {
    const before = ds.snapshot();
    const persistedBefore = store.writes.length;
    const failWrite = random() < 0.05;
    if (failWrite) store.failNext = 1;
    const r = random();
    let failed = false;
    try {
      if (r < 0.4 || (held.size === 0 && r < 0.75)) {
        const k = key(`c${next++}`, pick(["eth0", "eth0", "eth1"]));
        const expected = expectedPick(before);
        try {
          const got = ds.assign(k, { k8sPodNamespace: "ns", k8sPodName: `p${next}`, interfacesCount: 1 });
          assert.equal(got.reused, false);
          assert.equal(got.address, expected, `step ${step}: packing rule`);
          assert.ok(![...held.values()].includes(got.address), `step ${step}: ${got.address} given twice`);
          const rel = releasedAt.get(got.address);
          assert.ok(rel === undefined || clock.now() >= rel + cooldownMs, `step ${step}: ${got.address} reused in cooldown`);
          held.set(keyOf(k), got.address);
          counts.assigned++;
        } catch (err) {
          if (err instanceof DatastoreError && err.code === "no-available-address") {
            assert.equal(expected, undefined, `step ${step}: refused although ${expected} was free`);
            assert.equal(ds.stats().availableIPs, 0);
            counts.exhausted++;
          } else throw err;
        }
      } else if (r < 0.45) {
        // A retried ADD.
        const [k, address] = pick([...held.entries()]);
        const [networkName, containerID, ifName] = k.split("|") as [string, string, string];
        const got = ds.assign({ networkName, containerID, ifName });
        assert.equal(got.reused, true);
        assert.equal(got.address, address);
      } else if (r < 0.75) {
        const [k, address] = pick([...held.entries()]);
        const [networkName, containerID, ifName] = k.split("|") as [string, string, string];
        const got = ds.release({ networkName, containerID, ifName });
        assert.equal(got?.address, address);
        held.delete(k);
        releasedAt.set(address, clock.now());
        counts.released++;
      } else if (r < 0.87) {
        await clock.advance(Math.floor(random() * 20_000));
      } else if (r < 0.95) {
        // The pool grows or shrinks by a CIDR (never below 12 of them); busy ones are refused.
        const present = before.enis.reduce((n, e) => n + e.cidrs.length, 0);
        if (spare.length > 0 && (present <= 12 || random() < 0.5)) {
          const [eni, cidr] = spare.splice(Math.floor(random() * spare.length), 1)[0] as [string, string];
          ds.addCidr(eni, cidr);
        } else {
          const eni = pick(before.enis);
          const c = eni.cidrs.length > 0 ? pick(eni.cidrs) : undefined;
          if (c !== undefined) {
            try {
              ds.removeCidr(eni.id, c.cidr);
              assert.equal(c.assigned, 0);
              spare.push([eni.id, c.cidr]);
            } catch (err) {
              assert.ok(err instanceof DatastoreError && err.code === "cidr-in-use" && c.assigned > 0);
            }
          }
        }
      } else if (r < 0.97) {
        ds.setEniExcluded("eni-2", !before.enis.find((e) => e.id === "eni-2")?.isExcluded);
      } else {
        ds.setPrefixDelegation(!ds.prefixDelegation);
      }
    } catch (err) {
      if (!(err instanceof DatastoreError && err.code === "checkpoint-write-failed")) throw err;
      failed = true;
      counts.failedWrites++;
      const after = ds.snapshot();
      assert.deepEqual(after.enis, before.enis, `step ${step}: a failed write changed the datastore`);
    }
    if (failWrite && !failed) store.failNext = 0;
    if (failed) assert.equal(store.writes.length, persistedBefore);

    // Invariants.
    const allocations = ds.allocations();
    const addresses = allocations.map((a) => a.address);
    assert.equal(new Set(addresses).size, addresses.length, `step ${step}: duplicate address`);
    assert.deepEqual(
      new Map(allocations.map((a) => [keyOf(a.key), a.address])),
      held,
      `step ${step}: datastore and model disagree`,
    );
    const persisted = store.last?.allocations ?? [];
    assert.deepEqual(
      persisted.map((e) => [e.containerID, e.ifName, e.ipv4]),
      allocations.map((a) => [a.key.containerID, a.key.ifName, a.address]),
      `step ${step}: checkpoint differs from memory`,
    );
    const s = ds.stats();
    assert.equal(s.totalIPs, s.assignedIPs + s.cooldownIPs + s.availableIPs);
    assert.ok(s.availableIPs >= 0 && s.cooldownIPs >= 0);
    const snap = ds.snapshot();
    for (const eni of snap.enis) {
      assert.equal(eni.assigned, eni.cidrs.reduce((n, c) => n + c.assigned, 0));
      for (const c of eni.cidrs) assert.equal(c.assigned, c.addresses.filter((a) => a.key !== undefined).length);
    }
  }
  // The run must have exercised every path, or it proves little.
  assert.ok(counts.assigned > steps / 5 && counts.released > steps / 5 && counts.exhausted > 0 && counts.failedWrites > 0, JSON.stringify(counts));
}

for (const seed of [1, 2, 3, 42, 1234]) {
  test(`churn: no address given twice, packing rule held (seed ${seed})`, async () => {
    await churn(seed, seed % 2 === 0, 3_000);
  });
}

test("churn against a real checkpoint file, then restore on a new datastore", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-churn-"));
  try {
    const file = new CheckpointFile(join(dir, "ipam.json"));
    const random = rng(7);
    let ms = 1_718_000_000_000;
    const build = (): Datastore => {
      const ds = new Datastore({ now: () => ms, prefixDelegation: true, persist: (d) => file.write(d) });
      ds.addEni({ id: "eni-0", deviceNumber: 0, routeTableId: 254 });
      ds.addEni({ id: "eni-1", deviceNumber: 1, routeTableId: 2 });
      ds.addCidr("eni-0", "10.0.1.0/28");
      ds.addCidr("eni-1", "10.0.2.0/28");
      return ds;
    };
    const ds = build();
    await restoreCheckpoint(ds, file, { hostLinkExists: () => true });
    const live: string[] = [];
    for (let i = 0; i < 300; i++) {
      ms += Math.floor(random() * 5_000);
      if (random() < 0.6 || live.length === 0) {
        try {
          ds.assign(key(`c${i}`), { k8sPodNamespace: "ns", k8sPodName: `p${i}` });
          live.push(`c${i}`);
        } catch (err) {
          assert.ok(err instanceof DatastoreError && err.code === "no-available-address");
        }
      } else {
        const [c] = live.splice(Math.floor(random() * live.length), 1);
        ds.release(key(c as string));
      }
      // After every step the file alone would restore exactly this state (kill -9 now).
      const onDisk = file.read()?.allocations.map((e) => [e.containerID, e.ipv4]);
      assert.deepEqual(onDisk, ds.allocations().map((a) => [a.key.containerID, a.address]));
    }
    const restarted = build();
    const report = await restoreCheckpoint(restarted, file, { hostLinkExists: () => true });
    assert.deepEqual(
      report.adopted.map((a) => [a.key, a.address, a.assignedAtNs]),
      ds.allocations().map((a) => [a.key, a.address, a.assignedAtNs]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
