// Protobuf request bodies (application/vnd.kubernetes.protobuf), for the objects kubectl's typed
// clients send that way (`kubectl create namespace|configmap|secret|serviceaccount|role|deployment|...`, `kubectl run`,
// `kubectl auth can-i`, `kubectl create token`): the "k8s\0" envelope, runtime.Unknown, and the
// proto2 messages of those kinds, decoded to the JSON the rest of the server handles. Answers are
// always JSON (every such client also accepts it). Other kinds in protobuf get a 415.

import { unsupportedMediaType } from "../status.ts";
import { formatTime } from "../objects.ts";

type Scalar = "string" | "bool" | "int" | "bytes" | "time";
interface Field {
  name: string;
  type: Scalar | string; // a scalar or the name of a message in MESSAGES
  repeated?: boolean;
  /** map<string, V>: repeated entries {key = 1, value = 2}. */
  map?: Scalar | string;
  /** A Go int that is not a pointer (omitempty): 0 is what JSON leaves out. */
  omitZero?: boolean;
}

const f = (name: string, type: Field["type"], extra: Partial<Field> = {}): Field => ({ name, type, ...extra });
const list = (name: string, type: Field["type"]): Field => f(name, type, { repeated: true });
const map = (name: string, value: Field["type"]): Field => f(name, "entry", { map: value });

