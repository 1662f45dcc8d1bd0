// From a pod spec to the runtime's container config: argv from the image's ENTRYPOINT/CMD and
// command/args with $(VAR) expansion, the downward API, the node's environment under the pod's own,
// and paths under volume mounts rewritten to where the volumes are on this machine (aws-node's
// DaemonSet pod as deploy/ has it).

import { test } from "node:test";
import assert from "node:assert/strict";
import type { KObject } from "../../kube/objects.ts";
import { imageCatalogue, lookupImage, type PulledImage } from "../runtime/images.ts";
import { containerConfig, ContainerSpecError, expand, rewritePath, sandboxConfig, type PodContext } from "./container-spec.ts";
import { instanceResources, maxPods, nodeCapacity } from "../node/capacity.ts";

const image = (name: string): PulledImage => ({ spec: lookupImage(name, imageCatalogue()).spec, root: "/x", binDir: "/img/bin", program: (p) => p });
const ctx: PodContext = { nodeName: "ip-10-0-0-5.ec2.internal", nodeRoot: "/run/vpcsim/r/nodes/n", podDir: "/run/vpcsim/r/nodes/n/var/lib/kubelet/pods/u1", hostIP: "10.0.0.5", podIPs: ["10.0.0.5"], apiHost: "192.0.2.20", apiPort: 443, kubeconfig: "/pod/kubeconfig", nodeEnv: { AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_EC2: "http://192.0.2.10" } };

const awsNode: KObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "aws-node-x1", namespace: "kube-system", uid: "u1", labels: { "k8s-app": "aws-node" } },
  spec: {
    hostNetwork: true,
    containers: [
      {
        name: "aws-node",
        image: "localhost/vpc-cni:0.1.0",
        command: ["/app/vpc-cni-agent"],
        args: ["--node=$(MY_NODE_NAME)", "$$(literal)", "$(UNKNOWN)"],
        env: [
          { name: "MY_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "MY_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "VPC_CNI_BIN_DIR", value: "/host/opt/cni/bin" },
          { name: "VPC_CNI_STATE_DIR", value: "/var/run/aws-node" },
          { name: "AWS_REGION", value: "eu-west-1" },
        ],
        volumeMounts: [
          { name: "cni-bin-dir", mountPath: "/host/opt/cni/bin" },
          { name: "run-dir", mountPath: "/var/run/aws-node" },
        ],
      },
    ],
    volumes: [
      { name: "cni-bin-dir", hostPath: { path: "/opt/cni/bin", type: "DirectoryOrCreate" } },
      { name: "run-dir", hostPath: { path: "/var/run/aws-node" } },
    ],
  },
};

test("aws-node's container: argv, downward API, the node's environment and rewritten volume paths", () => {
  const spec = (awsNode.spec as any).containers[0];
  const config = containerConfig(awsNode, spec, image("localhost/vpc-cni:0.1.0"), 0, ctx);
  assert.deepEqual(config.argv, ["/app/vpc-cni-agent", "--node=ip-10-0-0-5.ec2.internal", "$(literal)", "$(UNKNOWN)"]);
  assert.equal(config.env.MY_NODE_NAME, "ip-10-0-0-5.ec2.internal");
  assert.equal(config.env.MY_POD_NAME, "aws-node-x1");
  assert.equal(config.env.VPC_CNI_BIN_DIR, "/run/vpcsim/r/nodes/n/opt/cni/bin");
  assert.equal(config.env.VPC_CNI_STATE_DIR, "/run/vpcsim/r/nodes/n/var/run/aws-node");
  assert.equal(config.env.AWS_REGION, "eu-west-1", "the pod's env wins over the node's");
  assert.equal(config.env.AWS_ENDPOINT_URL_EC2, "http://192.0.2.10");
  assert.equal(config.env.KUBERNETES_SERVICE_HOST, "192.0.2.20");
  assert.equal(config.env.KUBECONFIG, "/pod/kubeconfig");
  assert.equal(config.logPath, "/run/vpcsim/r/nodes/n/var/log/pods/kube-system_aws-node-x1_u1/aws-node/0.log");
  assert.equal(sandboxConfig(awsNode, 0).hostNetwork, true);
});

test("image defaults, unsupported env sources and volumes are clear errors", () => {
  const pod: KObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u" }, spec: { containers: [{ name: "c", image: "agnhost:2.53", args: ["netexec"] }] } };
  const spec = (pod.spec as any).containers[0];
  assert.deepEqual(containerConfig(pod, spec, image("agnhost:2.53"), 1, ctx).argv, ["/agnhost", "netexec"]);
  assert.match(containerConfig(pod, spec, image("agnhost:2.53"), 1, ctx).env.PATH!, /^\/img\/bin:/);
  assert.throws(() => containerConfig(pod, { ...spec, env: [{ name: "S", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }, image("agnhost:2.53"), 0, ctx), ContainerSpecError);
  assert.throws(() => containerConfig(pod, { ...spec, volumeMounts: [{ name: "nope", mountPath: "/x" }] }, image("agnhost:2.53"), 0, ctx), /volume "nope"/);
  assert.equal(expand("a$(X)b$$(X)", new Map([["X", "1"]])), "a1b$(X)");
  assert.equal(rewritePath("--dir=/m/sub", [{ mountPath: "/m", hostPath: "/h" }]), "--dir=/h/sub");
  assert.equal(rewritePath("/mx", [{ mountPath: "/m", hostPath: "/h" }]), "/mx");
});

test("max pods and resources from the instance type as EKS computes them", () => {
  assert.equal(nodeCapacity("m5.large").pods, 29);
  assert.equal(nodeCapacity("t3.medium").pods, 17);
  assert.equal(nodeCapacity("t3.nano").pods, 4);
  assert.equal(nodeCapacity("m5.4xlarge").pods, 110, "234 by ENIs, capped at 110 for 16 vCPUs");
  assert.equal(maxPods({ maxEnis: 15, ipv4PerEni: 50 }, 96), 250);
  assert.deepEqual(instanceResources("m5.xlarge"), { vcpus: 4, memoryGiB: 16 });
  assert.deepEqual(instanceResources("t3.nano"), { vcpus: 2, memoryGiB: 0.5 });
  assert.throws(() => nodeCapacity("q9.huge"), /not in vpcsim's instance-type table/);
});
