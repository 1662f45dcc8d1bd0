// `vpcsim faults`: run-time fault injection through the daemon's admin socket.

import { adminRequest } from "../admin-client.ts";
import { parse, requireUp, RUN_OPTION, UsageError } from "./args.ts";

export function badStatus(text: string): never {
  throw new UsageError(`--status '${text}': 500 (InternalError) or 503 (Unavailable)`);
}

export async function faults(args: string[]): Promise<number> {
  // --run may come before the subcommand (as the help shows) or after it.
  const runAt = args.findIndex((a) => a === "--run" || a.startsWith("--run="));
  const runArgs = runAt === 0 ? args.splice(0, args[0]!.includes("=") ? 1 : 2) : [];
  const [sub, ...afterSub] = args;
  const rest = [...runArgs, ...afterSub];
  const send = async (values: { run?: string }, method: string, path: string, body?: unknown) => {
    const paths = requireUp(values.run);
    return adminRequest(paths.adminSocket, method, path, body);
  };
  const number = (name: string, text: string | undefined, min: number, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} '${text}': a number from ${min} to ${max}`);
    return n;
  };
  switch (sub) {
    case "list": {
      const { values } = parse(rest, { ...RUN_OPTION, json: { type: "boolean", default: false } });
      const list = await send(values, "GET", "/faults");
      console.log(JSON.stringify(list, null, 2));
      return 0;
    }
    case "add": {
      const { values } = parse(rest, {
        ...RUN_OPTION,
        action: { type: "string", default: "*" },
        kind: { type: "string" },
        probability: { type: "string" },
        count: { type: "string" },
        ms: { type: "string" },
        status: { type: "string" },
      });
      if (!values.kind || !["throttle", "error", "timeout", "latency"].includes(values.kind)) {
        throw new UsageError("--kind: one of throttle, error, timeout, latency");
      }
      const body = {
        action: values.action,
        kind: values.kind,
        probability: number("probability", values.probability, 0, 1),
        count: number("count", values.count, 1, 1e9),
        ms: number("ms", values.ms, 0, 3_600_000),
        status: values.status === undefined ? undefined : values.status === "500" ? 500 : values.status === "503" ? 503 : badStatus(values.status),
      };
      console.log(JSON.stringify(await send(values, "POST", "/faults", body), null, 2));
      return 0;
    }
    case "slow-attach": {
      const { values } = parse(rest, { ...RUN_OPTION, ms: { type: "string" }, "detach-ms": { type: "string" } });
      const attachMs = number("ms", values.ms, 0, 3_600_000);
      if (attachMs === undefined) throw new UsageError("slow-attach needs --ms N");
      await send(values, "POST", "/faults/attach", { attachMs, detachMs: number("detach-ms", values["detach-ms"], 0, 3_600_000) });
      return 0;
    }
    case "exhaust": {
      const { values } = parse(rest, { ...RUN_OPTION, subnet: { type: "string" }, count: { type: "string" } });
      if (!values.subnet) throw new UsageError("exhaust needs --subnet S");
      console.log(JSON.stringify(await send(values, "POST", "/faults/exhaust", { subnet: values.subnet, count: number("count", values.count, 0, 1e9) }), null, 2));
      return 0;
    }
    case "throttling": {
      const { values, positionals } = parse(rest, { ...RUN_OPTION, scale: { type: "string" } }, true);
      if (positionals.length !== 1 || !["on", "off"].includes(positionals[0]!)) throw new UsageError("usage: vpcsim faults throttling on|off [--scale X]");
      await send(values, "POST", "/faults/throttling", { enabled: positionals[0] === "on", scale: number("scale", values.scale, 0.001, 1000) });
      return 0;
    }
    case "deny": {
      const { values, positionals } = parse(rest, { ...RUN_OPTION }, true);
      await send(values, "POST", "/faults/deny", { actions: positionals });
      return 0;
    }
    case "clear": {
      const { values } = parse(rest, { ...RUN_OPTION });
      await send(values, "DELETE", "/faults");
      return 0;
    }
    default:
      throw new UsageError(`faults: unknown subcommand '${sub ?? ""}'; see vpcsim faults --help`);
  }
}
