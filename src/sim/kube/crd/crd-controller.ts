// What kube-apiserver's apiextensions controllers do for CRDs: a CRD whose names do not clash is
// served at once (registered in the same step as its write, so a custom resource can be created
// right after the CRD) and then marked NamesAccepted and Established; a deleted CRD is marked
// Terminating, its custom resources are deleted (new ones refused with 405), and when none is left
// its cleanup finalizer is removed and it stops being served.

import { formatTime, isPlainObject, type KObject } from "../objects.ts";
import type { KubeApi } from "../api/kube-api.ts";
import type { KubeClient } from "../api/client.ts";
import { resourceKey } from "../registry/resource-type.ts";
import type { Change } from "../store/revision-store.ts";
import { KubeError } from "../status.ts";
import type { AdmissionPlugin } from "../admission/plugin.ts";
import { WorkQueue } from "../controllers/work-queue.ts";
import { CRD_CLEANUP_FINALIZER, crdNames, crdSpec, crdVersions, customresourcedefinitions } from "./crd-type.ts";
import { customResourceTypes } from "./custom-resource-type.ts";

const CRD_KEY = "apiextensions.k8s.io/v1/customresourcedefinitions";

type Obj = Record<string, unknown>;

function condition(type: string, status: string, reason: string, message: string, now: number, previous: Obj[]): Obj {
  const old = previous.find((c) => c.type === type);
  return { type, status, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : formatTime(now), reason, message };
}

export class CrdController {
  private readonly api: KubeApi;
  private readonly client: KubeClient;
  private readonly served = new Map<string, { group: string; versions: string[]; plural: string }>();
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(api: KubeApi, client: KubeClient, onError: (message: string) => void = () => {}) {
    this.api = api;
    this.client = client;
    this.queue = new WorkQueue((name) => this.sync(name), (name, err) => onError(`customresourcedefinition ${name}: ${(err as Error).message}`));
  }

  start(): void {
    this.unsubscribe = this.api.store.subscribe((change) => this.onChange(change));
    for (const [, crd] of this.api.store.list(customresourcedefinitions.table)) this.serve(crd);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  /** Resolves when every queued CRD has been handled (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Refuses new custom resources of a CRD that is being deleted, as Kubernetes does. */
  readonly admission: AdmissionPlugin = {
    name: "CustomResourceDefinitionLifecycle",
    validate: (request, reader) => {
      const crdName = request.type.custom?.crdName;
      if (!crdName || request.operation !== "CREATE") return;
      const crd = reader.get(CRD_KEY, "", crdName);
      if (crd?.metadata.deletionTimestamp) {
        throw new KubeError({ code: 405, reason: "MethodNotAllowed", message: "create not allowed while custom resource definition is terminating" });
      }
    },
  };

  private onChange(change: Change): void {
    if (change.table !== customresourcedefinitions.table) return;
    const name = change.key;
    if (change.type === "DELETED") {
      this.unserve(name);
      return;
    }
    this.serve(change.object);
    this.queue.add(name);
  }

  /** Registers the CRD's served versions (unless its names clash with another resource). */
  private serve(crd: KObject): void {
    const name = crd.metadata.name!;
    if (this.conflict(crd)) return;
    const types = customResourceTypes(crd);
    const previous = this.served.get(name);
    for (const v of previous?.versions ?? []) if (!types.some((t) => t.version === v)) this.api.registry.remove(previous!.group, v, previous!.plural);
    for (const t of types) this.api.registry.add(t);
    this.served.set(name, { group: String(crdSpec(crd).group), plural: String(crdNames(crd).plural), versions: types.map((t) => t.version) });
  }

  private unserve(name: string): void {
    const previous = this.served.get(name);
    if (!previous) return;
    for (const v of previous.versions) this.api.registry.remove(previous.group, v, previous.plural);
    this.served.delete(name);
  }

  /** Why the CRD's names cannot be accepted, or undefined. */
  private conflict(crd: KObject): string | undefined {
    const group = String(crdSpec(crd).group);
    const names = crdNames(crd);
    for (const t of this.api.registry.all()) {
      if (t.group !== group || t.custom?.crdName === crd.metadata.name) continue;
      if (t.resource === names.plural) return `"${String(names.plural)}" is already in use`;
      if (t.kind === names.kind) return `"${String(names.kind)}" is already in use`;
      if ((names.shortNames as string[] | undefined)?.some((sn) => t.shortNames.includes(sn))) return "a short name is already in use";
    }
    return undefined;
  }

  private async sync(name: string): Promise<boolean> {
    const crd = await this.client.find(CRD_KEY, name);
    if (!crd) return true;
    if (crd.metadata.deletionTimestamp) return this.cleanUp(crd);
    const now = this.api.now();
    const status: Obj = isPlainObject(crd.status) ? { ...crd.status } : {};
    const previous = (Array.isArray(status.conditions) ? status.conditions : []) as Obj[];
    const clash = this.conflict(crd);
    const conditions = clash
      ? [condition("NamesAccepted", "False", "NamesConflict", clash, now, previous), condition("Established", "False", "NotAccepted", "not all names are accepted", now, previous)]
      : [condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", now, previous), condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted", now, previous)];
    const storage = crdVersions(crd).find((v) => v.storage === true)?.name;
    const stored = new Set((Array.isArray(status.storedVersions) ? status.storedVersions : []) as string[]);
    if (typeof storage === "string") stored.add(storage);
    const next: Obj = { ...status, conditions, acceptedNames: clash ? (status.acceptedNames ?? {}) : crdNames(crd), storedVersions: [...stored] };
    await this.writeStatus(crd, next);
    return true;
  }

  private async cleanUp(crd: KObject): Promise<boolean> {
    const previous = (isPlainObject(crd.status) && Array.isArray(crd.status.conditions) ? crd.status.conditions : []) as Obj[];
    if (!previous.some((c) => c.type === "Terminating" && c.status === "True")) {
      const conditions = [...previous.filter((c) => c.type !== "Terminating"), condition("Terminating", "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress", this.api.now(), previous)];
      await this.writeStatus(crd, { ...(crd.status as Obj), conditions });
    }
    const type = customResourceTypes(crd)[0];
    if (type && this.api.registry.lookup(type.group, type.version, type.resource)) {
      const key = resourceKey(type);
      const items = (await this.client.list(key)).items;
      for (const item of items) {
        if (item.metadata.deletionTimestamp) continue;
        try {
          await this.client.delete(key, item.metadata.name!, item.metadata.namespace ?? "");
        } catch (err) {
          if (!(err instanceof KubeError && err.code === 404)) throw err;
        }
      }
      if (items.length > 0) return false;
    }
    const fresh = await this.client.find(CRD_KEY, crd.metadata.name!);
    if (!fresh) return true;
    const finalizers = (fresh.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    await this.client.update({ ...fresh, metadata: { ...fresh.metadata, finalizers } });
    return true;
  }

  private async writeStatus(crd: KObject, status: Obj): Promise<void> {
    try {
      await this.client.updateStatus({ ...crd, status });
    } catch (err) {
      // A newer version of the CRD is queued already and will be synced again.
      if (!(err instanceof KubeError && (err.code === 409 || err.code === 404))) throw err;
    }
  }
}
