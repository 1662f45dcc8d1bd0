import { test } from "node:test";
import assert from "node:assert/strict";
import { advertiseCustomNetworking, advertiseSecurityGroupsForPods, connectKubernetes, ec2EventReporter } from "./kubernetes.ts";
import { loadConfig } from "./config.ts";
import { VirtualScheduler } from "../time/virtual-scheduler.ts";
import type { Ec2CallEvent } from "../aws/ec2-client.ts";

const call = (api: string, errorCode: string | undefined): Ec2CallEvent => ({ api, fn: "f", ok: errorCode === undefined, errorCode, httpStatus: errorCode ? 400 : 200, latencyMs: 1, attempt: 1, budgetWaitMs: 0 });

test("EC2's UnauthorizedOperation and address exhaustion become events on the agent's pod; other answers do not", () => {
  const seen: string[] = [];
  const kube = {
    recordMissingPermission: (api: string) => seen.push(`MissingIAMPermissions ${api}`),
    recordAddressExhaustion: (code: string, detail: string, pauseMs: number) => seen.push(`${code} ${detail} ${pauseMs}`),
  };
  const report = ec2EventReporter(() => kube as never, 120_000);
  report(call("CreateNetworkInterface", "UnauthorizedOperation"));
  report(call("AssignPrivateIpAddresses", "InsufficientFreeAddressesInSubnet"));
  report(call("AssignPrivateIpAddresses", "InsufficientCidrBlocks"));
  report(call("DescribeInstances", undefined));
  report(call("AttachNetworkInterface", "RequestLimitExceeded"));
  assert.deepEqual(seen, [
    "MissingIAMPermissions CreateNetworkInterface",
    "InsufficientFreeAddressesInSubnet AssignPrivateIpAddresses failed with InsufficientFreeAddressesInSubnet 120000",
    "InsufficientCidrBlocks AssignPrivateIpAddresses failed with InsufficientCidrBlocks 120000",
  ]);
  ec2EventReporter(() => undefined, 1)(call("CreateTags", "UnauthorizedOperation")); // before the Kubernetes side is up
});

function fixture(o: { enis: number; limit: number; unmanaged?: number; trunk?: boolean; failures?: string[] }) {
  const scheduler = new VirtualScheduler();
  const patched: string[] = [];
  const failures = [...(o.failures ?? [])];
  const state = { enis: o.enis, trunk: o.trunk ?? false };
  const kube = {
    addCniNodeFeature: async (f: { name: string }) => {
      const failure = failures.shift();
      if (failure) throw new Error(failure);
      patched.push(f.name);
      return { changed: true, cniNode: { metadata: {} } };
    },
  };
  const agent = { get hasTrunk() { return state.trunk; }, poolLimits: () => ({ enis: o.limit, ipv4PerEni: 10, maxPods: 29, unmanagedEnis: o.unmanaged ?? 0, reserveTrunkSlot: true }) };
  const datastore = { snapshot: () => ({ enis: Array.from({ length: state.enis }, (_, i) => ({ id: `eni-${i}` })) }) };
  const lines: string[] = [];
  const stop = advertiseSecurityGroupsForPods({ kube: kube as never, agent: agent as never, datastore: datastore as never, maxEni: null, scheduler, log: (l, m) => void lines.push(`${l} ${m}`) });
  return { scheduler, patched, state, lines, stop };
}

test("ENABLE_POD_ENI: SecurityGroupsForPods is added once the node has room for a trunk ENI, then no more calls", async () => {
  const f = fixture({ enis: 3, limit: 3 });
  await f.scheduler.advance(20_000);
  assert.deepEqual(f.patched, [], "no room: every ENI slot is used");
  f.state.enis = 2;
  await f.scheduler.advance(5_000);
  assert.deepEqual(f.patched, ["SecurityGroupsForPods"]);
  await f.scheduler.advance(60_000);
  assert.deepEqual(f.patched, ["SecurityGroupsForPods"], "written once");
  assert.ok(f.lines.some((l) => /SecurityGroupsForPods added; the VPC Resource Controller attaches the trunk ENI/.test(l)));
});

test("a failing CNINode patch is retried every 5 s and logged once per distinct failure; a trunk ends it", async () => {
  const f = fixture({ enis: 1, limit: 3, failures: ["CNINode node-a does not exist yet", "CNINode node-a does not exist yet", "no answer"] });
  await f.scheduler.advance(16_000);
  assert.deepEqual(f.patched, ["SecurityGroupsForPods"]);
  assert.equal(f.lines.filter((l) => l.startsWith("warn")).length, 2, f.lines.join("\n"));
  const t = fixture({ enis: 1, limit: 3, trunk: true });
  await t.scheduler.advance(30_000);
  assert.deepEqual(t.patched, [], "the node has its trunk already");
  const unmanaged = fixture({ enis: 2, limit: 3, unmanaged: 1 });
  await unmanaged.scheduler.advance(30_000);
  assert.deepEqual(unmanaged.patched, [], "ENIs the agent does not manage take slots too");
  unmanaged.stop();
});

test("custom networking with ENABLE_POD_ENI: CustomNetworking=<ENIConfig> on the CNINode once the Node is read, retried until written; nothing for \"default\"", async () => {
  const scheduler = new VirtualScheduler();
  let name: string | null = null;
  let failures = 1;
  const patched: { name: string; value?: string }[] = [];
  const kube = {
    eniConfigName: () => name,
    addCniNodeFeature: async (f: { name: string; value?: string }) => {
      if (failures-- > 0) throw new Error("CNINode does not exist yet");
      patched.push(f);
      return { changed: true, cniNode: { metadata: {} } };
    },
  };
  advertiseCustomNetworking({ kube: kube as never, scheduler, log: () => {} });
  await scheduler.advance(10_000);
  assert.deepEqual(patched, [], "the Node is not read yet");
  name = "us-east-1a";
  await scheduler.advance(10_000);
  assert.deepEqual(patched, [{ name: "CustomNetworking", value: "us-east-1a" }], "after one failed try");
  await scheduler.advance(30_000);
  assert.equal(patched.length, 1, "written once");

  const byDefault = { eniConfigName: () => "default", addCniNodeFeature: async () => assert.fail("no feature for the default ENIConfig") };
  advertiseCustomNetworking({ kube: byDefault as never, scheduler, log: () => {} });
  await scheduler.advance(30_000);
});

test("without Kubernetes access configured the agent does not load the client; a feature that needs the API server refuses to start", async () => {
  const config = (env: Record<string, string>) => {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error("bad test configuration");
    return loaded.config;
  };
  const lines: string[] = [];
  const log = (l: string, m: string) => void lines.push(`${l} ${m}`);
  assert.equal(await connectKubernetes({ config: config({ MY_NODE_NAME: "n" }), env: {}, version: "t", log }), undefined);
  assert.match(lines[0] ?? "", /running without the Kubernetes API: neither KUBECONFIG nor an in-cluster service account/);
  await assert.rejects(connectKubernetes({ config: config({ MY_NODE_NAME: "n", ENABLE_POD_ENI: "true" }), env: {}, version: "t", log }), /need the API server/);
  await assert.rejects(connectKubernetes({ config: config({ MY_NODE_NAME: "n" }), env: { KUBECONFIG: "/nonexistent/kubeconfig" }, version: "t", log }), /KUBECONFIG names \/nonexistent\/kubeconfig/);
});
