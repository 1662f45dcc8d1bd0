// deploy/ against Kubernetes 1.34's schemas (kubernetes-models), field names included, and against
// what the agent and the node need from it: names runbooks use, every path under a mount, every
// variable one the agent knows and accepts, probes on the introspection endpoint.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/agent/config.ts";
import { CONFIG_VARIABLES } from "../src/agent/config-variables.ts";
import { DEPLOY, ROOT, findObject, manifestDocuments, modelModule, unknownFieldDiagnostics, type KubeObject } from "./deploy-harness.ts";

const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

type Container = { name: string; image: string; command?: string[]; env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]; volumeMounts?: { name: string; mountPath: string }[]; ports?: { name?: string; containerPort: number }[]; [k: string]: unknown };
type PodSpec = { containers: Container[]; initContainers?: Container[]; volumes: { name: string; hostPath?: { path: string; type?: string } }[]; [k: string]: unknown };

function daemonSet(): { ds: KubeObject; pod: PodSpec } {
  const ds = findObject("DaemonSet", "aws-node");
  return { ds, pod: (ds as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec };
}

function container(pod: PodSpec, name: string): Container {
  const c = [...(pod.initContainers ?? []), ...pod.containers].find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

test("every object in deploy/*.yaml validates against the Kubernetes 1.34 schemas", async () => {
  const docs = manifestDocuments();
  assert.deepEqual(docs.map((d) => `${d.object.kind}/${d.object.metadata.name}`).sort(), [
    "ClusterRole/aws-node",
    "ClusterRoleBinding/aws-node",
    "CustomResourceDefinition/cninodes.vpcresources.k8s.aws",
    "CustomResourceDefinition/eniconfigs.crd.k8s.amazonaws.com",
    "CustomResourceDefinition/securitygrouppolicies.vpcresources.k8s.aws",
    "DaemonSet/aws-node",
    "ServiceAccount/aws-node",
  ]);
  for (const { file, index, object } of docs) {
    const module = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = module[object.kind];
    assert.ok(Model, `${file}: kubernetes-models has no ${object.apiVersion} ${object.kind}`);
    assert.doesNotThrow(() => new Model(object).validate(), `${file} document ${index} (${object.kind} ${object.metadata.name})`);
  }
});

test("no object carries a field Kubernetes does not have (kubectl apply would refuse it)", () => {
  const diagnostics = unknownFieldDiagnostics(manifestDocuments());
  assert.deepEqual(diagnostics, []);
});

test("the unknown-field check finds a misspelt field", () => {
  const { ds } = daemonSet();
  const broken = structuredClone(ds) as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
  const first = broken.spec.template.spec.containers[0] as Record<string, unknown>;
  first["readinesProbe"] = first["readinessProbe"];
  const diagnostics = unknownFieldDiagnostics([{ file: "aws-node.yaml", index: 9, object: broken as unknown as KubeObject }]);
  assert.equal(diagnostics.length, 1);
  assert.match(diagnostics[0] ?? "", /aws-node.yaml document 9 \(DaemonSet aws-node\): .*'"?readinesProbe"?' does not exist/);
});

test("the schemas catch a wrong value", async () => {
  const { ds } = daemonSet();
  const broken = structuredClone(ds) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
  (broken.spec.template.spec.containers[0] as { ports: { containerPort: unknown }[] }).ports[0]!.containerPort = "61678";
  const { DaemonSet } = await import("kubernetes-models/apps/v1/DaemonSet");
  assert.throws(() => new DaemonSet(broken as never).validate(), /containerPort must be integer/);
});

test("aws-node keeps the reference's names: DaemonSet, service account, ClusterRole, containers, ports, labels", () => {
  const { ds, pod } = daemonSet();
  assert.equal(ds.metadata.namespace, "kube-system");
  assert.equal(ds.metadata.labels?.["k8s-app"], "aws-node");
  assert.equal(pod["serviceAccountName"], "aws-node");
  assert.equal(findObject("ServiceAccount", "aws-node").metadata.namespace, "kube-system");
  const binding = findObject("ClusterRoleBinding", "aws-node") as unknown as { roleRef: { name: string }; subjects: { kind: string; name: string; namespace: string }[] };
  assert.equal(binding.roleRef.name, "aws-node");
  assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "aws-node", namespace: "kube-system" }]);
  assert.deepEqual(pod.initContainers?.map((c) => c.name), ["aws-vpc-cni-init"]);
  assert.deepEqual(pod.containers.map((c) => c.name), ["aws-node"]);
  assert.deepEqual(container(pod, "aws-node").ports, [{ name: "metrics", containerPort: 61678, protocol: "TCP" }]);
  // Privileges: the init container writes sysctls; the agent needs only aws-node's two capabilities.
  assert.deepEqual(container(pod, "aws-vpc-cni-init")["securityContext"], { privileged: true });
  assert.deepEqual(container(pod, "aws-node")["securityContext"], { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } });
  assert.equal(pod["hostNetwork"], true);
  assert.equal(pod["priorityClassName"], "system-node-critical");
  assert.equal(pod["terminationGracePeriodSeconds"], 10);
  assert.deepEqual(pod["tolerations"], [{ operator: "Exists" }]);
  assert.deepEqual((ds as unknown as { spec: { updateStrategy: unknown } }).spec.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } });
  const affinity = JSON.stringify(pod["affinity"]);
  for (const term of ["kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64", "arm64", "eks.amazonaws.com/compute-type", "fargate", "hybrid", "auto"]) assert.ok(affinity.includes(`"${term}"`), term);
});