// Field numbers of k8s.io/api and k8s.io/apimachinery's generated.proto.
const MESSAGES: Record<string, Record<number, Field>> = {
  ObjectMeta: {
    1: f("name", "string"), 2: f("generateName", "string"), 3: f("namespace", "string"), 5: f("uid", "string"), 6: f("resourceVersion", "string"),
    7: f("generation", "int"), 8: f("creationTimestamp", "time"), 9: f("deletionTimestamp", "time"), 10: f("deletionGracePeriodSeconds", "int"),
    11: map("labels", "string"), 12: map("annotations", "string"), 13: list("ownerReferences", "OwnerReference"), 14: list("finalizers", "string"),
  },
  OwnerReference: { 1: f("kind", "string"), 3: f("name", "string"), 4: f("uid", "string"), 5: f("apiVersion", "string"), 6: f("controller", "bool"), 7: f("blockOwnerDeletion", "bool") },
  LabelSelector: { 1: map("matchLabels", "string"), 2: list("matchExpressions", "LabelSelectorRequirement") },
  LabelSelectorRequirement: { 1: f("key", "string"), 2: f("operator", "string"), 3: list("values", "string") },
  ObjectReference: { 1: f("kind", "string"), 2: f("namespace", "string"), 3: f("name", "string"), 4: f("uid", "string"), 5: f("apiVersion", "string"), 6: f("resourceVersion", "string"), 7: f("fieldPath", "string") },
  LocalObjectReference: { 1: f("name", "string") },
  Namespace: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "NamespaceSpec") },
  NamespaceSpec: { 1: list("finalizers", "string") },
  ConfigMap: { 1: f("metadata", "ObjectMeta"), 2: map("data", "string"), 3: map("binaryData", "bytes"), 4: f("immutable", "bool") },
  Secret: { 1: f("metadata", "ObjectMeta"), 2: map("data", "bytes"), 3: f("type", "string"), 4: map("stringData", "string"), 5: f("immutable", "bool") },
  ServiceAccount: { 1: f("metadata", "ObjectMeta"), 2: list("secrets", "ObjectReference"), 3: list("imagePullSecrets", "LocalObjectReference"), 4: f("automountServiceAccountToken", "bool") },
  PolicyRule: { 1: list("verbs", "string"), 2: list("apiGroups", "string"), 3: list("resources", "string"), 4: list("resourceNames", "string"), 5: list("nonResourceURLs", "string") },
  Role: { 1: f("metadata", "ObjectMeta"), 2: list("rules", "PolicyRule") },
  ClusterRole: { 1: f("metadata", "ObjectMeta"), 2: list("rules", "PolicyRule"), 3: f("aggregationRule", "AggregationRule") },
  AggregationRule: { 1: list("clusterRoleSelectors", "LabelSelector") },
  Subject: { 1: f("kind", "string"), 2: f("apiGroup", "string"), 3: f("name", "string"), 4: f("namespace", "string") },
  RoleRef: { 1: f("apiGroup", "string"), 2: f("kind", "string"), 3: f("name", "string") },
  RoleBinding: { 1: f("metadata", "ObjectMeta"), 2: list("subjects", "Subject"), 3: f("roleRef", "RoleRef") },
  PriorityClass: { 1: f("metadata", "ObjectMeta"), 2: f("value", "int"), 3: f("globalDefault", "bool"), 4: f("description", "string"), 5: f("preemptionPolicy", "string") },
  ResourceAttributes: {
    1: f("namespace", "string"), 2: f("verb", "string"), 3: f("group", "string"), 4: f("version", "string"), 5: f("resource", "string"),
    6: f("subresource", "string"), 7: f("name", "string"), 8: f("fieldSelector", "SelectorAttributes"), 9: f("labelSelector", "SelectorAttributes"),
  },
  SelectorAttributes: { 1: f("rawSelector", "string") },
  NonResourceAttributes: { 1: f("path", "string"), 2: f("verb", "string") },
  SelfSubjectAccessReview: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "SelfSubjectAccessReviewSpec") },
  SelfSubjectAccessReviewSpec: { 1: f("resourceAttributes", "ResourceAttributes"), 2: f("nonResourceAttributes", "NonResourceAttributes") },
  SubjectAccessReview: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "SubjectAccessReviewSpec") },
  SubjectAccessReviewSpec: { 1: f("resourceAttributes", "ResourceAttributes"), 2: f("nonResourceAttributes", "NonResourceAttributes"), 3: f("user", "string"), 4: list("groups", "string"), 6: f("uid", "string") },
  SelfSubjectRulesReview: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "SelfSubjectRulesReviewSpec") },
  SelfSubjectRulesReviewSpec: { 1: f("namespace", "string") },
  TokenRequest: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "TokenRequestSpec") },
  TokenRequestSpec: { 1: list("audiences", "string"), 3: f("boundObjectRef", "BoundObjectReference"), 4: f("expirationSeconds", "int") },
  BoundObjectReference: { 1: f("kind", "string"), 2: f("apiVersion", "string"), 3: f("name", "string"), 4: f("uid", "string") },
  TokenReview: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "TokenReviewSpec") },
  TokenReviewSpec: { 1: f("token", "string"), 2: list("audiences", "string") },
  SelfSubjectReview: { 1: f("metadata", "ObjectMeta") },
  // `kubectl create deployment` and `kubectl run`: the fields their generators set.
  Deployment: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "DeploymentSpec") },
  DeploymentSpec: { 1: f("replicas", "int"), 2: f("selector", "LabelSelector"), 3: f("template", "PodTemplateSpec"), 4: f("strategy", "DeploymentStrategy"), 5: f("minReadySeconds", "int", { omitZero: true }), 6: f("revisionHistoryLimit", "int"), 7: f("paused", "bool"), 9: f("progressDeadlineSeconds", "int") },
  DeploymentStrategy: { 1: f("type", "string") },
  PodTemplateSpec: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "PodSpec") },
  Pod: { 1: f("metadata", "ObjectMeta"), 2: f("spec", "PodSpec") },
  PodSpec: {
    2: list("containers", "Container"), 3: f("restartPolicy", "string"), 4: f("terminationGracePeriodSeconds", "int"), 6: f("dnsPolicy", "string"),
    7: map("nodeSelector", "string"), 8: f("serviceAccountName", "string"), 10: f("nodeName", "string"), 11: f("hostNetwork", "bool"),
  },
  Container: {
    1: f("name", "string"), 2: f("image", "string"), 3: list("command", "string"), 4: list("args", "string"), 5: f("workingDir", "string"), 6: list("ports", "ContainerPort"),
    7: list("env", "EnvVar"), 8: f("resources", "ResourceRequirements"), 13: f("terminationMessagePath", "string"), 14: f("imagePullPolicy", "string"), 16: f("stdin", "bool"), 17: f("stdinOnce", "bool"), 18: f("tty", "bool"),
  },
  ContainerPort: { 1: f("name", "string"), 2: f("hostPort", "int", { omitZero: true }), 3: f("containerPort", "int"), 4: f("protocol", "string"), 5: f("hostIP", "string") },
  EnvVar: { 1: f("name", "string"), 2: f("value", "string") },
  ResourceRequirements: {},
  Time: { 1: f("seconds", "int"), 2: f("nanos", "int") },
  entry: { 1: f("key", "string"), 2: f("value", "string") },
};

