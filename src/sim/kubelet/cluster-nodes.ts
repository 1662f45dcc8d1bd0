// The Kubernetes nodes of a vpcsim run (settings.json "kubernetesNodes": true, `vpcsim up
// --kubelets`): the scheduler, and a kubelet process per running instance, started when the run
// comes up or the instance is launched, stopped when it is terminated (its Node deleted, as the
// cloud controller manager does for a terminated instance) and when the run goes down.

import type { Ec2Model } from "../ec2/model.ts";
import type { Instance } from "../ec2/types.ts";
import { privateDnsName } from "../imds/metadata-tree.ts";
import type { KubeApiServer } from "../kube/server.ts";
import { Scheduler } from "../kube/controllers/scheduler.ts";
import { nameTag } from "../status.ts";
import { KubeletSupervisor } from "./supervisor.ts";

type Log = (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;

export class ClusterNodes {
  readonly supervisor: KubeletSupervisor;
  readonly scheduler: Scheduler;
  readonly #model: Ec2Model;
  readonly #server: KubeApiServer;
  readonly #region: string;
  readonly #netnsOf: (instanceId: string) => string;
  readonly #log: Log;
  readonly #nodeNames = new Map<string, string>();
  readonly #ec2Endpoint: string;

  constructor(options: { runName: string; runDir: string; server: KubeApiServer; apiUrl: string; model: Ec2Model; region: string; ec2Endpoint: string; netnsOf: (instanceId: string) => string; log: Log }) {
    this.supervisor = new KubeletSupervisor({ runName: options.runName, runDir: options.runDir, server: options.server, apiUrl: options.apiUrl, log: options.log });
    this.scheduler = new Scheduler(options.server.client, (m) => options.log("error", m));
    this.#model = options.model;
    this.#server = options.server;
    this.#region = options.region;
    this.#ec2Endpoint = options.ec2Endpoint;
    this.#netnsOf = options.netnsOf;
    this.#log = options.log;
  }

  /** Starts the scheduler and a kubelet on every running instance. */
  async start(): Promise<void> {
    await this.scheduler.start();
    await Promise.all(this.#model.instances().filter((i) => i.state === "running").map((i) => this.startInstance(i)));
  }

  /** The Node name of an instance: its private DNS name, as on EKS. */
  nodeName(instance: Instance): string {
    const eni = this.#model.networkInterface(instance.primaryNetworkInterfaceId);
    return privateDnsName(eni?.privateIps[0]?.address ?? "", this.#region);
  }

  async startInstance(instance: Instance): Promise<void> {
    const nodeName = this.nodeName(instance);
    this.#nodeNames.set(instance.instanceId, nodeName);
    await this.supervisor.start({
      instanceName: nameTag(instance.tags) || instance.instanceId,
      instanceId: instance.instanceId,
      netns: this.#netnsOf(instance.instanceId),
      nodeName,
      // What `vpcsim exec` gives a program on the instance: vpcsim has no DNS for AWS endpoints.
      nodeEnv: { AWS_REGION: this.#region, AWS_DEFAULT_REGION: this.#region, AWS_ENDPOINT_URL_EC2: this.#ec2Endpoint },
    });
  }

  /** The instance is terminated: its kubelet stops and its Node goes. */
  async terminateInstance(instanceId: string): Promise<void> {
    await this.supervisor.stop(instanceId);
    const name = this.#nodeNames.get(instanceId);
    if (!name) return;
    this.#nodeNames.delete(instanceId);
    try {
      await this.#server.client.delete("v1/nodes", name);
    } catch (err) {
      this.#log("error", "deleting the Node of a terminated instance failed", { node: name, error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    this.scheduler.stop();
    await this.supervisor.stopAll();
  }
}
