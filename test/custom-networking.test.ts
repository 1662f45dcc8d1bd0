// Custom networking end to end on vpcsim (issue 12): three nodes in two zones registered by vpcsim's
// kubelets, a secondary VPC CIDR 100.64.0.0/16 with a subnet per zone, an ENIConfig per zone through
// the API server (chosen by the node's topology.kubernetes.io/zone label, ENI_CONFIG_LABEL_DEF), the
// real agent on each node and pods wired by the real plugin. Pods get addresses from their zone's
// ENIConfig subnet, on ENIs that carry the ENIConfig's security group in EC2, never from the primary
// ENI; they reach pods on other nodes and node addresses with their own address (no NAT), and the
// internet as the node's public address. While pods run, a CIDR associated with the VPC joins the SNAT
// exclusions within the watcher's 30 s, and a changed ENIConfig's groups reach every managed ENI,
// without a restart.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AGENT_STATE_ROOT, AgentProcess } from "./agent-harness.ts";
import { deleteNetns, Node } from "./pod-harness.ts";
import { datapathUnavailable, ROOT, runCommand, SimRun, waitFor, type SdkShell } from "./harness.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const EXTERNAL = "203.0.113.10";
const POD_CIDR = "100.64.0.0/16";
const POD_SUBNETS = { "us-east-1a": "100.64.0.0/19", "us-east-1b": "100.64.32.0/19" } as const;
type Zone = keyof typeof POD_SUBNETS;

interface Pod {
  name: string;
  ns: string;
  address: string;
  containerId: string;
  result: any;
}

const inCidr = (address: string, cidr: string) => {
  const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const [base, len] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(len));
  return Math.floor(toInt(address) / size) === Math.floor(toInt(base) / size);
};

/** What a TCP server in `serverNs` saw as the client's address when a client in `clientNs` connected. */
async function seenBy(serverNs: string, listenOn: string, clientNs: string): Promise<string> {
  const port = 7000 + Math.floor(Math.random() * 1000);
  const server = spawn("ip", ["netns", "exec", serverNs, process.execPath, "-e", `require('net').createServer(s=>s.end(s.remoteAddress)).listen(${port},'0.0.0.0',()=>console.log('up'))`], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the echo server did not start")), 10_000);
      server.stdout!.once("data", () => (clearTimeout(timer), resolve()));
    });
    const client = `const s=require('net').connect(${port},'${listenOn}');s.setTimeout(3000,()=>{console.log('TIMEOUT');s.destroy()});let d='';s.on('data',x=>d+=x);s.on('end',()=>console.log(d));s.on('error',e=>console.log('ERROR '+e.code))`;
    return (await runCommand("ip", ["netns", "exec", clientNs, process.execPath, "-e", client])).stdout.trim();
  } finally {
    server.kill();
  }
}

async function fetchExternal(ns: string): Promise<string> {
  const script = `fetch('http://${EXTERNAL}/',{signal:AbortSignal.timeout(3000)}).then(r=>r.text()).then(t=>console.log('OK '+t.trim()),e=>console.log('FAILED '+e.name)).finally(()=>process.exit(0))`;
  return (await runCommand("ip", ["netns", "exec", ns, process.execPath, "-e", script], { timeoutMs: 15_000 })).stdout.trim();
}

function eniConfigYaml(zone: Zone, subnet: string, groups: string[]): string {
  return `apiVersion: crd.k8s.amazonaws.com/v1alpha1\nkind: ENIConfig\nmetadata:\n  name: ${zone}\nspec:\n  subnet: ${subnet}\n  securityGroups: [${groups.join(", ")}]\n---\n`;
}

