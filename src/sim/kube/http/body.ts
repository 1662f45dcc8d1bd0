// Request bodies: read with a size limit that is enforced before and while reading (a huge body
// is refused with 413 without being buffered), then parsed by its content type: JSON, YAML, or the
// JSON of the patch types. Malformed input is a 400 with the decoder's reason.

import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { badRequest, KubeError, requestEntityTooLarge, unsupportedMediaType } from "../status.ts";
import { decodeProtobufBody, PROTOBUF } from "./protobuf.ts";

/** kube-apiserver's --max-request-bytes default for JSON and YAML bodies (3 MiB). */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

export class BodyTooLarge extends KubeError {
  constructor(limit: number) {
    super(requestEntityTooLarge(limit).status);
  }
}

export function readBody(req: IncomingMessage, limit = MAX_REQUEST_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.off("data", onData);
        // Stop reading; the caller answers 413 and closes the connection.
        req.pause();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on("error", (err) => {
      if (!done) reject(err);
    });
  });
}

export type BodyFormat = "json" | "yaml" | "protobuf";

const JSON_TYPES = ["application/json", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

/** The media type of a Content-Type header without parameters. */
export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

export function bodyFormat(contentType: string, accepted: readonly string[]): BodyFormat {
  if (contentType === "" || JSON_TYPES.includes(contentType)) return "json";
  if (contentType === "application/yaml" || contentType === "application/apply-patch+yaml") return "yaml";
  if (contentType === PROTOBUF && accepted.includes("application/json")) return "protobuf";
  throw unsupportedMediaType(contentType, accepted);
}

export function parseBody(raw: Buffer, format: BodyFormat): unknown {
  if (format === "protobuf") return raw.length === 0 ? undefined : decodeProtobufBody(raw);
  const text = raw.toString("utf8");
  if (text.trim() === "") return undefined;
  if (format === "json") {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split("\n")[0]}`);
  }
}
