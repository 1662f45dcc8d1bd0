// The served versions of a CRD as ResourceTypes: one store table for all versions (conversion is
// None: only apiVersion changes), pruning and validation by the version's structural schema
// (types, required, enums, bounds) with schema defaults, status and scale subresources when
// declared, selectable fields and printer columns from the CRD; no strategic merge patch, no
// unconditional updates, as for custom resources in Kubernetes.

import { deepEqual, isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import type { ResourceType, ScaleSubresource } from "../registry/resource-type.ts";
import type { TablePrinter } from "../printing/table-types.ts";
import { NAME_COLUMN } from "../printing/table.ts";
import { evaluateJsonPath } from "../printing/jsonpath.ts";
import { age } from "../printing/age.ts";
import { scaleSubresource } from "../api/scale.ts";
import { crdNames, crdSpec, crdVersions } from "./crd-type.ts";
import { customResourceSchema } from "./schema-from-crd.ts";
import { applyDefaults, validateCustomResource } from "./value-validation.ts";

type Obj = Record<string, unknown>;

function jsonPathSteps(path: string): string[] {
  return path.replace(/^\./, "").split(".");
}

function printerOf(version: Obj): TablePrinter {
  const columns = (Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns : []).filter(isPlainObject) as Obj[];
  return {
    columns: [
      NAME_COLUMN,
      ...columns.map((c) => ({
        name: String(c.name),
        type: (["integer", "number", "boolean", "date"].includes(String(c.type)) ? c.type : "string") as "string",
        ...(typeof c.format === "string" ? { format: c.format } : {}),
        description: typeof c.description === "string" ? c.description : "",
        priority: typeof c.priority === "number" ? c.priority : 0,
      })),
    ],
    row(object, now) {
      return [
        object.metadata.name ?? "",
        ...columns.map((c) => {
          const values = evaluateJsonPath(object, String(c.jsonPath));
          if (values.length === 0) return null;
          const value = values.length === 1 ? values[0] : values.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
          if (c.type === "date") return typeof value === "string" ? age(value, now) : value;
          if (c.type === "string" && typeof value === "object") return JSON.stringify(value);
          return value;
        }),
      ];
    },
  };
}

function scaleOf(version: Obj): ScaleSubresource | undefined {
  const scale = isPlainObject(version.subresources) ? version.subresources.scale : undefined;
  if (!isPlainObject(scale)) return undefined;
  return {
    specReplicasPath: jsonPathSteps(String(scale.specReplicasPath)),
    statusReplicasPath: jsonPathSteps(String(scale.statusReplicasPath)),
    ...(typeof scale.labelSelectorPath === "string" ? { labelSelectorPath: jsonPathSteps(scale.labelSelectorPath) } : {}),
  };
}

/** The ResourceTypes of a CRD's served versions. */
export function customResourceTypes(crd: KObject): ResourceType[] {
  const spec = crdSpec(crd);
  const names = crdNames(crd);
  const group = String(spec.group);
  const plural = String(names.plural);
  const kind = String(names.kind);
  const versions = crdVersions(crd);
  const storageVersion = String(versions.find((v) => v.storage === true)?.name ?? versions[0]?.name);
  const served = versions.filter((v) => v.served === true);
  const preferred = served[0]?.name;
  return served.map((version) => {
    const name = String(version.name);
    const apiVersion = `${group}/${name}`;
    const schema = customResourceSchema(isPlainObject(version.schema) ? version.schema.openAPIV3Schema : undefined, { group, version: name, kind });
    const selectable = (Array.isArray(version.selectableFields) ? version.selectableFields : []).filter(isPlainObject).map((f) => String(f.jsonPath));
    const scale = scaleOf(version);
    const hasStatus = isPlainObject(version.subresources) && version.subresources.status !== undefined;
    return defineType({
      group,
      version: name,
      resource: plural,
      kind,
      listKind: typeof names.listKind === "string" ? names.listKind : `${kind}List`,
      singular: typeof names.singular === "string" ? names.singular : kind.toLowerCase(),
      namespaced: spec.scope === "Namespaced",
      shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
      categories: Array.isArray(names.categories) ? names.categories.map(String) : [],
      table: `crd:${plural}.${group}`,
      preferred: name === preferred,
      storageApiVersion: `${group}/${storageVersion}`,
      fromStorage: (o) => ({ ...o, apiVersion }),
      toStorage: (o) => ({ ...o, apiVersion: `${group}/${storageVersion}` }),
      status: hasStatus,
      ...(scale ? { scale, subresources: { scale: scaleSubresource } } : {}),
      generation: true,
      allowUnconditionalUpdate: false,
      strategicMerge: false,
      returnDeletedObject: true,
      selectableFields: selectable.map((p) => p.replace(/^\./, "")),
      fieldSet: (o) => Object.fromEntries(selectable.map((p) => [p.replace(/^\./, ""), String(evaluateJsonPath(o, p)[0] ?? "")])),
      schema,
      custom: { crdName: crd.metadata.name! },
      printer: printerOf(version),
      strategy: {
        defaults: (o) => void applyDefaults(o, schema),
        validate: (o) => validateCustomResource(o, schema),
        validateStatusUpdate: (o) => validateCustomResource(o, schema),
        prepareForUpdate(o, old) {
          // Without a status subresource, generation counts changes to everything but metadata.
          if (!hasStatus && !deepEqual(o.status, old.status) && o.metadata.generation === old.metadata.generation) o.metadata.generation = (old.metadata.generation ?? 1) + 1;
        },
      },
    });
  });
}
