// The kubelet against vpcsim's in-process API server as system:node:<name> (so the Node authorizer
// and NodeRestriction judge every call it makes) with an in-memory runtime: registration and the
// Ready condition, the Lease, sandbox failures with FailedCreatePodSandBox and back-off, OutOfpods
// admission, graceful deletion, restart safety and GC of sandboxes it no longer knows.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeApiServer } from "../kube/server.ts";
import { eventually } from "../kube/kube.test-support.ts";
import type { KObject } from "../kube/objects.ts";
import { Backoff } from "./backoff.ts";
import { FakeRuntime } from "./fake-runtime.test-support.ts";
import { Kubelet } from "./kubelet.ts";
import { nodeCapacity } from "./node/capacity.ts";
import type { NodeApi } from "./api/node-api.ts";

const IDENTITY = { instanceId: "i-0123456789abcdef0", instanceType: "m5.large", zone: "us-east-1b", region: "us-east-1", privateIp: "10.0.16.5", privateDnsName: "ip-10-0-16-5.ec2.internal" };

describe("kubelet", () => {
  let server: KubeApiServer;
  let dir: string;
  const kubelets: Kubelet[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vpcsim-kubelet-"));
    server = await KubeApiServer.start({ dir: join(dir, "pki"), clusterName: "kubelet" });
    await eventually(() => server.client.find("v1/serviceaccounts", "default", "default"), "the default service account");
  });
  after(async () => {
    for (const k of kubelets) k.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sandboxBackoffs = new Map<string, Backoff>();
  function kubelet(name: string, runtime: FakeRuntime, pods?: number, wrap: (api: NodeApi) => NodeApi = (api) => api): Kubelet {
    const sandboxBackoff = new Backoff(20, 160);
    sandboxBackoffs.set(name, sandboxBackoff);
    const capacity = nodeCapacity("m5.large");
    if (pods !== undefined) capacity.pods = pods;
    const api = wrap(server.clientAs(server.nodeCredential(name).user) as unknown as NodeApi);
    const k = new Kubelet({
      api,
      runtime,
      node: { name, identity: { ...IDENTITY, privateDnsName: name }, capacity },
      nodeRoot: join(dir, name),
      apiServer: { url: "https://192.0.2.20", host: "192.0.2.20", port: 443, caPem: server.ca.certPem },
      log: () => {},
      statusIntervalMs: 20,
      plegIntervalMs: 20,
      leaseRenewMs: 50,
      sandboxBackoff,
      restartBackoff: new Backoff(20, 160),
    });
    kubelets.push(k);
    return k;
  }

  const c = () => server.client;
  const pod = (name: string, node: string, spec: Record<string, unknown> = {}): KObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName: node, containers: [{ name: "main", image: "registry.k8s.io/e2e-test-images/agnhost:2.53", args: ["pause"] }], ...spec },
  });
  const status = async (name: string) => ((await c().get("v1/pods", name, "default")).status ?? {}) as any;
  const readyPod = (name: string) => eventually(async () => ((await status(name)).conditions?.some((x: any) => x.type === "Ready" && x.status === "True") ? status(name) : undefined), `${name} Ready`);
  const events = async (name: string, reason: string) => (await c().list("v1/events", { namespace: "default" })).items.filter((e) => (e.involvedObject as any).name === name && e.reason === reason);

  test("registers its Node as EKS does, NotReady without a CNI config, Ready once there is one; renews its Lease", async () => {
    const runtime = new FakeRuntime();
    const k = kubelet("ip-10-0-16-5.ec2.internal", runtime);
    await k.start();
    const node = await c().get("v1/nodes", "ip-10-0-16-5.ec2.internal");
    const labels = node.metadata.labels!;
    assert.equal(labels["topology.kubernetes.io/zone"], "us-east-1b");
    assert.equal(labels["topology.kubernetes.io/region"], "us-east-1");
    assert.equal(labels["node.kubernetes.io/instance-type"], "m5.large");
    assert.equal(labels["kubernetes.io/hostname"], "ip-10-0-16-5.ec2.internal");
    assert.equal(labels["kubernetes.io/os"], "linux");
    assert.equal(labels["eks.amazonaws.com/capacityType"], "ON_DEMAND");
    assert.equal((node.spec as any).providerID, "aws:///us-east-1b/i-0123456789abcdef0");
    const st = node.status as any;
    assert.equal(st.capacity.pods, "29", "m5.large: 3 ENIs x (10 - 1) + 2");
    assert.equal(st.allocatable.pods, "29");
    assert.equal(st.capacity.cpu, "2");
    assert.deepEqual(st.addresses.map((a: any) => a.type), ["InternalIP", "InternalDNS", "Hostname"]);
    const notReady = st.conditions.find((x: any) => x.type === "Ready");
    assert.equal(notReady.status, "False");
    assert.equal(notReady.message, "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized");
    runtime.ready = true;
    const readyNode = await eventually(async () => {
      const n = await c().get("v1/nodes", "ip-10-0-16-5.ec2.internal");
      return (n.status as any).conditions.find((x: any) => x.type === "Ready" && x.status === "True") ? n : undefined;
    }, "the node Ready");
    assert.equal((readyNode.status as any).conditions.find((x: any) => x.type === "Ready").reason, "KubeletReady");
    const lease = await eventually(() => c().find("coordination.k8s.io/v1/leases", "ip-10-0-16-5.ec2.internal", "kube-node-lease"), "the node's lease");
    assert.equal((lease.spec as any).holderIdentity, "ip-10-0-16-5.ec2.internal");
    const renewed = (lease.spec as any).renewTime;
    await eventually(async () => (((await c().get("coordination.k8s.io/v1/leases", "ip-10-0-16-5.ec2.internal", "kube-node-lease")).spec as any).renewTime !== renewed ? true : undefined), "the lease renewed");
    k.stop();
  });

  test("a node status report the API server never took (a reset connection) is sent again at the next tick", async () => {
    const runtime = new FakeRuntime();
    let resets = 0;
    const failingStatus = (api: NodeApi): NodeApi =>
      new Proxy(api, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop !== "patch") return typeof value === "function" ? value.bind(target) : value;
          return (...args: unknown[]) => {
            const options = args[5] as { subresource?: string } | undefined;
            if (runtime.ready && options?.subresource === "status" && resets === 0) {
              resets++;
              return Promise.reject(new Error("PATCH /api/v1/nodes/ip-10-0-16-6.ec2.internal/status: read ECONNRESET"));
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    const k = kubelet("ip-10-0-16-6.ec2.internal", runtime, undefined, failingStatus);
    await k.start();
    runtime.ready = true;
    await eventually(async () => {
      const n = await c().get("v1/nodes", "ip-10-0-16-6.ec2.internal");
      return (n.status as any).conditions.find((x: any) => x.type === "Ready" && x.status === "True") ? n : undefined;
    }, "the node Ready after the failed report");
    assert.equal(resets, 1, "the first Ready report was refused");
    k.stop();
  });

  test("a failing CNI ADD: FailedCreatePodSandBox, retried with growing back-off, Running and Ready once it works", async () => {
    const runtime = new FakeRuntime();
    runtime.ready = true;
    runtime.failAdd = 'plugin type="vpc-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container';
    const k = kubelet("n-retry", runtime);
    await k.start();
    await c().create(pod("retry", "n-retry"));
    await eventually(async () => (runtime.calls.add >= 4 ? true : undefined), "four ADD attempts");
    // Each attempt's sandbox has its own id, so each failure is an event of its own.
    const list = await eventually(async () => {
      const l = await events("retry", "FailedCreatePodSandBox");
      return l.length >= 3 ? l : undefined;
    }, "FailedCreatePodSandBox events");
    const uid = (await c().get("v1/pods", "retry", "default")).metadata.uid;
    assert.ok(sandboxBackoffs.get("n-retry")!.delay(`${uid}/sandbox`) > 20, "the back-off grew past its first delay");
    for (const event of list) assert.equal(event.type, "Warning");
    for (const event of list) assert.match(String(event.message), /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="vpc-cni" name="aws-cni" failed \(add\): add cmd: failed to assign an IP address to container$/);
    const pending = await status("retry");
    assert.equal(pending.phase, "Pending");
    assert.equal(pending.containerStatuses[0].state.waiting.reason, "ContainerCreating");
    assert.equal(pending.podIP, undefined);
    runtime.failAdd = undefined;
    const st = await readyPod("retry");
    assert.equal(st.phase, "Running");
    assert.match(st.podIP, /^10\.9\.0\.\d+$/);
    assert.deepEqual(st.podIPs, [{ ip: st.podIP }]);
    assert.equal(st.hostIP, IDENTITY.privateIp);
    assert.deepEqual(st.conditions.map((x: any) => `${x.type}=${x.status}`).sort(), ["ContainersReady=True", "Initialized=True", "PodReadyToStartContainers=True", "PodScheduled=True", "Ready=True"]);
    assert.equal(st.containerStatuses[0].ready, true);
    assert.ok(st.containerStatuses[0].state.running);
    k.stop();
  });

  test("pods bound beyond max pods fail with OutOfpods; hostNetwork pods count too", async () => {
    const runtime = new FakeRuntime();
    runtime.ready = true;
    const k = kubelet("n-full", runtime, 2);
    await k.start();
    await c().create(pod("full-1", "n-full", { hostNetwork: true }));
    await readyPod("full-1");
    await c().create(pod("full-2", "n-full"));
    await readyPod("full-2");
    await c().create(pod("full-3", "n-full"));
    const st = await eventually(async () => ((await status("full-3")).phase === "Failed" ? status("full-3") : undefined), "full-3 rejected");
    assert.equal(st.reason, "OutOfpods");
    assert.equal(st.message, "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2");
    assert.equal(runtime.running("full-3").length, 0);
    await eventually(async () => ((await events("full-3", "OutOfpods")).length === 1 ? true : undefined), "an OutOfpods event");
    k.stop();
  });

  test("graceful deletion: containers stopped with the grace period, the sandbox torn down, then the pod deleted for good", async () => {
    const runtime = new FakeRuntime();
    runtime.ready = true;
    const k = kubelet("n-del", runtime);
    await k.start();
    await c().create(pod("del", "n-del", { terminationGracePeriodSeconds: 7 }));
    await readyPod("del");
    const deleting = await c().delete("v1/pods", "del", "default");
    assert.ok((deleting as KObject).metadata?.deletionTimestamp, "a graceful deletion leaves the pod for its kubelet");
    await eventually(async () => ((await c().find("v1/pods", "del", "default")) === undefined ? true : undefined), "the pod gone");
    assert.deepEqual(runtime.calls.stops, [{ name: "main", grace: 7 }]);
    assert.equal(runtime.calls.del, 1);
    assert.equal(runtime.sandboxes.size, 0);
    k.stop();
  });

  test("a restarted kubelet takes over running sandboxes without a second ADD and removes the ones it no longer knows", async () => {
    const runtime = new FakeRuntime();
    runtime.ready = true;
    const first = kubelet("n-restart", runtime);
    await first.start();
    await c().create(pod("keep", "n-restart"));
    const before = await readyPod("keep");
    first.stop();
    // A sandbox of a pod deleted while the kubelet was down.
    const orphan = await runtime.runPodSandbox({ namespace: "default", name: "ghost", uid: "uid-ghost", attempt: 0, hostNetwork: false, hostname: "ghost", annotations: {}, labels: {}, portMappings: [] });
    const adds = runtime.calls.add;
    const dels = runtime.calls.del;
    const second = kubelet("n-restart", runtime);
    await second.start();
    await eventually(async () => (!runtime.sandboxes.has(orphan.id) ? true : undefined), "the orphan sandbox removed");
    assert.equal(runtime.calls.del, dels + 1, "the orphan's network was DELeted");
    assert.ok(runtime.calls.gc >= 1, "CNI GC ran");
    await second.idle();
    assert.equal(runtime.calls.add, adds, "no second ADD for the running pod");
    assert.equal(runtime.running("keep").length, 1);
    const after = await readyPod("keep");
    assert.equal(after.podIP, before.podIP);
    assert.equal(after.containerStatuses[0].restartCount, 0);
    second.stop();
  });

  test("a container that exits is restarted (restartPolicy Always) with its restart count", async () => {
    const runtime = new FakeRuntime();
    runtime.ready = true;
    const k = kubelet("n-crash", runtime);
    await k.start();
    await c().create(pod("crash", "n-crash"));
    await readyPod("crash");
    runtime.exit(runtime.running("crash")[0]!.id, 2);
    const st = await eventually(async () => {
      const s = await status("crash");
      return s.containerStatuses?.[0]?.restartCount === 1 && s.containerStatuses[0].state.running ? s : undefined;
    }, "restarted once");
    assert.equal(st.containerStatuses[0].lastState.terminated.exitCode, 2);
    k.stop();
  });
});