test("the image and version labels are the package's version", () => {
  const { ds, pod } = daemonSet();
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) assert.equal(c.image, `localhost/vpc-cni:${VERSION}`, c.name);
  for (const d of manifestDocuments().filter((d) => d.file === "aws-node.yaml")) assert.equal(d.object.metadata.labels?.["app.kubernetes.io/version"], VERSION, d.object.kind);
  assert.equal(container(pod, "aws-node").env?.find((e) => e.name === "VPC_CNI_VERSION")?.value, VERSION);
  assert.equal(ds.metadata.name, "aws-node");
});

test("every path the agent and the init container use is under a mount of the node's own directory", () => {
  const { pod } = daemonSet();
  const hostPaths = new Map(pod.volumes.map((v) => [v.name, v.hostPath?.path]));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const mounts = (c.volumeMounts ?? []).map((m) => ({ ...m, host: hostPaths.get(m.name) }));
    for (const m of mounts) assert.ok(m.host !== undefined, `${c.name}: mount ${m.name} is a hostPath volume`);
    for (const e of c.env ?? []) {
      if (e.value === undefined || !e.value.startsWith("/")) continue;
      const mount = mounts.find((m) => e.value === m.mountPath || e.value!.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${c.name}: ${e.name}=${e.value} is not under a volume mount`);
    }
  }
  // The state and log dirs appear in the conflist the plugin reads on the host: same path inside and out.
  const agent = container(pod, "aws-node");
  for (const name of ["VPC_CNI_STATE_DIR", "VPC_CNI_LOG_DIR"]) {
    const value = agent.env?.find((e) => e.name === name)?.value;
    const mount = agent.volumeMounts?.find((m) => m.mountPath === value);
    assert.ok(mount, `${name} is a mount point`);
    assert.equal(hostPaths.get(mount.name), value, `${name} is mounted at its host path`);
  }
});

test("the agent knows and accepts every variable the manifest sets", () => {
  const { pod } = daemonSet();
  const agent = container(pod, "aws-node");
  const known = new Set([...CONFIG_VARIABLES.map((v) => v.name), "VPC_CNI_VERSION"]);
  // What the kubelet puts in for the downward API.
  const downward: Record<string, string> = { "spec.nodeName": "ip-10-0-0-5.ec2.internal", "metadata.name": "aws-node-x7k2p", "metadata.namespace": "kube-system" };
  const env: Record<string, string> = {};
  for (const e of agent.env ?? []) {
    assert.ok(known.has(e.name), `${e.name} is not a variable vpc-cni-agent reads`);
    env[e.name] = e.value ?? downward[e.valueFrom?.fieldRef?.fieldPath ?? ""] ?? "";
  }
  const fieldRefs = Object.fromEntries((agent.env ?? []).filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
  assert.deepEqual(fieldRefs, { MY_NODE_NAME: "spec.nodeName", MY_POD_NAME: "metadata.name", MY_POD_NAMESPACE: "metadata.namespace" });
  const loaded = loadConfig(env);
  assert.ok(loaded.ok, `the agent refuses the manifest's configuration: ${JSON.stringify(!loaded.ok && loaded.errors)}`);
  assert.deepEqual(loaded.warnings, []);
  assert.equal(loaded.config.paths.cniBinDir, "/host/opt/cni/bin");
  assert.equal(loaded.config.paths.cniConfDir, "/host/etc/cni/net.d");
  assert.equal(loaded.config.paths.socketPath, "/var/run/aws-node/ipamd.sock");
  assert.equal(loaded.config.paths.backingStore, "/var/run/aws-node/ipam.json");
  assert.deepEqual(loaded.config.observability.logFile, { kind: "file", path: "/var/log/aws-routed-eni/ipamd.log" });
  assert.deepEqual(loaded.config.observability.pluginLogFile, { kind: "file", path: "/var/log/aws-routed-eni/plugin.log" });
  assert.deepEqual(loaded.config.pod, { namespace: "kube-system", name: "aws-node-x7k2p" });
  assert.equal(loaded.config.nodeName, "ip-10-0-0-5.ec2.internal");
});

test("the probes read the introspection endpoint the agent binds", () => {
  const { pod } = daemonSet();
  const agent = container(pod, "aws-node");
  const bind = agent.env?.find((e) => e.name === "INTROSPECTION_BIND_ADDRESS")?.value;
  assert.equal(bind, "127.0.0.1:61679");
  for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
    const p = agent[probe] as { httpGet?: { host: string; port: number; path: string } } | undefined;
    assert.deepEqual(p?.httpGet, { host: "127.0.0.1", port: 61679, path: "/v1/health" }, probe);
  }
  assert.deepEqual(container(pod, "aws-vpc-cni-init").command, ["/app/vpc-cni-init"]);
  assert.deepEqual(agent.command, ["/app/vpc-cni-agent"]);
});

test("the CRDs serve the groups, versions, kinds and scopes the agent and the controller use", () => {
  const crd = (name: string) => findObject("CustomResourceDefinition", name) as unknown as { spec: { group: string; scope: string; names: { plural: string; kind: string; shortNames?: string[] }; versions: { name: string; served: boolean; storage: boolean }[] } };
  const expect = [
    ["eniconfigs.crd.k8s.amazonaws.com", "crd.k8s.amazonaws.com", "v1alpha1", "ENIConfig", "Cluster", undefined],
    ["securitygrouppolicies.vpcresources.k8s.aws", "vpcresources.k8s.aws", "v1beta1", "SecurityGroupPolicy", "Namespaced", ["sgp"]],
    ["cninodes.vpcresources.k8s.aws", "vpcresources.k8s.aws", "v1alpha1", "CNINode", "Cluster", ["cnd"]],
  ] as const;
  for (const [name, group, version, kind, scope, shortNames] of expect) {
    const c = crd(name);
    assert.equal(`${c.spec.names.plural}.${c.spec.group}`, name);
    assert.equal(c.spec.group, group);
    assert.equal(c.spec.names.kind, kind);
    assert.equal(c.spec.scope, scope);
    assert.deepEqual(c.spec.names.shortNames, shortNames);
    assert.deepEqual(c.spec.versions.map((v) => [v.name, v.served, v.storage]), [[version, true, true]]);
  }
  assert.ok(DEPLOY.endsWith("deploy"));
});
