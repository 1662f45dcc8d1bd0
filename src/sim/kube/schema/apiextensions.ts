// apiextensions.k8s.io/v1 CustomResourceDefinition, with the recursive JSONSchemaProps of its
// openAPIV3Schema. Fields that may be a schema or a boolean or a list (items,
// additionalProperties, ...) are kept as sent: structural-schema checks happen in validation.

import { s, type TypeSchema } from "./types.ts";
import { kindSchema } from "./meta.ts";

const AX = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1";
const o = (name: string, description: string, properties: Record<string, TypeSchema>, extra: Partial<TypeSchema> = {}) => s.object(`${AX}.${name}`, description, properties, extra);

const schemaRef = (description: string): TypeSchema => s.ref(() => jsonSchemaProps, description);

export const jsonSchemaProps: TypeSchema = o("JSONSchemaProps", "JSONSchemaProps is a JSON-Schema following Specification Draft 4 (http://json-schema.org/).", {
  $ref: s.string(""),
  $schema: s.string(""),
  additionalItems: s.any("JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value."),
  additionalProperties: s.any("JSONSchemaPropsOrBool represents JSONSchemaProps or a boolean value."),
  allOf: s.array(schemaRef(""), ""),
  anyOf: s.array(schemaRef(""), ""),
  default: s.any("default is a default value for undefined object fields."),
  definitions: s.map(schemaRef(""), ""),
  dependencies: s.map(s.any(), ""),
  description: s.string(""),
  enum: s.array(s.any(), ""),
  example: s.any(""),
  exclusiveMaximum: s.bool(""),
  exclusiveMinimum: s.bool(""),
  externalDocs: o("ExternalDocumentation", "ExternalDocumentation allows referencing an external resource for extended documentation.", { description: s.string(""), url: s.string("") }),
  format: s.string("format is an OpenAPI v3 format string."),
  id: s.string(""),
  items: s.any("JSONSchemaPropsOrArray represents a value that can either be a JSONSchemaProps or an array of JSONSchemaProps."),
  maxItems: s.int64(""),
  maxLength: s.int64(""),
  maxProperties: s.int64(""),
  maximum: s.number(""),
  minItems: s.int64(""),
  minLength: s.int64(""),
  minProperties: s.int64(""),
  minimum: s.number(""),
  multipleOf: s.number(""),
  not: schemaRef(""),
  nullable: s.bool(""),
  oneOf: s.array(schemaRef(""), ""),
  pattern: s.string(""),
  patternProperties: s.map(schemaRef(""), ""),
  properties: s.map(schemaRef(""), ""),
  required: s.array(s.string(), ""),
  title: s.string(""),
  type: s.string(""),
  uniqueItems: s.bool(""),
  "x-kubernetes-embedded-resource": s.bool("x-kubernetes-embedded-resource defines that the value is an embedded Kubernetes runtime.Object, with TypeMeta and ObjectMeta."),
  "x-kubernetes-int-or-string": s.bool("x-kubernetes-int-or-string specifies that this value is either an integer or a string."),
  "x-kubernetes-list-map-keys": s.array(s.string(), "x-kubernetes-list-map-keys annotates an array with the x-kubernetes-list-type `map` by specifying the keys used as the index of the map."),
  "x-kubernetes-list-type": s.string("x-kubernetes-list-type annotates an array to further describe its topology: atomic, set or map."),
  "x-kubernetes-map-type": s.string("x-kubernetes-map-type annotates an object to further describe its topology: granular or atomic."),
  "x-kubernetes-preserve-unknown-fields": s.bool("x-kubernetes-preserve-unknown-fields stops the API server decoding step from pruning fields which are not specified in the validation schema."),
  "x-kubernetes-validations": s.mergeList(o("ValidationRule", "ValidationRule describes a validation rule written in the CEL expression language.", {
    fieldPath: s.string(""), message: s.string(""), messageExpression: s.string(""), optionalOldSelf: s.bool(""), reason: s.string(""), rule: s.string("Rule represents the expression which will be evaluated by CEL."),
  }, { required: ["rule"] }), "rule", "x-kubernetes-validations describes a list of validation rules written in the CEL expression language."),
});

const columnDefinition = o("CustomResourceColumnDefinition", "CustomResourceColumnDefinition specifies a column for server side printing.", {
  description: s.string("description is a human readable description of this column."),
  format: s.string("format is an optional OpenAPI type definition for this column."),
  jsonPath: s.string("jsonPath is a simple JSON path (i.e. with array notation) which is evaluated against each custom resource to produce the value for this column."),
  name: s.string("name is a human readable name for the column."),
  priority: s.int32("priority is an integer defining the relative importance of this column compared to others."),
  type: s.string("type is an OpenAPI type definition for this column."),
}, { required: ["name", "type", "jsonPath"] });

