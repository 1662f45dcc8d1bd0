// Objects as meta.k8s.io Tables (server-side printing): the kind's columns and rows, each row
// carrying the object as PartialObjectMetadata, the whole object or nothing (`includeObject`).
// Kinds without their own printer print NAME and CREATED AT, as Kubernetes' default convertor.

import type { KObject } from "../objects.ts";
import type { TableColumn, TablePrinter } from "./table-types.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

export const NAME_COLUMN: TableColumn = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.",
  priority: 0,
};

export const DEFAULT_PRINTER: TablePrinter = {
  columns: [
    NAME_COLUMN,
    { name: "Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.", priority: 0 },
  ],
  row: (o) => [o.metadata.name ?? "", o.metadata.creationTimestamp ?? ""],
};

export function partialMetadata(object: KObject, metaVersion: string): KObject {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${metaVersion}`, metadata: object.metadata };
}

export interface TableOptions {
  includeObject: IncludeObject;
  metaVersion: string;
  now: number;
  /** Watch events after the first leave out the column definitions, as Kubernetes does. */
  noHeaders?: boolean;
  listMetadata?: Record<string, unknown>;
}

export function toTable(objects: KObject[], printer: TablePrinter | undefined, options: TableOptions): KObject {
  const p = printer ?? DEFAULT_PRINTER;
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.metaVersion}`,
    metadata: (options.listMetadata ?? {}) as KObject["metadata"],
    columnDefinitions: options.noHeaders ? [] : p.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: c.description, priority: c.priority })),
    rows: objects.map((o) => ({
      cells: p.row(o, options.now),
      ...(options.includeObject === "None" ? {} : { object: options.includeObject === "Object" ? o : partialMetadata(o, options.metaVersion) }),
    })),
  };
}
