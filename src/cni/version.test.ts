import { test } from "node:test";
import assert from "node:assert/strict";
import { CniError } from "./errors.ts";
import { compareVersions, highestCommonVersion, isPre1, parseVersion, requireSupported, SUPPORTED_VERSIONS, versionAnswer, versionAtLeast } from "./version.ts";

test("supported versions are 0.3.0 through 1.1.0, oldest first", () => {
  assert.deepEqual(SUPPORTED_VERSIONS, ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);
});

test("semver compare is numeric, not lexical", () => {
  assert.ok(compareVersions("0.10.0", "0.4.0") > 0);
  assert.ok(compareVersions("1.0.0", "0.4.0") > 0);
  assert.equal(compareVersions("1.1.0", "1.1.0"), 0);
  assert.ok(compareVersions("0.3.1", "0.4.0") < 0);
  assert.ok(versionAtLeast("1.1.0", "1.1.0"));
  assert.ok(!versionAtLeast("1.0.0", "1.1.0"));
  assert.equal(parseVersion("1.0"), null);
  assert.equal(parseVersion("01.0.0"), null);
  assert.deepEqual(parseVersion("1.2.3"), [1, 2, 3]);
});

test("a non-semver version is a decoding failure (6)", () => {
  assert.throws(() => compareVersions("abc", "1.0.0"), (e: unknown) => e instanceof CniError && e.code === 6);
});

test("pre-1.0 versions carry ips[].version", () => {
  assert.ok(isPre1("0.3.0") && isPre1("0.4.0"));
  assert.ok(!isPre1("1.0.0") && !isPre1("1.1.0"));
});

test("unsupported version is code 1 naming the supported list", () => {
  for (const v of ["0.1.0", "0.2.0", "2.0.0", "1.0", ""]) {
    assert.throws(() => requireSupported(v), (e: unknown) => e instanceof CniError && e.code === 1 && e.details.includes("1.1.0"));
  }
  requireSupported("0.3.1");
});

test("VERSION answer echoes the input version, else the latest", () => {
  assert.deepEqual(versionAnswer("1.0.0"), { cniVersion: "1.0.0", supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
  assert.equal(versionAnswer(undefined).cniVersion, "1.1.0");
  assert.equal(versionAnswer(42).cniVersion, "1.1.0");
  assert.equal(versionAnswer("garbage").cniVersion, "1.1.0");
  assert.deepEqual(versionAnswer(undefined, ["0.4.0", "1.0.0"]), { cniVersion: "1.0.0", supportedVersions: ["0.4.0", "1.0.0"] });
});

test("cniVersions negotiation picks the highest common version", () => {
  assert.equal(highestCommonVersion(["1.0.0", "1.1.0", "2.0.0"], SUPPORTED_VERSIONS), "1.1.0");
  assert.equal(highestCommonVersion(["0.4.0", "junk"], SUPPORTED_VERSIONS), "0.4.0");
  assert.equal(highestCommonVersion(["0.2.0"], SUPPORTED_VERSIONS), null);
});
