// JSON as Go's encoding/json writes it, because every config a CNI plugin receives from containerd
// has been through it: libcni decodes the conflist into map[string]interface{} and marshals it again,
// so object keys come out sorted (recursively), with no whitespace, and with <, >, & and the line and
// paragraph separators escaped as \u003c, \u003e, \u0026, \u2028, \u2029. Struct values keep their
// field order instead; GoStruct stands for one.

/** A Go struct value: its fields in declaration order; undefined fields are left out (omitempty). */
export class GoStruct {
  readonly fields: ReadonlyArray<readonly [string, unknown]>;

  constructor(fields: ReadonlyArray<readonly [string, unknown]>) {
    this.fields = fields.filter(([, v]) => v !== undefined);
  }
}

const ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c]!);
}

/** Go's json.Marshal of a value decoded into interface{} (maps, slices, strings, float64, bool, nil). */
export function goMarshal(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value instanceof GoStruct) return `{${value.fields.map(([k, v]) => `${goString(k)}:${goMarshal(v)}`).join(",")}}`;
  if (Array.isArray(value)) return `[${value.map(goMarshal).join(",")}]`;
  switch (typeof value) {
    case "string":
      return goString(value);
    case "number":
      if (!Number.isFinite(value)) throw new Error(`json: unsupported value: ${value}`);
      // float64 formatting: Go and JavaScript agree (shortest round-trip digits, exponent from 1e21).
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort(byUtf8);
      return `{${keys.map((k) => `${goString(k)}:${goMarshal(obj[k])}`).join(",")}}`;
    }
    default:
      throw new Error(`json: unsupported type: ${typeof value}`);
  }
}

/** Go sorts map keys by their bytes (UTF-8), which differs from UTF-16 order above the BMP. */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** What Go's json.Unmarshal into interface{} followed by json.Marshal makes of a JSON text. */
export function goRemarshal(text: string): string {
  return goMarshal(JSON.parse(text));
}
