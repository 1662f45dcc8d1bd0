import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { formatLabelSelector, labelSelectorFromObject, matchesLabels, parseLabelSelector } from "./labels.ts";
import { matchesFields, parseFieldSelector } from "./fields.ts";
import { KubeError } from "../status.ts";

describe("label selectors", () => {
  const labels = { app: "web", tier: "front", "example.com/env": "prod" };
  const cases: [string, boolean][] = [
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app in (web,db)", true],
    ["app notin (web,db)", false],
    ["missing notin (a)", true],
    ["tier", true],
    ["!tier", false],
    ["!missing", true],
    ["example.com/env=prod,app=web", true],
    ["app=web,tier=back", false],
    ["", true],
  ];
  for (const [text, expected] of cases) {
    test(`${JSON.stringify(text)} ${expected ? "matches" : "does not match"}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(text), labels), expected);
    });
  }

  test("bad selectors are 400s naming the problem", () => {
    for (const text of ["app in ()", "a b", "=x", "Bad Key=x", "app=x y"]) {
      assert.throws(() => parseLabelSelector(text), (e: unknown) => e instanceof KubeError && e.code === 400, text);
    }
  });

  test("structured selectors: matchLabels and matchExpressions; string form round-trips", () => {
    const { selector, problems } = labelSelectorFromObject({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }, { key: "x", operator: "DoesNotExist" }] });
    assert.deepEqual(problems, []);
    assert.equal(matchesLabels(selector, labels), true);
    assert.equal(formatLabelSelector(selector), "app=web,tier in (front),!x");
    assert.deepEqual(parseLabelSelector(formatLabelSelector(selector)), selector);
    assert.match(labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "In" }] }).problems[0]!, /must be specified/);
  });
});

describe("field selectors", () => {
  const supported = ["metadata.name", "spec.nodeName", "status.phase"];
  test("=, == and != on supported fields; escapes", () => {
    const fields = { "metadata.name": "a,b", "spec.nodeName": "n1", "status.phase": "Running" };
    assert.equal(matchesFields(parseFieldSelector("spec.nodeName=n1", supported), fields), true);
    assert.equal(matchesFields(parseFieldSelector("spec.nodeName==n1,status.phase!=Failed", supported), fields), true);
    assert.equal(matchesFields(parseFieldSelector("spec.nodeName!=n1", supported), fields), false);
    assert.equal(matchesFields(parseFieldSelector("metadata.name=a\\,b", supported), fields), true);
    assert.equal(matchesFields(parseFieldSelector("spec.nodeName=", supported), { "spec.nodeName": "" }), true);
  });
  test("an unsupported field is a 400 'field label not supported'", () => {
    assert.throws(() => parseFieldSelector("spec.foo=x", supported), (e: unknown) => e instanceof KubeError && e.code === 400 && /field label not supported: spec.foo/.test(e.message));
    assert.throws(() => parseFieldSelector("nonsense", supported), (e: unknown) => e instanceof KubeError && e.code === 400);
  });
});