const version = o("CustomResourceDefinitionVersion", "CustomResourceDefinitionVersion describes a version for CRD.", {
  additionalPrinterColumns: s.array(columnDefinition, "additionalPrinterColumns specifies additional columns returned in Table output."),
  deprecated: s.bool("deprecated indicates this version of the custom resource API is deprecated."),
  deprecationWarning: s.string("deprecationWarning overrides the default warning returned to API clients."),
  name: s.string("name is the version name, e.g. \"v1\", \"v2beta1\", etc."),
  schema: o("CustomResourceValidation", "CustomResourceValidation is a list of validation methods for CustomResources.", { openAPIV3Schema: s.described(jsonSchemaProps, "openAPIV3Schema is the OpenAPI v3 schema to use for validation and pruning.") }),
  selectableFields: s.array(o("SelectableField", "SelectableField specifies the JSON path of a field that may be used with field selectors.", { jsonPath: s.string("jsonPath is a simple JSON path which is evaluated against each custom resource to produce a field selector value.") }, { required: ["jsonPath"] }), "selectableFields specifies paths to fields that may be used as field selectors."),
  served: s.bool("served is a flag enabling/disabling this version from being served via REST APIs"),
  storage: s.bool("storage indicates this version should be used when persisting custom resources to storage. There must be exactly one version with storage=true."),
  subresources: o("CustomResourceSubresources", "CustomResourceSubresources defines the status and scale subresources for CustomResources.", {
    scale: o("CustomResourceSubresourceScale", "CustomResourceSubresourceScale defines how to serve the scale subresource for CustomResources.", {
      labelSelectorPath: s.string("labelSelectorPath defines the JSON path inside of a custom resource that corresponds to Scale `status.selector`."),
      specReplicasPath: s.string("specReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `spec.replicas`."),
      statusReplicasPath: s.string("statusReplicasPath defines the JSON path inside of a custom resource that corresponds to Scale `status.replicas`."),
    }, { required: ["specReplicasPath", "statusReplicasPath"] }),
    status: s.looseObject("status indicates the custom resource should serve a `/status` subresource."),
  }),
}, { required: ["name", "served", "storage"] });

const names = o("CustomResourceDefinitionNames", "CustomResourceDefinitionNames indicates the names to serve this CustomResourceDefinition", {
  categories: s.array(s.string(), "categories is a list of grouped resources this custom resource belongs to (e.g. 'all')."),
  kind: s.string("kind is the serialized kind of the resource. It is normally CamelCase and singular."),
  listKind: s.string("listKind is the serialized kind of the list for this resource. Defaults to \"`kind`List\"."),
  plural: s.string("plural is the plural name of the resource to serve. Must be all lowercase."),
  shortNames: s.array(s.string(), "shortNames are short names for the resource, exposed in API discovery documents."),
  singular: s.string("singular is the singular name of the resource. It must be all lowercase. Defaults to lowercased `kind`."),
}, { required: ["plural", "kind"] });

export const crdSchema = kindSchema(`${AX}.CustomResourceDefinition`, { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition" }, "CustomResourceDefinition represents a resource that should be exposed on the API server. Its name MUST be in the format <.spec.name>.<.spec.group>.", {
  spec: o("CustomResourceDefinitionSpec", "CustomResourceDefinitionSpec describes how a user wants their resource to appear", {
    conversion: s.looseObject("conversion defines conversion settings for the CRD."),
    group: s.string("group is the API group of the defined custom resource. Must match the name of the CustomResourceDefinition (in the form `<names.plural>.<group>`)."),
    names: s.described(names, "names specify the resource and kind names for the custom resource."),
    preserveUnknownFields: s.bool("preserveUnknownFields indicates that object fields which are not specified in the OpenAPI schema should be preserved when persisting to storage."),
    scope: s.enumOf(["Cluster", "Namespaced"], "scope indicates whether the defined custom resource is cluster- or namespace-scoped."),
    versions: s.array(version, "versions is the list of all API versions of the defined custom resource."),
  }, { required: ["group", "names", "scope", "versions"] }),
  status: o("CustomResourceDefinitionStatus", "CustomResourceDefinitionStatus indicates the state of the CustomResourceDefinition", {
    acceptedNames: s.described(names, "acceptedNames are the names that are actually being used to serve discovery."),
    conditions: s.mergeList(o("CustomResourceDefinitionCondition", "CustomResourceDefinitionCondition contains details for the current condition of this pod.", {
      lastTransitionTime: s.time("lastTransitionTime last time the condition transitioned from one status to another."),
      message: s.string("message is a human-readable message indicating details about last transition."),
      reason: s.string("reason is a unique, one-word, CamelCase reason for the condition's last transition."),
      status: s.string("status is the status of the condition. Can be True, False, Unknown."),
      type: s.string("type is the type of the condition. Types include Established, NamesAccepted and Terminating."),
    }, { required: ["type", "status"] }), "type", "conditions indicate state for particular aspects of a CustomResourceDefinition"),
    storedVersions: s.array(s.string(), "storedVersions lists all versions of CustomResources that were ever persisted."),
  }),
});
