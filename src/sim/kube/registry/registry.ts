// The set of resources the server serves right now: the built-in kinds, registered at start, and
// custom resources, added when their CRD is established and removed when it goes. Discovery, the
// OpenAPI documents and request routing all read from here; listeners hear about changes.

import { apiVersionOf, resourceKey, type ResourceType } from "./resource-type.ts";

export class Registry {
  private readonly byPath = new Map<string, ResourceType>(); // "apps/v1/deployments"
  private readonly groupOrder: string[] = [];
  private readonly listeners = new Set<() => void>();
  private generationCounter = 0;

  /** Bumps on every change, so caches (discovery, OpenAPI) know when to rebuild. */
  get generation(): number {
    return this.generationCounter;
  }

  add(type: ResourceType): void {
    this.byPath.set(resourceKey(type), type);
    if (!this.groupOrder.includes(type.group)) this.groupOrder.push(type.group);
    this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    if (this.byPath.delete(`${apiVersionOf({ group, version })}/${resource}`)) this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byPath.get(`${apiVersionOf({ group, version })}/${resource}`);
  }

  /** By the in-process key: `v1/pods`, `apps/v1/deployments`. */
  byKey(key: string): ResourceType | undefined {
    return this.byPath.get(key);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.byPath.values()) if (apiVersionOf(t) === apiVersion && t.kind === kind) return t;
    return undefined;
  }

  /** Every served version of the resource stored in `table`. */
  byTable(table: string): ResourceType[] {
    return [...this.byPath.values()].filter((t) => t.table === table);
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }

  /** Groups in discovery order: built-in groups as registered, then custom groups alphabetically. */
  groups(): string[] {
    const present = new Set([...this.byPath.values()].map((t) => t.group));
    const builtIn = this.groupOrder.filter((g) => present.has(g) && [...this.byPath.values()].some((t) => t.group === g && !t.custom));
    const custom = [...present].filter((g) => !builtIn.includes(g)).sort();
    return [...builtIn, ...custom];
  }

  /** The group's versions, preferred first (Kubernetes' version priority: v1 > v1beta1 > v1alpha1). */
  versions(group: string): string[] {
    const versions = [...new Set([...this.byPath.values()].filter((t) => t.group === group).map((t) => t.version))];
    const preferred = [...this.byPath.values()].find((t) => t.group === group && t.preferred)?.version;
    return versions.sort((a, b) => (a === preferred ? -1 : b === preferred ? 1 : compareVersions(a, b)));
  }

  resourcesOf(group: string, version: string): ResourceType[] {
    return [...this.byPath.values()].filter((t) => t.group === group && t.version === version);
  }

  private changed(): void {
    this.generationCounter++;
    for (const l of [...this.listeners]) l();
  }
}

/** Kubernetes' version ordering: GA before beta before alpha, higher numbers first; others last, alphabetically. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { rank: 3, major: 0, minor: 0 };
    return { rank: m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2, major: Number(m[1]), minor: Number(m[3] ?? 0) };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa.rank !== pb.rank) return pa.rank - pb.rank;
  if (pa.rank === 3) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}
