// What kube-controller-manager runs for vpcsim's cluster, beside the API server's own controllers
// (namespaces, service accounts, CRDs): Deployments, ReplicaSets, DaemonSets and the garbage
// collector, on the control plane's in-process client.

import type { KubeClient } from "../kube/api/client.ts";
import { DaemonSetController } from "./controllers/daemonset-controller.ts";
import { DeploymentController } from "./controllers/deployment-controller.ts";
import { GarbageCollector } from "./controllers/garbage-collector.ts";
import { ReplicaSetController } from "./controllers/replicaset-controller.ts";

export class ControllerManager {
  readonly deployments: DeploymentController;
  readonly replicaSets: ReplicaSetController;
  readonly daemonSets: DaemonSetController;
  readonly garbageCollector: GarbageCollector;

  constructor(client: KubeClient, onError: (message: string) => void = () => {}) {
    this.deployments = new DeploymentController(client, onError);
    this.replicaSets = new ReplicaSetController(client, onError);
    this.daemonSets = new DaemonSetController(client, onError);
    this.garbageCollector = new GarbageCollector(client, onError);
  }

  async start(): Promise<void> {
    await this.garbageCollector.start();
    await this.replicaSets.start();
    await this.deployments.start();
    await this.daemonSets.start();
  }

  stop(): void {
    this.deployments.stop();
    this.replicaSets.stop();
    this.daemonSets.stop();
    this.garbageCollector.stop();
  }

  /** Resolves when every controller's queue is empty (tests). */
  async idle(): Promise<void> {
    for (const q of [this.garbageCollector.queue, this.replicaSets.queue, this.deployments.queue, this.daemonSets.queue]) await q.idle();
  }
}
