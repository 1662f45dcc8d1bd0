// An IPv6 Kubernetes cluster on vpcsim: `vpcsim up --kubelets --ipv6` with two dual-stack m5.large
// nodes in two zones, the real agent (ENABLE_IPv6) and the plugin chain the kubelet's runtime calls
// from the conflist the agent writes (vpc-cni, egress-cni, portmap). Pods created through the API
// server get IPv6 addresses from their node's /80 (their only pod IPs), become Ready (the kubelet
// probes them over IPv6), reach each other across zones with their own addresses, and reach the
// IPv4-only external host through egress-cni as their node.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { AGENT_STATE_ROOT, AgentProcess } from "./agent-harness.ts";
import { datapathUnavailable, runCommand, SimRun, waitFor } from "./harness.ts";
import { RestClient } from "../src/sim/kubelet/api/rest-client.ts";
import type { KObject } from "../src/sim/kube/objects.ts";
import { cidrContains, parseCidr, parseIp } from "../src/net/ip.ts";

const skip = datapathUnavailable();
const AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53";
const V6 = { ENABLE_IPv4: "false", ENABLE_IPv6: "true", ENABLE_PREFIX_DELEGATION: "true" };

function netexec(name: string): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "netexec" } },
    spec: {
      containers: [{ name: "netexec", image: AGNHOST, args: ["netexec", "--http-port=8080"], ports: [{ containerPort: 8080, name: "http" }], readinessProbe: { httpGet: { port: "http", path: "/healthz" }, periodSeconds: 1 } }],
      terminationGracePeriodSeconds: 5,
    },
  };
}

const ready = (p: KObject) => ((p.status as any)?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True");

describe("an IPv6 cluster: kubelets, agent and plugin chain on dual-stack nodes", { skip }, () => {
  let run: SimRun;
  let api: RestClient;
  const nodes: { instance: string; node: string; netns: string; agent: AgentProcess }[] = [];

  before(async () => {
    run = await SimRun.up(["--kubelets", "--ipv6", "--subnet", "a=us-east-1a,10.0.0.0/20", "--subnet", "b=us-east-1b,10.0.16.0/20", "--instance", "node-a=m5.large,a,public", "--instance", "node-b=m5.large,b,public"]);
    api = RestClient.fromKubeconfig(join("/run/vpcsim", run.name, "kubeconfig"));
    for (const instance of ["node-a", "node-b"]) {
      const status = await run.instance(instance);
      const root = join("/run/vpcsim", run.name, "nodes", instance);
      const agent = new AgentProcess(run, instance, { ...V6, VPC_CNI_BIN_DIR: join(root, "opt/cni/bin"), VPC_CNI_CONF_DIR: join(root, "etc/cni/net.d"), VPC_CNI_EGRESS_IPAM_DIR: join(AGENT_STATE_ROOT, "egress", run.name, instance) });
      nodes.push({ instance, node: `ip-${status.privateIp.replaceAll(".", "-")}.ec2.internal`, netns: status.netns, agent });
    }
    await Promise.all(nodes.map((n) => n.agent.start()));
    for (const n of nodes) await waitFor(async () => (((await api.get("v1/nodes", n.node).catch(() => undefined))?.status as any)?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ? true : undefined), 30_000);
  });

  after(async () => {
    for (const n of nodes) {
      await n.agent.stop();
      n.agent.clean();
    }
    api?.close();
    await run?.down();
  });

  test("pods get IPv6 addresses from their node's /80, are Ready, reach each other with their own addresses and the IPv4 host as their node", async () => {
    await api.create(netexec("web-1"));
    await api.create(netexec("web-2"));
    const waitReady = (name: string) => waitFor(async () => {
      const p = await api.get("v1/pods", name, "default");
      return ready(p) ? p : undefined;
    }, 60_000);
    const [p1, p2] = [await waitReady("web-1"), await waitReady("web-2")];
    const nodeOf = (p: KObject) => nodes.find((n) => n.node === (p.spec as any).nodeName)!;
    assert.notEqual(nodeOf(p1).instance, nodeOf(p2).instance, "spread over the two nodes");
    for (const p of [p1, p2]) {
      const status = p.status as any;
      const instance = await run.instance(nodeOf(p).instance);
      const prefix = parseCidr(instance.enis[0]!.ipv6Prefixes[0]!)!;
      assert.ok(cidrContains(prefix, parseIp(status.podIP)!), `${status.podIP} in ${prefix.text}`);
      assert.deepEqual(status.podIPs, [{ ip: status.podIP }], "IPv6 only: egress-cni's IPv4 address is not a pod IP");
    }
    const [ip1, ip2] = [(p1.status as any).podIP as string, (p2.status as any).podIP as string];
    const dial = async (host: string, port: number) => waitFor(async () => {
      const r = await runCommand("ip", ["netns", "exec", nodeOf(p1).netns, "curl", "-s", "-g", "--max-time", "10", `http://[${ip1}]:8080/dial?request=clientip&host=${host}&port=${port}&tries=1`]);
      if (r.code !== 0) return undefined;
      const answer = JSON.parse(r.stdout);
      return answer.responses?.length === 1 ? String(answer.responses[0]) : undefined;
    }, 30_000);
    const seen = await dial(ip2, 8080);
    assert.equal(seen.replace(/^\[(.*)\]:\d+$/, "$1"), ip1, "web-2 saw web-1's own address (no NAT)");
    const external = await dial("203.0.113.10", 80);
    assert.match(external, new RegExp((await run.instance(nodeOf(p1).instance)).publicIp!.replace(/\./g, "\\.")), "the IPv4-only host saw the node's address");
    for (const name of ["web-1", "web-2"]) await api.delete("v1/pods", name, "default");
    await waitFor(async () => ((await api.list("v1/pods", { namespace: "default" })).items.length === 0 ? true : undefined), 30_000);
  });
});
