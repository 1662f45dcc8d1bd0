import { test } from "node:test";
import assert from "node:assert/strict";
import { CniError, ErrorCode, limitedConnectivity, pluginNotAvailable, toCniError, tryAgainLater } from "./errors.ts";

test("the spec's well-known codes", () => {
  assert.deepEqual(
    [ErrorCode.IncompatibleVersion, ErrorCode.UnsupportedField, ErrorCode.UnknownContainer, ErrorCode.InvalidEnvironment, ErrorCode.IoFailure, ErrorCode.DecodingFailure, ErrorCode.InvalidNetworkConfig, ErrorCode.TryAgainLater, ErrorCode.PluginNotAvailable, ErrorCode.LimitedConnectivity],
    [1, 2, 3, 4, 5, 6, 7, 11, 50, 51],
  );
});

test("error object shape in every version; details omitted when empty", () => {
  for (const v of ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]) {
    assert.equal(JSON.stringify(new CniError(7, "Invalid Configuration", "Network 192.168.0.0/31 too small to allocate from.").toObject(v)),
      `{"cniVersion":"${v}","code":7,"msg":"Invalid Configuration","details":"Network 192.168.0.0/31 too small to allocate from."}`);
    assert.equal(JSON.stringify(new CniError(11, "busy").toObject(v)), `{"cniVersion":"${v}","code":11,"msg":"busy"}`);
  }
});

test("plugin codes 100+ are allowed; 0 and fractions are not", () => {
  assert.equal(new CniError(100, "mine").code, 100);
  assert.throws(() => new CniError(0, "x"), RangeError);
  assert.throws(() => new CniError(1.5, "x"), RangeError);
});

test("helpers and wrapping of foreign errors", () => {
  assert.equal(pluginNotAvailable("agent down").code, 50);
  assert.equal(limitedConnectivity("agent down").code, 51);
  assert.equal(tryAgainLater("later").code, 11);
  const wrapped = toCniError(new Error("boom"));
  assert.deepEqual([wrapped.code, wrapped.message], [999, "boom"]);
  assert.equal(toCniError("str").message, "str");
  const own = new CniError(3, "gone");
  assert.equal(toCniError(own), own);
});