describe("custom networking on vpcsim: ENIConfigs per zone, a secondary CIDR, the VPC changing under running pods", { skip }, () => {
  let run: SimRun;
  let sdk: SdkShell;
  let vpcId: string;
  const podSubnet = {} as Record<Zone, string>;
  let podGroup: string;
  let extraGroup: string;
  const nodes: { instance: string; zone: Zone; agent: AgentProcess; node: Node }[] = [];
  const pods = new Map<string, Pod>();

  const kubectl = async (args: string[], input?: string) => {
    const r = await run.vpcsim(["kubectl", "--run", run.name, ...args], input);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const applyEniConfigs = (groups: string[]) => kubectl(["apply", "--validate=false", "-f", "-"], (Object.keys(POD_SUBNETS) as Zone[]).map((z) => eniConfigYaml(z, podSubnet[z], groups)).join(""));
  /** The node's ENIs in EC2, primary first. */
  const ec2Enis = async (instance: string) => {
    const id = (await run.instance(instance)).id;
    const out = await sdk.ok("DescribeNetworkInterfaces", { Filters: [{ Name: "attachment.instance-id", Values: [id] }] });
    return (out.NetworkInterfaces as any[]).sort((a, b) => a.Attachment.DeviceIndex - b.Attachment.DeviceIndex);
  };

  before(async () => {
    run = await SimRun.up([
      "--kubelets",
      "--subnet", "a=us-east-1a,10.0.0.0/20",
      "--subnet", "b=us-east-1b,10.0.16.0/20",
      "--instance", "node-a=m5.large,a,public",
      "--instance", "node-a2=m5.large,a",
      "--instance", "node-b=m5.large,b,public",
    ]);
    sdk = run.sdk("node-a");
    vpcId = (await sdk.ok("DescribeVpcs", {})).Vpcs[0].VpcId;
    await sdk.ok("AssociateVpcCidrBlock", { VpcId: vpcId, CidrBlock: POD_CIDR });
    await waitFor(async () => ((await sdk.ok("DescribeVpcs", { VpcIds: [vpcId] })).Vpcs[0].CidrBlockAssociationSet.some((a: any) => a.CidrBlock === POD_CIDR && a.CidrBlockState.State === "associated") ? true : undefined));
    for (const zone of Object.keys(POD_SUBNETS) as Zone[]) {
      podSubnet[zone] = (await sdk.ok("CreateSubnet", { VpcId: vpcId, CidrBlock: POD_SUBNETS[zone], AvailabilityZone: zone })).Subnet.SubnetId;
    }
    podGroup = (await sdk.ok("CreateSecurityGroup", { VpcId: vpcId, GroupName: "pods", Description: "pod ENIs" })).GroupId;
    extraGroup = (await sdk.ok("CreateSecurityGroup", { VpcId: vpcId, GroupName: "pods-extra", Description: "added later" })).GroupId;
    // The ENIConfig CRD as deploy/ installs it, then one ENIConfig per zone.
    await kubectl(["apply", "--validate=false", "-f", "-"], readFileSync(join(ROOT, "deploy", "crd-eniconfigs.yaml"), "utf8"));
    await kubectl(["wait", "--for=condition=Established", "crd/eniconfigs.crd.k8s.amazonaws.com", "--timeout=20s"]);
    await applyEniConfigs([podGroup]);

    // The agents reach the API server as pods do, at https://192.0.2.20 (the host's kubeconfig names
    // the loopback forwarder, which the nodes' namespaces cannot reach).
    const dir = join(AGENT_STATE_ROOT, run.name);
    mkdirSync(dir, { recursive: true });
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, readFileSync(join("/run/vpcsim", run.name, "kubeconfig"), "utf8").replace(/server: \S+/, "server: https://192.0.2.20"), { mode: 0o600 });

    const started = await Promise.all(
      (["node-a", "node-a2", "node-b"] as const).map(async (instance) => {
        const status = await run.instance(instance);
        const nodeName = `ip-${status.privateIp.replaceAll(".", "-")}.ec2.internal`;
        await waitFor(async () => ((await kubectl(["get", "node", nodeName, "-o", "name"]).catch(() => "")) ? true : undefined), 30_000);
        const agent = await new AgentProcess(run, instance, {
          ...FAST,
          AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: "true",
          ENI_CONFIG_LABEL_DEF: "topology.kubernetes.io/zone",
          KUBECONFIG: kubeconfig,
          MY_NODE_NAME: nodeName,
          MY_POD_NAME: `aws-node-${instance}`,
          MY_POD_NAMESPACE: "kube-system",
        }).start();
        return { instance, zone: status.zone as Zone, agent, node: await Node.of(agent) };
      }),
    );
    nodes.push(...started);
    await Promise.all(nodes.map((n) => n.agent.settled(60_000)));
    for (const n of nodes) {
      const ns = await n.node.newPodNetns();
      pods.set(n.instance, { name: `pod-${n.instance}`, ns, ...(await n.node.addPod(`pod-${n.instance}`, ns)) });
    }
  });

  after(async () => {
    try {
      for (const n of nodes) {
        const p = pods.get(n.instance);
        if (p) {
          await n.node.delPod(p.name, p.ns, p.containerId, p.result).catch(() => undefined);
          await deleteNetns(p.ns);
        }
      }
    } finally {
      sdk?.close();
      for (const n of nodes) {
        await n.agent.stop();
        n.agent.clean();
      }
      await run?.down();
      if (run) rmSync(join(AGENT_STATE_ROOT, run.name), { recursive: true, force: true });
    }
  });

  test("pods get addresses from their zone's ENIConfig subnet, on ENIs with the ENIConfig's security group; the primary ENI carries none", async () => {
    for (const n of nodes) {
      const pod = pods.get(n.instance)!;
      assert.ok(inCidr(pod.address, POD_SUBNETS[n.zone]), `${n.instance} (${n.zone}): ${pod.address} in ${POD_SUBNETS[n.zone]}`);
      const [primary, ...secondary] = await ec2Enis(n.instance);
      assert.equal(primary.PrivateIpAddresses.length, 1, `${n.instance}: no pod address on the primary ENI`);
      assert.ok(secondary.length >= 1);
      for (const eni of secondary) {
        assert.equal(eni.SubnetId, podSubnet[n.zone], `${eni.NetworkInterfaceId} in the ENIConfig's subnet`);
        assert.deepEqual(eni.Groups.map((g: any) => g.GroupId), [podGroup], `${eni.NetworkInterfaceId} carries the ENIConfig's group`);
      }
      assert.ok(secondary.some((e) => e.PrivateIpAddresses.some((a: any) => a.PrivateIpAddress === pod.address)));
      assert.equal(JSON.parse(JSON.stringify(await n.agent.introspect("/v1/eni-configs"))), n.zone, "introspection names the zone's ENIConfig");
    }
  });

  test("pods reach pods on other nodes and node addresses with their own address, and the internet as the node's public address", async () => {
    const a = pods.get("node-a")!;
    const [b, a2] = [pods.get("node-b")!, pods.get("node-a2")!];
    assert.equal(await seenBy(b.ns, b.address, a.ns), a.address, "pod on node-a -> pod on node-b (other zone): no NAT");
    assert.equal(await seenBy(a2.ns, a2.address, b.ns), b.address, "pod on node-b -> pod on node-a2: no NAT");
    const nodeB = await run.instance("node-b");
    assert.equal(await seenBy(nodeB.netns, nodeB.privateIp, a.ns), a.address, "pod on node-a -> node-b's own address: no NAT");
    const nodeA = await run.instance("node-a");
    assert.equal(await fetchExternal(a.ns), `OK ${nodeA.publicIp}`, "the internet sees the node's public address");
  });

  test("while pods run: a CIDR associated with the VPC is excluded from SNAT within 30 s, and a changed ENIConfig's groups reach every managed ENI, without a restart", async () => {
    const pids = await Promise.all(nodes.map((n) => n.agent.agentPid()));
    await sdk.ok("AssociateVpcCidrBlock", { VpcId: vpcId, CidrBlock: "100.65.0.0/16" });
    await applyEniConfigs([podGroup, extraGroup]);
    const associatedAt = Date.now();
    const nat = (n: (typeof nodes)[number]) => runCommand("ip", ["netns", "exec", n.node.netns, "iptables-save", "-t", "nat"]).then((r) => r.stdout);
    for (const n of nodes) {
      await waitFor(async () => ((await nat(n)).includes(`-A AWS-SNAT-CHAIN-0 -d 100.65.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN`) ? true : undefined), 40_000);
      assert.match(await nat(n), /-A AWS-CONNMARK-CHAIN-0 -d 100\.65\.0\.0\/16 .*-j RETURN/);
    }
    assert.ok(Date.now() - associatedAt < 35_000, `excluded within the watcher's period (${Date.now() - associatedAt} ms)`);
    for (const n of nodes) {
      await waitFor(async () => {
        const secondary = (await ec2Enis(n.instance)).slice(1);
        return secondary.every((e: any) => e.Groups.map((g: any) => g.GroupId).sort().join() === [podGroup, extraGroup].sort().join()) ? true : undefined;
      }, 40_000);
    }
    assert.deepEqual(await Promise.all(nodes.map((n) => n.agent.agentPid())), pids, "no agent restarted");
    // Pods keep working across the change.
    const a = pods.get("node-a")!;
    const b = pods.get("node-b")!;
    assert.equal(await seenBy(b.ns, b.address, a.ns), a.address);
  });
});
