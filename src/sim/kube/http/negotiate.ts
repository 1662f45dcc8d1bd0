// Content negotiation of responses from the Accept header: JSON or YAML, and the server-side
// transformations kubectl asks for (`as=Table`, `as=PartialObjectMetadata[List]` of meta.k8s.io
// v1 or v1beta1). Protobuf is not offered: a client that also accepts JSON gets JSON; one that
// accepts only protobuf gets 406.

import { notAcceptable } from "../status.ts";

export type OutputFormat = "json" | "yaml";
export type Transform = "none" | "table" | "metadata";

export interface Negotiated {
  format: OutputFormat;
  transform: Transform;
  /** The meta.k8s.io version of a transformed output (v1 or v1beta1). */
  metaVersion: string;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(",")
    .map((part) => {
      const [type, ...params] = part.split(";").map((p) => p.trim());
      const map: Record<string, string> = {};
      for (const p of params) {
        const eq = p.indexOf("=");
        if (eq > 0) map[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim();
      }
      const q = map.q === undefined ? 1 : Number(map.q);
      return { type: (type ?? "").toLowerCase(), params: map, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.type !== "" && r.q > 0)
    .sort((a, b) => b.q - a.q);
}

const OFFERED = ["application/json", "application/yaml", "application/json;as=Table;v=v1;g=meta.k8s.io"];

/** What to answer with; `transformable`: the request may get a Table or metadata (get, list, watch). */
export function negotiate(header: string | undefined, transformable: boolean): Negotiated {
  const ranges = parseAccept(header ?? "");
  if (ranges.length === 0) return { format: "json", transform: "none", metaVersion: "v1" };
  for (const r of ranges) {
    const format: OutputFormat | undefined =
      r.type === "application/json" || r.type === "*/*" || r.type === "application/*" ? "json" : r.type === "application/yaml" ? "yaml" : undefined;
    if (!format) continue;
    const as = r.params.as;
    if (as === undefined) return { format, transform: "none", metaVersion: "v1" };
    if (!transformable) continue;
    if (r.params.g !== "meta.k8s.io" || (r.params.v !== "v1" && r.params.v !== "v1beta1")) continue;
    if (as === "Table") return { format, transform: "table", metaVersion: r.params.v };
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return { format, transform: "metadata", metaVersion: r.params.v };
  }
  throw notAcceptable(OFFERED);
}
