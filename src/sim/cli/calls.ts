// `vpcsim calls`: the EC2 call log, as lines, counts per action or JSON.

import { adminRequest } from "../admin-client.ts";
import { parse, requireUp, RUN_OPTION, UsageError } from "./args.ts";

export interface CallEntry {
  time: number;
  action: string;
  principal?: string;
  outcome: string;
  status: number;
  latencyMs: number;
}

export interface ActionCounts {
  total: number;
  ok: number;
  errors: Record<string, number>;
}

export async function calls(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...RUN_OPTION,
    action: { type: "string" },
    outcome: { type: "string" },
    last: { type: "string", default: "50" },
    counts: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  const last = Number(values.last);
  if (!Number.isInteger(last) || last < 1) throw new UsageError(`--last '${values.last}': a whole number of at least 1`);
  const paths = requireUp(values.run);
  const query = new URLSearchParams();
  if (values.action) query.set("action", values.action);
  if (values.outcome) query.set("outcome", values.outcome);
  if (values.counts) {
    const counts = await adminRequest<Record<string, ActionCounts>>(paths.adminSocket, "GET", `/calls/counts?${query}`);
    if (values.json) console.log(JSON.stringify(counts, null, 2));
    else {
      for (const [action, c] of Object.entries(counts)) {
        const errors = Object.entries(c.errors).map(([code, n]) => `${code}=${n}`);
        console.log(`${action.padEnd(36)} total=${c.total} ok=${c.ok}${errors.length ? ` ${errors.join(" ")}` : ""}`);
      }
    }
    return 0;
  }
  query.set("last", String(last));
  const entries = await adminRequest<CallEntry[]>(paths.adminSocket, "GET", `/calls?${query}`);
  if (values.json) console.log(JSON.stringify(entries, null, 2));
  else {
    for (const e of entries) {
      const when = new Date(e.time).toISOString();
      console.log(`${when}  ${(e.principal ?? "-").padEnd(20)} ${(e.action || "-").padEnd(34)} ${e.outcome.padEnd(34)} ${String(e.status).padEnd(4)} ${e.latencyMs.toFixed(1)} ms`);
    }
  }
  return 0;
}
