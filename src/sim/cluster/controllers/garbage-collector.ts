// The garbage collector (kube-controller-manager's) for owner references: a graph of the objects
// of the resources below and their owners, kept by informers. An object all of whose owners are
// gone is deleted (in the background; in the foreground when an owner waits for it); owners that
// are gone are removed from an object that still has one. An owner deleted with
// propagationPolicy=Orphan (finalizer `orphan`) has its references removed from its dependents,
// then the finalizer; one deleted with Foreground (finalizer `foregroundDeletion`) has its
// dependents deleted (in the foreground themselves) and keeps its finalizer until the dependents
// that block owner deletion are gone. Background, the default for the apps kinds and what kubectl
// sends, needs no finalizer: the owner goes at once and its dependents follow.

import type { KObject, OwnerReference } from "../../kube/objects.ts";
import type { KubeClient } from "../../kube/api/client.ts";
import { Informer } from "../../kube/api/informer.ts";
import { resourceKey } from "../../kube/registry/resource-type.ts";
import { KubeError } from "../../kube/status.ts";
import { WorkQueue } from "../../kube/controllers/work-queue.ts";

/** The resources whose owner references are followed (owners and dependents). */
export const COLLECTED_RESOURCES = ["apps/v1/deployments", "apps/v1/replicasets", "apps/v1/daemonsets", "apps/v1/controllerrevisions", "v1/pods", "v1/configmaps", "v1/secrets", "v1/services"];

interface GraphNode {
  uid: string;
  resource: string;
  namespace: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

export class GarbageCollector {
  private readonly client: KubeClient;
  private readonly informers: Informer[] = [];
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();
  readonly queue: WorkQueue;

  constructor(client: KubeClient, onError: (message: string) => void = () => {}) {
    this.client = client;
    this.queue = new WorkQueue((uid) => this.process(uid), (uid, err) => onError(`garbage collector ${uid}: ${(err as Error).message}`));
    for (const resource of COLLECTED_RESOURCES) {
      if (!client.api.registry.byKey(resource)) continue;
      this.informers.push(
        new Informer(client, resource, {}, {
          add: (o) => this.observe(resource, o),
          update: (o) => this.observe(resource, o),
          delete: (o) => this.forget(o),
        }),
      );
    }
  }

  async start(): Promise<void> {
    for (const i of this.informers) await i.start();
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    this.queue.stop();
  }

  /** The dependents the graph knows of (tests). */
  dependentsOf(uid: string): string[] {
    return [...(this.dependents.get(uid) ?? [])];
  }

  private observe(resource: string, o: KObject): void {
    const uid = o.metadata.uid!;
    const before = this.nodes.get(uid);
    for (const ref of before?.owners ?? []) this.dependents.get(ref.uid)?.delete(uid);
    const node: GraphNode = {
      uid,
      resource,
      namespace: o.metadata.namespace ?? "",
      name: o.metadata.name!,
      owners: o.metadata.ownerReferences ?? [],
      deleting: o.metadata.deletionTimestamp !== undefined,
      finalizers: o.metadata.finalizers ?? [],
    };
    this.nodes.set(uid, node);
    for (const ref of node.owners) {
      if (!this.dependents.has(ref.uid)) this.dependents.set(ref.uid, new Set());
      this.dependents.get(ref.uid)!.add(uid);
    }
    if (node.owners.length > 0) this.queue.add(uid);
    if (node.deleting && (node.finalizers.includes("orphan") || node.finalizers.includes("foregroundDeletion"))) this.queue.add(uid);
    if (node.deleting) for (const ref of node.owners) this.wakeWaitingOwner(ref.uid);
  }

  private forget(o: KObject): void {
    const uid = o.metadata.uid!;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    for (const ref of node?.owners ?? o.metadata.ownerReferences ?? []) {
      this.dependents.get(ref.uid)?.delete(uid);
      this.wakeWaitingOwner(ref.uid);
    }
    for (const dependent of this.dependents.get(uid) ?? []) this.queue.add(dependent);
  }

  private wakeWaitingOwner(uid: string): void {
    const owner = this.nodes.get(uid);
    if (owner?.deleting && owner.finalizers.includes("foregroundDeletion")) this.queue.add(uid);
  }

