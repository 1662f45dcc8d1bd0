// Server-side printing (meta.k8s.io/v1 Table): the columns a kind prints in `kubectl get`, and
// how one object becomes a row. Priority 0 columns always show, priority 1 only with -o wide.

import type { KObject } from "../objects.ts";

export interface TableColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format?: string; // "name" for the NAME column, "date" for times
  description: string;
  priority: number;
}

export interface TablePrinter {
  columns: TableColumn[];
  /** One cell per column, in order (strings, numbers or booleans as Kubernetes sends them). */
  row(object: KObject, now: number): unknown[];
}
