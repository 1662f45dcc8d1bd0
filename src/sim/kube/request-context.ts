// Who asks, and the per-request switches every call shares: the one context the HTTP layer, the
// in-process client, the API's steps and the kinds' handlers pass along.

import type { UserInfo } from "./auth/user.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface RequestContext {
  user: UserInfo;
  dryRun?: boolean;
  /** Unknown fields in the body: Kubernetes' default (when unset) is Warn. */
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  /** Warnings to return (the HTTP layer sends them as `Warning: 299 - "..."` headers). */
  warnings: string[];
}