  private async process(uid: string): Promise<boolean> {
    const node = this.nodes.get(uid);
    if (!node) return true;
    const live = await this.client.find(node.resource, node.name, node.namespace);
    if (!live || live.metadata.uid !== uid) return true;
    const finalizers = live.metadata.finalizers ?? [];
    if (live.metadata.deletionTimestamp !== undefined && finalizers.includes("orphan")) return this.orphanDependents(live, node);
    if (live.metadata.deletionTimestamp !== undefined && finalizers.includes("foregroundDeletion")) return this.deleteDependentsFirst(live, node);
    return this.checkOwners(live, node);
  }

  private async orphanDependents(owner: KObject, node: GraphNode): Promise<boolean> {
    for (const dep of this.dependentsOf(node.uid)) {
      const d = this.nodes.get(dep);
      if (!d) continue;
      const object = await this.client.find(d.resource, d.name, d.namespace);
      if (!object) continue;
      const refs = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== node.uid);
      if (refs.length === (object.metadata.ownerReferences ?? []).length) continue;
      await this.client.update({ ...object, metadata: { ...object.metadata, ownerReferences: refs } });
    }
    return this.removeFinalizer(owner, "orphan");
  }

  private async deleteDependentsFirst(owner: KObject, node: GraphNode): Promise<boolean> {
    let blocking = 0;
    for (const dep of this.dependentsOf(node.uid)) {
      const d = this.nodes.get(dep);
      if (!d) continue;
      const ref = d.owners.find((r) => r.uid === node.uid);
      if (ref?.blockOwnerDeletion === true) blocking++;
      if (!d.deleting) await this.deleteObject(d, "Foreground");
    }
    if (blocking > 0) return true; // woken again as each dependent goes
    return this.removeFinalizer(owner, "foregroundDeletion");
  }

  private async removeFinalizer(object: KObject, finalizer: string): Promise<boolean> {
    try {
      await this.client.update({ ...object, metadata: { ...object.metadata, finalizers: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer) } });
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return true;
      if (err instanceof KubeError && err.code === 409) return false;
      throw err;
    }
  }

  /** The owner as it is now: "present", "absent", or "waiting" (being deleted in the foreground). */
  private async ownerState(dependent: GraphNode, ref: OwnerReference): Promise<"present" | "absent" | "waiting"> {
    const type = this.client.api.registry.byKind(ref.apiVersion, ref.kind);
    if (!type) return "present"; // a kind this server does not serve: not ours to judge
    const namespace = type.namespaced ? dependent.namespace : "";
    const known = this.nodes.get(ref.uid);
    const owner = known ? await this.client.find(known.resource, known.name, known.namespace) : await this.client.find(resourceKey(type), ref.name, namespace);
    if (!owner || owner.metadata.uid !== ref.uid) return "absent";
    if (owner.metadata.deletionTimestamp !== undefined && (owner.metadata.finalizers ?? []).includes("foregroundDeletion")) return "waiting";
    return "present";
  }

  private async checkOwners(object: KObject, node: GraphNode): Promise<boolean> {
    const refs = object.metadata.ownerReferences ?? [];
    if (refs.length === 0) return true;
    const states = await Promise.all(refs.map((r) => this.ownerState(node, r)));
    const solid = refs.filter((_r, i) => states[i] === "present");
    if (solid.length > 0) {
      if (solid.length < refs.length && states.includes("absent")) {
        const keep = refs.filter((_r, i) => states[i] !== "absent");
        await this.client.update({ ...object, metadata: { ...object.metadata, ownerReferences: keep } }).catch((err) => {
          if (!(err instanceof KubeError && (err.code === 404 || err.code === 409))) throw err;
        });
      }
      return true;
    }
    if (object.metadata.deletionTimestamp !== undefined) return true;
    await this.deleteObject(node, states.includes("waiting") ? "Foreground" : "Background");
    return true;
  }

  private async deleteObject(node: GraphNode, policy: "Foreground" | "Background"): Promise<void> {
    try {
      await this.client.delete(node.resource, node.name, node.namespace, { propagationPolicy: policy, preconditions: { uid: node.uid } });
    } catch (err) {
      if (!(err instanceof KubeError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}
