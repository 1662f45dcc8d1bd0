import { test } from "node:test";
import assert from "node:assert/strict";
import { parseEnv, validateIfname, validateContainerId } from "./env.ts";
import { CniError } from "./errors.ts";

const ID = "3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755";
const full = { CNI_CONTAINERID: ID, CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin::/usr/lib/cni", CNI_ARGS: "IgnoreUnknown=1" };

function code(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CniError);
    return { code: e.code, msg: e.message };
  }
  assert.fail("expected a CniError");
}

test("ADD with everything", () => {
  assert.deepEqual(parseEnv({ ...full, CNI_COMMAND: "ADD" }), {
    command: "ADD", containerId: ID, netns: "/run/netns/x", ifname: "eth0", args: "IgnoreUnknown=1", path: ["/opt/cni/bin", "/usr/lib/cni"],
  });
});

test("missing variables are code 4 and all named at once", () => {
  const e = code(() => parseEnv({ CNI_COMMAND: "ADD" }));
  assert.equal(e.code, 4);
  assert.equal(e.msg, "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing");
  assert.equal(code(() => parseEnv({ ...full, CNI_COMMAND: "CHECK", CNI_NETNS: "" })).msg, "required env variables [CNI_NETNS] missing");
  assert.equal(code(() => parseEnv({ ...full, CNI_COMMAND: "DEL", CNI_IFNAME: undefined })).code, 4);
});

test("missing or unknown CNI_COMMAND is code 4", () => {
  assert.deepEqual(code(() => parseEnv({})), { code: 4, msg: "required env variables [CNI_COMMAND] missing" });
  assert.deepEqual(code(() => parseEnv({ ...full, CNI_COMMAND: "FOO" })), { code: 4, msg: "unknown CNI_COMMAND: FOO" });
  assert.equal(code(() => parseEnv({ ...full, CNI_COMMAND: "add" })).code, 4);
});

test("DEL may have an empty CNI_NETNS (containerd's second DEL)", () => {
  const env = parseEnv({ CNI_COMMAND: "DEL", CNI_CONTAINERID: ID, CNI_NETNS: "", CNI_IFNAME: "eth0" });
  assert.equal(env.netns, "");
  assert.deepEqual(env.path, []);
  assert.equal(env.args, "");
});

test("DEL from podman's minimal environment needs only the CNI_* it always sets", () => {
  const env = parseEnv({ CNI_COMMAND: "DEL", CNI_CONTAINERID: ID, CNI_IFNAME: "eth0", PATH: "/usr/bin", HOME: "/root" });
  assert.equal(env.command, "DEL");
});

test("STATUS and GC need no container, netns or ifname, and ignore junk in them", () => {
  for (const cmd of ["STATUS", "GC"]) {
    const env = parseEnv({ CNI_COMMAND: cmd, CNI_CONTAINERID: "!!bad", CNI_IFNAME: "way-too-long-interface-name" });
    assert.equal(env.containerId, "");
    assert.equal(env.ifname, "");
  }
});

test("VERSION needs nothing and validates nothing (podman's dummy probe)", () => {
  const env = parseEnv({ CNI_COMMAND: "VERSION", CNI_CONTAINERID: "", CNI_NETNS: "dummy", CNI_IFNAME: "dummy", CNI_PATH: "dummy" });
  assert.equal(env.command, "VERSION");
});

test("container id charset", () => {
  for (const ok of [ID, "a", "A.b_c-d", "9"]) validateContainerId(ok);
  for (const bad of ["", "-abc", ".x", "_x", "a b", "a/b", "a:b", "ä"]) assert.equal(code(() => validateContainerId(bad)).code, 4, bad);
  assert.equal(code(() => parseEnv({ ...full, CNI_COMMAND: "ADD", CNI_CONTAINERID: "-x" })).code, 4);
});

test("interface names: 1..15 bytes, not . or .., no / : or whitespace", () => {
  for (const ok of ["eth0", "a", "123456789012345", "net-1_x.y"]) validateIfname(ok);
  for (const bad of ["", ".", "..", "1234567890123456", "a/b", "a:b", "a b", "a\tb", "a\nb", "ééééééééé"]) {
    const e = code(() => validateIfname(bad));
    assert.equal(e.code, 4, bad);
    assert.ok(e.msg.includes("CNI_IFNAME"));
  }
  assert.equal(code(() => parseEnv({ ...full, CNI_COMMAND: "DEL", CNI_IFNAME: ".." })).code, 4);
});
