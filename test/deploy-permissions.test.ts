// The permissions deploy/ grants are exactly the calls the code makes, both ways: the ClusterRole
// against the declared Kubernetes calls (which the client enforces and the code refers to), the IAM
// policy against the EC2 commands production code constructs (found by parsing it).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KUBE_API_CALLS, type KubeApiCall } from "../src/k8s/api-calls.ts";
import { DEPLOY, ROOT, ec2ActionsInCode, findObject, kubeCallsInCode, kubeClientImportsOutsideK8s, productionFiles } from "./deploy-harness.ts";

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };

function grantedByClusterRole(): Set<string> {
  const role = findObject("ClusterRole", "aws-node") as unknown as { rules: Rule[] };
  const granted = new Set<string>();
  for (const rule of role.rules) {
    assert.equal(rule.nonResourceURLs, undefined, "no nonResourceURLs: /version is every client's by the default role system:public-info-viewer");
    assert.equal(rule.resourceNames, undefined, "resourceNames cannot be used with list and watch");
    for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) for (const verb of rule.verbs) {
      assert.ok(![group, resource, verb].includes("*"), `no wildcards in the ClusterRole: ${verb} ${resource} ${group}`);
      granted.add(`${verb} ${group}/${resource}`);
    }
  }
  return granted;
}

const key = (c: KubeApiCall) => (c.kind === "resource" ? `${c.verb} ${c.group}/${c.resource}` : `${c.verb} ${c.path}`);

test("the ClusterRole grants exactly the declared Kubernetes calls", () => {
  const declared = Object.values(KUBE_API_CALLS);
  const needed = new Set(declared.filter((c) => c.kind === "resource").map(key));
  const granted = grantedByClusterRole();
  assert.deepEqual([...needed].filter((k) => !granted.has(k)), [], "calls the ClusterRole does not grant (the agent would get 403)");
  assert.deepEqual([...granted].filter((k) => !needed.has(k)), [], "rules no call needs (least privilege)");
  assert.deepEqual(declared.filter((c) => c.kind === "non-resource").map(key), ["get /version"]);
});

test("every declared Kubernetes call is made by production code, and all of it goes through src/k8s", () => {
  const uses = kubeCallsInCode();
  const unused = Object.keys(KUBE_API_CALLS).filter((name) => !uses.has(name));
  assert.deepEqual(unused, [], "declared calls no code makes: remove them and their RBAC rule");
  for (const name of uses.keys()) assert.ok(name in KUBE_API_CALLS, `KUBE_API_CALLS.${name} is not declared`);
  assert.deepEqual(kubeClientImportsOutsideK8s(), [], "production code outside src/k8s that imports @kubernetes/client-node");
});

function iamActions(): { actions: Set<string>; statements: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[] }[] } {
  const policy = JSON.parse(readFileSync(join(DEPLOY, "iam", "vpc-cni-policy.json"), "utf8")) as { Version: string; Statement: { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[] }[] };
  assert.equal(policy.Version, "2012-10-17");
  const actions = new Set<string>();
  for (const s of policy.Statement) {
    assert.equal(s.Effect, "Allow");
    for (const a of [s.Action].flat()) {
      assert.match(a, /^ec2:[A-Z][A-Za-z0-9]+$/, "one EC2 action per entry, no wildcards");
      assert.ok(!actions.has(a), `${a} is granted twice`);
      actions.add(a.slice("ec2:".length));
    }
  }
  return { actions, statements: policy.Statement };
}

test("the IAM policy allows exactly the EC2 actions the code sends", () => {
  const uses = ec2ActionsInCode();
  const inCode = new Set(uses.map((u) => u.action));
  const { actions, statements } = iamActions();
  const where = (a: string) => uses.filter((u) => u.action === a).map((u) => u.file).join(", ");
  assert.deepEqual([...inCode].filter((a) => !actions.has(a)).map((a) => `${a} (${where(a)})`), [], "EC2 actions the policy does not allow (UnauthorizedOperation on AWS)");
  assert.deepEqual([...actions].filter((a) => !inCode.has(a)), [], "allowed EC2 actions no code sends (least privilege)");
  // Tags only on ENIs: the agent tags nothing else.
  const tagging = statements.find((s) => [s.Action].flat().includes("ec2:CreateTags"));
  assert.deepEqual(tagging?.Resource, "arn:aws:ec2:*:*:network-interface/*");
});

test("the code scans see real calls (the checks above cannot pass on an empty scan)", () => {
  const files = productionFiles();
  assert.ok(files.some((f) => f.endsWith(join("src", "aws", "eni-api.ts"))));
  assert.ok(!files.some((f) => f.includes(join("src", "sim"))), "vpcsim is not production code");
  assert.ok(!files.some((f) => f.endsWith(".test.ts")));
  const actions = new Set(ec2ActionsInCode().map((u) => u.action));
  for (const a of ["CreateNetworkInterface", "AssignPrivateIpAddresses", "DescribeInstanceTypes"]) assert.ok(actions.has(a), a);
  assert.ok(kubeCallsInCode().has("listNodes"));
  assert.ok(readFileSync(join(ROOT, "src", "k8s", "client.ts"), "utf8").includes("declaredCallFor"));
});
