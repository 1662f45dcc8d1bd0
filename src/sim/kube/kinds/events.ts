// Events, served as core v1 and as events.k8s.io/v1 over one store (as Kubernetes does): the
// events.k8s.io shape (regarding, note, reportingController, deprecated*) is converted to and from
// the stored core shape (involvedObject, message, reportingComponent, ...), so an event recorded
// through either API shows in both. New-style events (with eventTime) get the stricter validation.

import { isPlainObject, type KObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { eventSchema } from "../schema/core.ts";
import { eventV1Schema } from "../schema/cluster.ts";

type Obj = Record<string, unknown>;

const RENAMES: [string, string][] = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function rename(object: KObject, pairs: [string, string][], apiVersion: string): KObject {
  const out: KObject = { ...object, apiVersion, kind: "Event" };
  for (const [from, to] of pairs) {
    if (from in out) {
      const v = out[from];
      delete out[from];
      if (v !== undefined) out[to] = v;
    }
  }
  return out;
}

const EVENT_TYPES = ["Normal", "Warning"];

function validateNewStyle(event: Obj, fields: { controller: string; note: string }): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, label] of [[fields.controller, fields.controller], ["reportingInstance", "reportingInstance"], ["action", "action"], ["reason", "reason"]] as const) {
    const v = event[field];
    if (typeof v !== "string" || v === "") errors.push(fieldErrors.required(label, ""));
    else if (v.length > 128) errors.push(fieldErrors.tooLong(label, 128));
  }
  if (!EVENT_TYPES.includes(String(event.type))) errors.push(fieldErrors.notSupported("type", event.type ?? "", EVENT_TYPES));
  const note = event[fields.note];
  if (typeof note === "string" && note.length > 1024) errors.push(fieldErrors.tooLong(fields.note, 1024));
  return errors;
}

function checkNamespace(event: KObject, refField: string): FieldError[] {
  const ref = event[refField];
  if (isPlainObject(ref) && typeof ref.namespace === "string" && ref.namespace !== "" && ref.namespace !== event.metadata.namespace) {
    return [fieldErrors.invalid(`${refField}.namespace`, ref.namespace, "does not match event.namespace")];
  }
  return [];
}

function refFields(ref: unknown, prefix: string): Record<string, string> {
  const r = isPlainObject(ref) ? ref : {};
  const out: Record<string, string> = {};
  for (const f of ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"]) out[`${prefix}.${f}`] = String(r[f] ?? "");
  return out;
}

function sourceComponent(source: unknown): string {
  return isPlainObject(source) ? String(source.component ?? "") : "";
}

export const coreEvents = defineType({
  group: "",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  schema: eventSchema,
  shortNames: ["ev"],
  table: "core/events",
  allowCreateOnUpdate: true,
  selectableFields: [
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
    "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
  ],
  fieldSet: (e) => ({
    ...refFields(e.involvedObject, "involvedObject"),
    reason: String(e.reason ?? ""),
    reportingComponent: String(e.reportingComponent ?? ""),
    source: sourceComponent(e.source),
    type: String(e.type ?? ""),
  }),
  strategy: {
    validate(event) {
      const errors = checkNamespace(event, "involvedObject");
      if (event.eventTime) errors.push(...validateNewStyle(event, { controller: "reportingComponent", note: "message" }));
      return errors;
    },
  },
});

export const eventsV1 = defineType({
  group: "events.k8s.io",
  version: "v1",
  resource: "events",
  kind: "Event",
  namespaced: true,
  schema: eventV1Schema,
  shortNames: ["ev"],
  table: "core/events",
  storageApiVersion: "v1",
  allowCreateOnUpdate: true,
  toStorage: (event) => rename(event, RENAMES, "v1"),
  fromStorage: (event) => rename(event, RENAMES.map(([a, b]) => [b, a]), "events.k8s.io/v1"),
  selectableFields: [
    "regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion", "regarding.resourceVersion",
    "regarding.fieldPath", "reason", "reportingController", "deprecatedSource", "type",
  ],
  fieldSet: (e) => ({
    ...refFields(e.regarding, "regarding"),
    reason: String(e.reason ?? ""),
    reportingController: String(e.reportingController ?? ""),
    deprecatedSource: sourceComponent(e.deprecatedSource),
    type: String(e.type ?? ""),
  }),
  strategy: {
    validate(event) {
      const errors = checkNamespace(event, "regarding");
      if (!event.eventTime) errors.push(fieldErrors.required("eventTime", ""));
      errors.push(...validateNewStyle(event, { controller: "reportingController", note: "note" }));
      return errors;
    },
  },
});
