import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseBackend } from "./iptables-backend.ts";

const save = (chains: string[], rules: number) => [...chains.map((c) => `:${c} - [0:0]`), ...Array.from({ length: rules }, (_, i) => `-A KUBE-SERVICES -d 10.100.0.${i}/32 -j ACCEPT`)].join("\n");
const none = { mangle: "", all: "" };

test("the kubelet's marker chain decides, whatever the rule counts", () => {
  assert.equal(chooseBackend({ nft: { mangle: save(["KUBE-IPTABLES-HINT"], 0), all: save([], 1) }, legacy: { mangle: "", all: save([], 50) } }).backend, "nft");
  assert.equal(chooseBackend({ nft: { mangle: "", all: save([], 50) }, legacy: { mangle: save(["KUBE-KUBELET-CANARY"], 0), all: save([], 1) } }).backend, "legacy");
});

test("without markers the backend holding more rules wins; a tie or an empty node is nft", () => {
  assert.deepEqual(chooseBackend({ nft: { mangle: "", all: save([], 3) }, legacy: { mangle: "", all: save([], 40) } }), { backend: "legacy", why: "the legacy tables hold more rules (40 against 3)" });
  assert.equal(chooseBackend({ nft: { mangle: "", all: save([], 5) }, legacy: { mangle: "", all: save([], 5) } }).backend, "nft");
  assert.match(chooseBackend({ nft: none, legacy: none }).why, /no rules in either backend/);
  // Markers in both: the counts decide.
  const marked = save(["KUBE-IPTABLES-HINT"], 0);
  assert.equal(chooseBackend({ nft: { mangle: marked, all: save([], 1) }, legacy: { mangle: marked, all: save([], 9) } }).backend, "legacy");
});
