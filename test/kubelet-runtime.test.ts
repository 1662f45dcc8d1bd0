// vpcsim's node runtime with the real agent and plugin: the agent runs on two vpcsim nodes in two
// zones (as test/agent-harness.ts runs it) and installs vpc-cni and its conflist into each node's
// dirs; the kubelet's runtime calls that chain (vpc-cni, portmap, and the loopback network) exactly
// as containerd's CRI does. Pods get VPC addresses, agnhost netexec in one pod sees the other zone's
// pod's own address, and tearing the sandboxes down gives the addresses back to the agent.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { AgentProcess } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, waitFor } from "./harness.ts";
import { RuntimeDriver } from "../src/sim/kubelet/runtime/runtime-client.test-support.ts";
import type { ContainerStatus, Sandbox, SandboxConfig } from "../src/sim/kubelet/runtime/runtime.ts";

const skip = datapathUnavailable();
const FAST = { IP_COOLDOWN_PERIOD: "1", VPC_CNI_MIN_ENI_AGE: "1", VPC_CNI_SHRINK_INTERVAL: "1", VPC_CNI_RECONCILE_INTERVAL: "2" };
const AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53";

interface NodeUnderTest {
  name: string;
  netns: string;
  instanceId: string;
  root: string;
  agent: AgentProcess;
  runtime: RuntimeDriver;
}

function pod(name: string): SandboxConfig {
  return { namespace: "default", name, uid: `uid-${name}`, attempt: 0, hostNetwork: false, hostname: name, annotations: { "kubernetes.io/config.source": "api" }, labels: {}, portMappings: [] };
}

/** The pod the agent says holds the address ("" when it is free). */
async function holder(agent: AgentProcess, address: string): Promise<string> {
  const enis = await agent.introspect("/v1/enis");
  for (const eni of Object.values<any>(enis["0"]?.ENIs ?? {})) {
    for (const cidr of Object.values<any>(eni.AvailableIPv4Cidrs ?? {})) {
      const entry = cidr.IPAddresses?.[address];
      if (entry) return entry.IPAMKey?.networkName ? (entry.IPAMMetadata?.k8sPodName ?? "?") : "";
    }
  }
  return "";
}

describe("node runtime with vpc-cni and its agent on vpcsim", { skip }, () => {
  let run: SimRun;
  const nodes: NodeUnderTest[] = [];

  before(async () => {
    run = await SimRun.up(["--subnet", "a=us-east-1a,10.0.0.0/20", "--subnet", "b=us-east-1b,10.0.16.0/20", "--instance", "node-a=t3.medium,a", "--instance", "node-b=t3.medium,b"]);
    for (const name of ["node-a", "node-b"]) {
      const instance = await run.instance(name);
      const root = join("/run/vpcsim", run.name, "nodes", name);
      const agent = new AgentProcess(run, name, { ...FAST, VPC_CNI_BIN_DIR: join(root, "opt/cni/bin"), VPC_CNI_CONF_DIR: join(root, "etc/cni/net.d") });
      const runtime = new RuntimeDriver(instance.netns, {
        nodeRoot: root,
        netnsPrefix: `vs-${run.name}-${instance.id}-`,
        cniBinDirs: [join(root, "opt/cni/bin"), "/usr/lib/cni"],
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      });
      nodes.push({ name, netns: instance.netns, instanceId: instance.id, root, agent, runtime });
    }
    // Before the agent has written its conflist the node's network is not ready.
    assert.equal((await nodes[0]!.runtime.ok("networkStatus")).ready, false);
    await Promise.all(nodes.map((n) => n.agent.start()));
    await Promise.all(nodes.map((n) => n.agent.settled()));
  });

  after(async () => {
    for (const n of nodes) {
      n.runtime.stop();
      await n.agent.stop();
      n.agent.clean();
    }
    await run?.down();
  });

  test("pods in two zones get VPC addresses and reach each other with their own addresses; teardown frees them", async () => {
    const [a, b] = nodes as [NodeUnderTest, NodeUnderTest];
    await waitFor(async () => ((await a.runtime.ok("networkStatus")).ready ? true : undefined), 10_000);
    const sandboxes: Array<{ node: NodeUnderTest; sandbox: Sandbox; container: ContainerStatus }> = [];
    for (const [node, name] of [[a, "web-a"], [b, "web-b"]] as const) {
      const sandbox = await node.runtime.ok<Sandbox>("runPodSandbox", pod(name));
      const container = await node.runtime.ok<ContainerStatus>("pullAndCreate", sandbox.id, {
        name: "netexec",
        attempt: 0,
        image: AGNHOST,
        argv: ["/agnhost", "netexec", "--http-port=8080"],
        env: { PATH: "/usr/bin:/bin" },
        workingDir: "",
        logPath: join(node.root, "var/log/pods", `default_${name}_uid-${name}`, "netexec", "0.log"),
      });
      await node.runtime.ok("startContainer", container.id);
      sandboxes.push({ node, sandbox, container });
    }
    const [pa, pb] = sandboxes as [(typeof sandboxes)[0], (typeof sandboxes)[0]];
    // VPC addresses of each node's subnet, assigned by EC2 to the node's ENIs.
    for (const p of [pa, pb]) {
      const instance = await run.instance(p.node.name);
      assert.ok(instance.enis.some((e) => e.privateIps.includes(p.sandbox.ips[0]!)), `${p.sandbox.ips[0]} is an address of ${p.node.name}'s ENIs`);
      assert.equal(await holder(p.node.agent, p.sandbox.ips[0]!), p.sandbox.config.name, "the agent knows the pod by its K8S_POD_NAME");
    }
    // From pod a (zone a) to pod b (zone b) with agnhost's /dial: b sees a's own address (no NAT).
    const dial = await waitFor(async () => {
      const r = await runCommand("ip", ["netns", "exec", a.netns, "curl", "-s", "--max-time", "10", `http://${pa.sandbox.ips[0]}:8080/dial?request=clientip&host=${pb.sandbox.ips[0]}&port=8080&tries=3`]);
      if (r.code !== 0) return undefined;
      const answer = JSON.parse(r.stdout);
      return answer.responses?.length === 3 ? answer : undefined;
    }, 30_000);
    for (const seen of dial.responses) assert.equal(seen.split(":")[0], pa.sandbox.ips[0]);

    for (const p of [pa, pb]) {
      await p.node.runtime.ok("stopPodSandbox", p.sandbox.id);
      await p.node.runtime.ok("removePodSandbox", p.sandbox.id);
      assert.equal(await holder(p.node.agent, p.sandbox.ips[0]!), "", "the agent has the address back");
      assert.deepEqual(readdirSync(join(p.node.root, "var/lib/cni/results")), [], "libcni's cache is empty");
    }
    const left = readdirSync("/run/netns").filter((n) => n.startsWith(`vs-${run.name}-`) && n.includes("-cni-"));
    assert.deepEqual(left, []);
  });
});
