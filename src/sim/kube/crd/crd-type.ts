// apiextensions.k8s.io/v1 CustomResourceDefinitions: defaults (singular, listKind, the Age column,
// conversion None), validation (name = plural.group, names, scope, one storage version, structural
// schemas), what may change, and the cleanup finalizer that makes deleting a CRD delete its
// custom resources first. The CRD controller (crd-controller.ts) serves them.

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { checkDns1035Label, checkDnsLabel, checkDnsSubdomain } from "../validation/names.ts";
import { crdSchema } from "../schema/apiextensions.ts";
import { structuralProblems } from "./schema-from-crd.ts";

export const CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

type Obj = Record<string, unknown>;

export function crdSpec(crd: KObject): Obj {
  return isPlainObject(crd.spec) ? crd.spec : {};
}

export function crdNames(crd: KObject): Obj {
  const names = crdSpec(crd).names;
  return isPlainObject(names) ? names : {};
}

export function crdVersions(crd: KObject): Obj[] {
  const versions = crdSpec(crd).versions;
  return Array.isArray(versions) ? (versions.filter(isPlainObject) as Obj[]) : [];
}

function defaults(crd: KObject): void {
  const spec = crdSpec(crd);
  const names = crdNames(crd);
  if (typeof names.kind === "string") {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: "None" };
  for (const v of crdVersions(crd)) {
    if (!Array.isArray(v.additionalPrinterColumns) || v.additionalPrinterColumns.length === 0) {
      v.additionalPrinterColumns = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];
    }
  }
}

function validate(crd: KObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = crdSpec(crd);
  const names = crdNames(crd);
  const group = spec.group;
  if (typeof group !== "string" || group === "") errors.push(fieldErrors.required("spec.group", ""));
  else {
    const problem = checkDnsSubdomain(group);
    if (problem) errors.push(fieldErrors.invalid("spec.group", group, problem));
    else if (group.split(".").length < 2) errors.push(fieldErrors.invalid("spec.group", group, "should be a domain with at least one dot"));
  }
  const plural = names.plural;
  if (typeof plural !== "string" || plural === "") errors.push(fieldErrors.required("spec.names.plural", ""));
  else {
    const problem = checkDnsLabel(plural);
    if (problem) errors.push(fieldErrors.invalid("spec.names.plural", plural, problem));
  }
  for (const field of ["singular"] as const) {
    const v = names[field];
    if (typeof v === "string" && v !== "") {
      const problem = checkDnsLabel(v);
      if (problem) errors.push(fieldErrors.invalid(`spec.names.${field}`, v, problem));
    }
  }
  for (const field of ["kind", "listKind"] as const) {
    const v = names[field];
    if (field === "kind" && (typeof v !== "string" || v === "")) errors.push(fieldErrors.required("spec.names.kind", ""));
    else if (typeof v === "string" && checkDns1035Label(v.toLowerCase())) errors.push(fieldErrors.invalid(`spec.names.${field}`, v, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?"));
  }
  if (names.kind !== undefined && names.kind === names.listKind) errors.push(fieldErrors.invalid("spec.names.listKind", names.listKind, "kind and listKind may not be the same"));
  if (typeof plural === "string" && typeof group === "string" && crd.metadata.name !== `${plural}.${group}`) {
    errors.push(fieldErrors.invalid("metadata.name", crd.metadata.name ?? "", `must be spec.names.plural+"."+spec.group`));
  }
  if (spec.scope !== "Cluster" && spec.scope !== "Namespaced") errors.push(fieldErrors.notSupported("spec.scope", spec.scope ?? "", ["Cluster", "Namespaced"]));
  if (spec.preserveUnknownFields === true) errors.push(fieldErrors.invalid("spec.preserveUnknownFields", true, "must be false in order to use defaults in the schema"));
  const versions = crdVersions(crd);
  if (versions.length === 0) errors.push(fieldErrors.required("spec.versions", "must have exactly one version marked as storage version"));
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (typeof v.name !== "string" || v.name === "") errors.push(fieldErrors.required(`${p}.name`, ""));
    else {
      const problem = checkDnsLabel(v.name);
      if (problem) errors.push(fieldErrors.invalid(`${p}.name`, v.name, problem));
      if (seen.has(v.name)) errors.push(fieldErrors.duplicate(`${p}.name`, v.name));
      seen.add(v.name);
    }
    if (typeof v.served !== "boolean") errors.push(fieldErrors.required(`${p}.served`, ""));
    if (typeof v.storage !== "boolean") errors.push(fieldErrors.required(`${p}.storage`, ""));
    if (v.storage === true) storage++;
    const schema = isPlainObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
    if (schema === undefined) errors.push(fieldErrors.required(`${p}.schema.openAPIV3Schema`, "schemas are required"));
    else errors.push(...structuralProblems(schema, `${p}.schema.openAPIV3Schema`));
    const scale = isPlainObject(v.subresources) ? v.subresources.scale : undefined;
    if (isPlainObject(scale)) {
      for (const f of ["specReplicasPath", "statusReplicasPath"]) {
        const path = scale[f];
        if (typeof path !== "string" || !path.startsWith(".")) errors.push(fieldErrors.invalid(`${p}.subresources.scale.${f}`, path ?? "", "should be a json path under .spec or .status"));
      }
    }
  });
  if (versions.length > 0 && storage !== 1) errors.push(fieldErrors.invalid("spec.versions", versions.map((v) => v.name), "must have exactly one version marked as storage version"));
  const conversion = isPlainObject(spec.conversion) ? spec.conversion : {};
  if (conversion.strategy !== undefined && conversion.strategy !== "None" && conversion.strategy !== "Webhook") errors.push(fieldErrors.notSupported("spec.conversion.strategy", conversion.strategy, ["None", "Webhook"]));
  return errors;
}

function validateUpdate(crd: KObject, old: KObject): FieldError[] {
  const errors: FieldError[] = [];
  if (crdSpec(crd).scope !== crdSpec(old).scope) errors.push(fieldErrors.invalid("spec.scope", crdSpec(crd).scope ?? "", "field is immutable"));
  if (crdSpec(crd).group !== crdSpec(old).group) errors.push(fieldErrors.invalid("spec.group", crdSpec(crd).group ?? "", "field is immutable"));
  const stored = isPlainObject(old.status) && Array.isArray(old.status.storedVersions) ? (old.status.storedVersions as string[]) : [];
  const names = new Set(crdVersions(crd).map((v) => v.name));
  for (const v of stored) if (!names.has(v)) errors.push(fieldErrors.invalid("status.storedVersions", stored, `must appear in spec.versions`));
  return errors;
}

export const customresourcedefinitions = defineType({
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
  shortNames: ["crd", "crds"],
  categories: ["api-extensions"],
  status: true,
  generation: true,
  schema: crdSchema,
  strategy: {
    defaults,
    prepareForCreate(crd) {
      crd.metadata.finalizers = [...new Set([...(crd.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER])];
    },
    validate,
    validateUpdate,
  },
});
