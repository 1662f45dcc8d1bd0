// The VPC changing under the agent, on virtual time: the 30 s CIDR watcher and the security-group
// refresh, against fakes of instance metadata, the rules and EC2.

import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "../../time/virtual-scheduler.ts";
import { startCidrWatcher } from "./cidr-watcher.ts";
import { startSgRefresh, type ManagedEniGroups } from "./sg-refresh.ts";
import type { PlacementMode } from "../placement/eni-placement.ts";

const quiet = () => {};

test("CIDR watcher: a CIDR associated joins the rules within 30 s, one disassociated leaves them; no change, no rebuild", async () => {
  const scheduler = new VirtualScheduler();
  let imds = ["10.0.0.0/16"];
  let current: readonly string[] = ["10.0.0.0/16"];
  const applied: string[][] = [];
  const watcher = startCidrWatcher({
    scheduler,
    read: async () => [...imds],
    current: () => current,
    apply: async (cidrs) => {
      applied.push([...cidrs]);
      current = [...cidrs];
    },
    log: quiet,
  });
  await scheduler.advance(60_000);
  assert.deepEqual(applied, [], "the same set: nothing rebuilt");

  imds = ["10.0.0.0/16", "100.64.0.0/16"];
  await scheduler.advance(29_999);
  assert.deepEqual(applied, [], "not before the next pass");
  await scheduler.advance(1);
  assert.deepEqual(applied, [["10.0.0.0/16", "100.64.0.0/16"]]);

  imds = ["100.64.0.0/16", "10.0.0.0/16"];
  await scheduler.advance(30_000);
  assert.equal(applied.length, 1, "the same set in another order is no change");

  imds = [];
  await scheduler.advance(30_000);
  assert.equal(applied.length, 1, "an empty answer is a metadata hiccup, not a VPC without CIDRs");

  imds = ["10.0.0.0/16"];
  await scheduler.advance(30_000);
  assert.deepEqual(applied.at(-1), ["10.0.0.0/16"], "a disassociated CIDR leaves");
  watcher.stop();
  imds = ["10.0.0.0/16", "100.65.0.0/16"];
  await scheduler.advance(120_000);
  assert.equal(applied.length, 2, "stopped: no more passes");
});

test("CIDR watcher: a failed rebuild is retried on the next pass (the set it failed for is not taken as current)", async () => {
  const scheduler = new VirtualScheduler();
  let current: readonly string[] = ["10.0.0.0/16"];
  let failures = 1;
  const logs: string[] = [];
  startCidrWatcher({
    scheduler,
    read: async () => ["10.0.0.0/16", "100.64.0.0/16"],
    current: () => current,
    apply: async (cidrs) => {
      if (failures-- > 0) throw new Error("iptables-restore: resource busy");
      current = [...cidrs];
    },
    log: (level, message) => logs.push(`${level} ${message}`),
  });
  await scheduler.advance(30_000);
  assert.deepEqual(current, ["10.0.0.0/16"]);
  assert.match(logs.join("\n"), /error VPC CIDR watcher: rebuilding the rules failed: iptables-restore/);
  await scheduler.advance(30_000);
  assert.deepEqual(current, ["10.0.0.0/16", "100.64.0.0/16"]);
});

function refreshRig(mode: PlacementMode, enis: ManagedEniGroups[], eniConfigGroups?: () => readonly string[] | undefined) {
  const scheduler = new VirtualScheduler();
  const state = { primary: ["sg-node"], enis: enis.map((e) => ({ ...e, groups: [...e.groups] })), modified: [] as { id: string; groups: string[] }[] };
  const refresh = startSgRefresh({
    scheduler,
    mode,
    primaryGroups: async () => [...state.primary],
    ...(eniConfigGroups ? { eniConfigGroups } : {}),
    enis: async () => state.enis.map((e) => ({ id: e.id, groups: [...e.groups] })),
    modify: async (id, groups) => {
      state.modified.push({ id, groups: [...groups] });
      state.enis.find((e) => e.id === id)!.groups = [...groups];
    },
    log: quiet,
  });
  return { scheduler, state, refresh };
}

test("security-group refresh without discovery: every managed ENI gets the primary ENI's groups, at start and after a change", async () => {
  const { scheduler, state, refresh } = refreshRig("primary", [
    { id: "eni-1", groups: ["sg-node"] },
    { id: "eni-2", groups: ["sg-old"] },
  ]);
  assert.deepEqual(await refresh.refresh(), ["eni-2"]);
  state.primary = ["sg-node", "sg-extra"];
  await scheduler.advance(30_000);
  assert.deepEqual(state.modified.slice(1).map((m) => [m.id, m.groups]), [
    ["eni-1", ["sg-extra", "sg-node"]],
    ["eni-2", ["sg-extra", "sg-node"]],
  ]);
  await scheduler.advance(30_000);
  assert.equal(state.modified.length, 3, "in step: no more calls");
});

test("security-group refresh with discovery: ENIs that had the primary's groups follow them; ENIs with the groups tagged for pods keep theirs", async () => {
  const { scheduler, state, refresh } = refreshRig("discovery", [
    { id: "eni-follows", groups: ["sg-node"] },
    { id: "eni-tagged", groups: ["sg-pods"] },
  ]);
  assert.deepEqual(await refresh.refresh(), [], "the first pass only learns the primary's groups");
  state.primary = ["sg-node2"];
  await scheduler.advance(30_000);
  assert.deepEqual(state.modified, [{ id: "eni-follows", groups: ["sg-node2"] }]);
});

test("security-group refresh with custom networking: a changed ENIConfig reaches every managed ENI; nothing while the ENIConfig is missing", async () => {
  let configured: readonly string[] | undefined = ["sg-pods"];
  const { scheduler, state, refresh } = refreshRig("eniconfig", [
    { id: "eni-1", groups: ["sg-pods"] },
    { id: "eni-2", groups: ["sg-pods"] },
  ], () => configured);
  assert.deepEqual(await refresh.refresh(), []);
  configured = ["sg-pods", "sg-more"];
  await scheduler.advance(30_000);
  assert.deepEqual(state.modified.map((m) => m.id), ["eni-1", "eni-2"]);
  assert.deepEqual(state.enis.map((e) => e.groups), [["sg-more", "sg-pods"], ["sg-more", "sg-pods"]]);
  configured = undefined;
  state.primary = ["sg-other"];
  await scheduler.advance(60_000);
  assert.equal(state.modified.length, 2, "the ENIConfig is missing: the ENIs keep what they have");
  configured = [];
  await scheduler.advance(30_000);
  assert.deepEqual(state.enis.map((e) => e.groups), [["sg-other"], ["sg-other"]], "an ENIConfig without groups: the primary ENI's");
});

test("security-group refresh: a failed modify is retried on the next pass", async () => {
  const scheduler = new VirtualScheduler();
  let fail = true;
  const groups = new Map([["eni-1", ["sg-old"]]]);
  startSgRefresh({
    scheduler,
    mode: "primary",
    primaryGroups: async () => ["sg-node"],
    enis: async () => [...groups].map(([id, g]) => ({ id, groups: g })),
    modify: async (id, g) => {
      if (fail) {
        fail = false;
        throw new Error("RequestLimitExceeded");
      }
      groups.set(id, [...g]);
    },
    log: quiet,
  });
  await scheduler.advance(30_000);
  assert.deepEqual(groups.get("eni-1"), ["sg-old"]);
  await scheduler.advance(30_000);
  assert.deepEqual(groups.get("eni-1"), ["sg-node"]);
});
