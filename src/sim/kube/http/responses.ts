// Writing answers: objects as JSON or YAML, Status objects for errors (with their HTTP code), and
// warnings as `Warning: 299 - "..."` headers, as kube-apiserver sends them.

import type { ServerResponse } from "node:http";
import { stringify as toYaml } from "yaml";
import type { Status } from "../status.ts";
import type { OutputFormat } from "./negotiate.ts";

function warningHeaders(warnings: readonly string[]): string[] {
  // Header values cannot hold newlines; Kubernetes truncates long warnings too.
  return [...new Set(warnings)].slice(0, 50).map((w) => `299 - ${JSON.stringify(w.replace(/[\r\n]+/g, " ").slice(0, 256))}`);
}

export function sendObject(res: ServerResponse, code: number, body: unknown, format: OutputFormat = "json", warnings: readonly string[] = [], pretty = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = format === "yaml" ? toYaml(body, { lineWidth: 0 }) : JSON.stringify(body, null, pretty ? 2 : undefined) + "\n";
  const headers: Record<string, string | string[]> = {
    "Content-Type": format === "yaml" ? "application/yaml" : "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    "Cache-Control": "no-cache, private",
  };
  if (warnings.length > 0) headers.Warning = warningHeaders(warnings);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status, options: { closeConnection?: boolean; warnings?: readonly string[] } = {}): void {
  if (options.closeConnection) res.setHeader("Connection", "close");
  sendObject(res, status.code, status, "json", options.warnings ?? []);
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)), "X-Content-Type-Options": "nosniff" });
  res.end(text);
}
