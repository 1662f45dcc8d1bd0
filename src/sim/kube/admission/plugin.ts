// Admission: what runs between a request's decoding and its storage (Kubernetes' admission
// plugins). Mutating plugins may change the object; validating plugins may only refuse, by
// throwing a KubeError. The built-in plugins vpcsim needs live beside this file; admission
// webhooks (MutatingAdmissionWebhook, issue 13) plug in as one more async plugin.

import type { KObject } from "../objects.ts";
import type { ResourceType } from "../registry/resource-type.ts";
import type { UserInfo } from "../auth/user.ts";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE";

export interface AdmissionRequest {
  operation: AdmissionOperation;
  type: ResourceType;
  /** "" for the main resource, else "status", "binding", "token", ... */
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (mutable for mutating plugins); for DELETE, undefined. */
  object: KObject | undefined;
  /** The stored object before an UPDATE or DELETE. */
  oldObject: KObject | undefined;
  user: UserInfo;
  dryRun: boolean;
}

/** Read access for plugins (the objects they check against); never writes. */
export interface AdmissionReader {
  get(key: string, namespace: string, name: string): KObject | undefined;
  list(key: string, namespace: string): KObject[];
  now(): number;
}

export interface AdmissionPlugin {
  name: string;
  mutate?(request: AdmissionRequest, reader: AdmissionReader): void | Promise<void>;
  validate?(request: AdmissionRequest, reader: AdmissionReader): void | Promise<void>;
}

export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  constructor(plugins: AdmissionPlugin[] = []) {
    this.plugins.push(...plugins);
  }

  add(plugin: AdmissionPlugin): void {
    this.plugins.push(plugin);
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  async mutate(request: AdmissionRequest, reader: AdmissionReader): Promise<void> {
    for (const p of this.plugins) if (p.mutate) await p.mutate(request, reader);
  }

  async validate(request: AdmissionRequest, reader: AdmissionReader): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(request, reader);
  }
}
