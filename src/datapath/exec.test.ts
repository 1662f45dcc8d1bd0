// Running the datapath's tools from the environments runtimes exec the plugin with: podman's cleanup
// passes a minimal PATH, others none or only /opt/cni/bin, where ip, nsenter and iptables are not.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolveTool } from "./exec.ts";

const EXEC = fileURLToPath(new URL("./exec.ts", import.meta.url));

describe("tool lookup (no root)", () => {
  it("finds ip when PATH does not list its directory (or is unset)", () => {
    const script = `import(${JSON.stringify(EXEC)}).then(async (m) => { const r = await m.run("ip", ["-V"]); process.stdout.write(r.stdout); }).catch((e) => { console.error(e.message); process.exit(2); })`;
    for (const env of [{ PATH: "/nonexistent" }, { PATH: "/opt/cni/bin" }, {}]) {
      const r = spawnSync(process.execPath, ["-e", script], { env, encoding: "utf8" });
      assert.equal(r.status, 0, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stdout, /iproute2/);
    }
  });

  it("resolves to an absolute path; a path is kept; an unknown tool stays a bare name", () => {
    assert.match(resolveTool("ip"), /^\/.*\/ip$/);
    assert.equal(resolveTool("/bin/true"), "/bin/true");
    assert.equal(resolveTool("no-such-tool-vpccni"), "no-such-tool-vpccni");
  });
});
