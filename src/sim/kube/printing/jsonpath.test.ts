import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { evaluateJsonPath, parseJsonPath } from "./jsonpath.ts";

describe("printer-column JSONPath", () => {
  const object = {
    metadata: { name: "n", labels: { "app.kubernetes.io/name": "web" } },
    spec: { replicas: 3, ports: [{ port: 80 }, { port: 443 }] },
    status: { conditions: [{ type: "Ready", status: "True" }, { type: "Other", status: "False" }] },
  };
  test("fields, indexes, wildcards, filters and escaped dots", () => {
    assert.deepEqual(evaluateJsonPath(object, ".spec.replicas"), [3]);
    assert.deepEqual(evaluateJsonPath(object, ".spec.ports[1].port"), [443]);
    assert.deepEqual(evaluateJsonPath(object, ".spec.ports[*].port"), [80, 443]);
    assert.deepEqual(evaluateJsonPath(object, '.status.conditions[?(@.type=="Ready")].status'), ["True"]);
    assert.deepEqual(evaluateJsonPath(object, ".metadata.labels.app\\.kubernetes\\.io/name"), ["web"]);
    assert.deepEqual(evaluateJsonPath(object, "{.metadata.name}"), ["n"]);
    assert.deepEqual(evaluateJsonPath(object, ".spec.missing"), []);
  });
  test("what is not a simple path is refused", () => {
    assert.equal(parseJsonPath("spec.replicas"), undefined);
    assert.equal(parseJsonPath(".spec[?(@.x > 1)]"), undefined);
  });
});
