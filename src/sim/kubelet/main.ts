// The kubelet process of one vpcsim node, run by the vpcsim daemon inside the instance's network
// namespace (nsenter --net, sharing the machine's mount namespace so the sandboxes it makes are
// visible to all):
//
//   main.ts --config FILE
//
// FILE (JSON): kubeconfig (system:node:<name> credential), nodeRoot, netnsPrefix, cniBinDirs, and
// optionally nodeName (default: the instance's private DNS name, as on EKS), maxPods (default: the
// EKS max-pods value of the instance type), labels, imdsEndpoint. It reads its identity from IMDS,
// registers the node at the API server the kubeconfig names and runs the pods bound to it.
// SIGTERM stops the kubelet and leaves its pods running (a new kubelet takes them over); SIGINT,
// or the daemon that started it going away, shuts the node down: its containers are killed first.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RestClient, readKubeconfig } from "./api/rest-client.ts";
import { Kubelet } from "./kubelet.ts";
import { nodeCapacity } from "./node/capacity.ts";
import { readInstanceIdentity, IMDS_ENDPOINT, type InstanceIdentity } from "./node/instance-identity.ts";
import { Runtime } from "./runtime/runtime.ts";

export interface KubeletProcessConfig {
  kubeconfig: string;
  nodeRoot: string;
  netnsPrefix: string;
  cniBinDirs: string[];
  nodeName?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  imdsEndpoint?: string;
  /** Given to every container: the node's AWS environment (region, EC2 endpoint). */
  nodeEnv?: Record<string, string>;
}

function log(level: "info" | "error", message: string, fields: Record<string, unknown> = {}) {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + "\n");
}

async function identity(endpoint: string): Promise<InstanceIdentity> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readInstanceIdentity(endpoint);
    } catch (err) {
      if (attempt >= 30) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function main() {
  const { values } = parseArgs({ options: { config: { type: "string" } }, strict: true });
  if (!values.config) throw new Error("--config FILE is required");
  const config = JSON.parse(readFileSync(values.config, "utf8")) as KubeletProcessConfig;
  const rest = readKubeconfig(config.kubeconfig);
  const api = new RestClient(rest);
  const id = await identity(config.imdsEndpoint ?? IMDS_ENDPOINT);
  const capacity = nodeCapacity(id.instanceType);
  if (config.maxPods !== undefined) capacity.pods = config.maxPods;
  const name = config.nodeName ?? id.privateDnsName;
  const runtime = new Runtime({
    nodeRoot: config.nodeRoot,
    netnsPrefix: config.netnsPrefix,
    cniBinDirs: config.cniBinDirs,
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    log,
  });
  const url = new URL(rest.server);
  const kubelet = new Kubelet({
    api,
    runtime,
    node: { name, identity: id, capacity, ...(config.labels ? { labels: config.labels } : {}) },
    nodeRoot: config.nodeRoot,
    apiServer: { url: rest.server, host: url.hostname, port: Number(url.port || 443), caPem: rest.caPem },
    ...(config.nodeEnv ? { nodeEnv: config.nodeEnv } : {}),
    log,
  });
  log("info", "kubelet starting", { node: name, instance: id.instanceId, type: id.instanceType, zone: id.zone, maxPods: capacity.pods, server: rest.server });

  let ending = false;
  const end = async (why: string, shutdown: boolean) => {
    if (ending) return;
    ending = true;
    log("info", `stopping: ${why}`, { shutdown });
    try {
      if (shutdown) await kubelet.shutdown();
      else kubelet.stop();
    } finally {
      api.close();
      process.exit(0);
    }
  };
  process.on("SIGTERM", () => void end("SIGTERM", false));
  process.on("SIGINT", () => void end("SIGINT", true));
  // Started by the daemon: when it goes (crashed or killed), so does the node.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void end("the vpcsim daemon is gone", true);
  }, 1000).unref();
  await kubelet.start();
}

main().catch((err: Error) => {
  log("error", `kubelet failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
