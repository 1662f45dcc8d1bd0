// `vpc-cni-agent status [--json]`: reads the running agent's introspection documents (/v1/enis and
// /v1/pool) at the address its configuration gives, and prints them as tables or as one JSON document.
// Exit codes: 0 printed; 1 no configuration, introspection disabled, or no agent answering.

import { request } from "node:http";
import { formatConfigErrors, loadConfig, type BindAddress } from "./config.ts";
import { formatAgentStatus } from "./status-table.ts";
import type { Output } from "./max-pods-cli.ts";

export async function printAgentStatus(o: { json: boolean; env: Readonly<Record<string, string | undefined>>; stdout: Output; stderr: Output }): Promise<number> {
  const loaded = loadConfig(o.env);
  if (!loaded.ok) {
    o.stderr.write(`vpc-cni-agent: invalid configuration:\n${formatConfigErrors(loaded.errors)}\n`);
    return 1;
  }
  const bind = loaded.config.observability.introspectionBind;
  if (!bind) {
    o.stderr.write("vpc-cni-agent: introspection is disabled (DISABLE_INTROSPECTION), so status cannot be read\n");
    return 1;
  }
  try {
    const [enis, pool] = await Promise.all([getJson(bind, "/v1/enis"), getJson(bind, "/v1/pool")]);
    if (o.json) o.stdout.write(JSON.stringify({ enis, pool }, null, 2) + "\n");
    else o.stdout.write(formatAgentStatus(enis as never, pool as never) + "\n");
    return 0;
  } catch (err) {
    o.stderr.write(`vpc-cni-agent: no agent answers on ${describeBind(bind)}: ${(err as Error).message}\n`);
    return 1;
  }
}

function describeBind(bind: BindAddress): string {
  return bind.kind === "unix" ? `unix:${bind.path}` : `${bind.host}:${bind.port}`;
}

function getJson(bind: BindAddress, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const target = bind.kind === "unix" ? { socketPath: bind.path } : { host: bind.host === "" ? "127.0.0.1" : bind.host, port: bind.port };
    const req = request({ ...target, path, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`${path} did not answer JSON`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}