/** The kinds accepted as protobuf: apiVersion/kind to message. */
const TOP_LEVEL: Record<string, string> = {
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "v1/Pod": "Pod",
  "apps/v1/Deployment": "Deployment",
  "rbac.authorization.k8s.io/v1/Role": "Role",
  "rbac.authorization.k8s.io/v1/ClusterRole": "ClusterRole",
  "rbac.authorization.k8s.io/v1/RoleBinding": "RoleBinding",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "RoleBinding",
  "scheduling.k8s.io/v1/PriorityClass": "PriorityClass",
  "authorization.k8s.io/v1/SelfSubjectAccessReview": "SelfSubjectAccessReview",
  "authorization.k8s.io/v1/SubjectAccessReview": "SubjectAccessReview",
  "authorization.k8s.io/v1/LocalSubjectAccessReview": "SubjectAccessReview",
  "authorization.k8s.io/v1/SelfSubjectRulesReview": "SelfSubjectRulesReview",
  "authentication.k8s.io/v1/TokenRequest": "TokenRequest",
  "authentication.k8s.io/v1/TokenReview": "TokenReview",
  "authentication.k8s.io/v1/SelfSubjectReview": "SelfSubjectReview",
};

export const PROTOBUF = "application/vnd.kubernetes.protobuf";
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

class Reader {
  private pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error("varint too long");
    }
  }
  bytes(): Buffer {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new Error("truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function signed64(n: number): number {
  // int64 fields are two's complement varints; negatives come as huge unsigned values.
  return n >= 2 ** 63 ? n - 2 ** 64 : n;
}

function decodeValue(type: Field["type"], wireType: number, reader: Reader): unknown {
  switch (type) {
    case "string":
      return reader.bytes().toString("utf8");
    case "bytes":
      return reader.bytes().toString("base64");
    case "bool":
      return reader.varint() !== 0;
    case "int":
      return signed64(reader.varint());
    case "time": {
      const t = decodeMessage(reader.bytes(), "Time") as { seconds?: number };
      return formatTime((t.seconds ?? 0) * 1000);
    }
    default:
      if (wireType !== 2) throw new Error(`expected a message for ${type}`);
      return decodeMessage(reader.bytes(), type);
  }
}

function decodeMessage(buf: Buffer, message: string): Record<string, unknown> {
  const fields = MESSAGES[message]!;
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done) {
    const key = reader.varint();
    const number = Math.floor(key / 8);
    const wireType = key & 7;
    const field = fields[number];
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    if (field.map) {
      const entry = new Reader(reader.bytes());
      let k = "";
      let v: unknown = field.map === "string" ? "" : undefined;
      while (!entry.done) {
        const ek = entry.varint();
        if (ek >> 3 === 1) k = entry.bytes().toString("utf8");
        else if (ek >> 3 === 2) v = decodeValue(field.map, ek & 7, entry);
        else entry.skip(ek & 7);
      }
      out[field.name] = { ...(out[field.name] as object), [k]: v };
      continue;
    }
    const value = decodeValue(field.type, wireType, reader);
    if (field.repeated) out[field.name] = [...((out[field.name] as unknown[]) ?? []), value];
    // Go's structs send their empty strings (proto2 `optional string` from a non-pointer field):
    // "" is what JSON's omitempty leaves out, and what defaulting treats as unset.
    else if ((field.type === "string" && value === "") || (field.omitZero && value === 0)) delete out[field.name];
    else out[field.name] = value;
  }
  return out;
}

/** A protobuf body as JSON (apiVersion and kind included), or a 415 for what is not decodable. */
export function decodeProtobufBody(raw: Buffer): Record<string, unknown> {
  const refuse = (why: string) => unsupportedMediaType(`${PROTOBUF} (${why})`, ["application/json", "application/yaml"]);
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) throw refuse("no k8s envelope");
  const typeMeta: { apiVersion?: string; kind?: string } = {};
  let payload: Buffer | undefined;
  try {
    const reader = new Reader(raw.subarray(4));
    while (!reader.done) {
      const key = reader.varint();
      if (key >> 3 === 1) {
        const tm = new Reader(reader.bytes());
        while (!tm.done) {
          const k = tm.varint();
          if (k >> 3 === 1) typeMeta.apiVersion = tm.bytes().toString("utf8");
          else if (k >> 3 === 2) typeMeta.kind = tm.bytes().toString("utf8");
          else tm.skip(k & 7);
        }
      } else if (key >> 3 === 2) payload = reader.bytes();
      else reader.skip(key & 7);
    }
  } catch (err) {
    throw refuse((err as Error).message);
  }
  const message = TOP_LEVEL[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!message || !payload) throw refuse(`kind ${typeMeta.apiVersion ?? "?"}/${typeMeta.kind ?? "?"} is only accepted as JSON or YAML`);
  try {
    return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decodeMessage(payload, message) };
  } catch (err) {
    throw refuse((err as Error).message);
  }
}
