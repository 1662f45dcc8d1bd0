// The instance metadata service at 169.254.169.254, IMDSv2 rules as EC2 documents them:
// PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1..21600) returns a token bound
// to the instance that asked; GETs carry it in X-aws-ec2-metadata-token. A missing token is 401
// unless the instance allows IMDSv1; a bad or expired one is always 401. A PUT carrying
// X-Forwarded-For is refused (403), which is how EC2 keeps proxies from minting tokens.
// The instance is known by the source address of the connection.

import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { lookupMetadata, renderMetadata } from "./metadata-tree.ts";
import type { ImdsView } from "./imds-view.ts";

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface ImdsHandlerOptions {
  view: ImdsView;
  /** The instance whose ENI owns this source address, if any. */
  resolveInstance: (sourceIp: string) => string | undefined;
  /** Temporary credentials of the instance's role; the caller caches and rotates them. */
  credentialsFor: (instanceId: string) => RoleCredentials;
  /** IMDSv1 (no token) is refused unless this says otherwise for the instance. */
  allowV1?: (instanceId: string) => boolean;
  now?: () => number;
  onRequest?: (entry: { instanceId?: string; method: string; path: string; status: number }) => void;
}

const MAX_TTL_SECONDS = 21600;
const MAX_TOKENS_PER_INSTANCE = 5000;

interface Token {
  instanceId: string;
  expiresAt: number;
}

export function createImdsHandler(options: ImdsHandlerOptions) {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, Token>();
  const tokensByInstance = new Map<string, string[]>();

  function issueToken(instanceId: string, ttlSeconds: number): string {
    const token = randomBytes(30).toString("base64url");
    tokens.set(token, { instanceId, expiresAt: now() + ttlSeconds * 1000 });
    const mine = (tokensByInstance.get(instanceId) ?? []).filter((t) => (tokens.get(t)?.expiresAt ?? 0) > now());
    mine.push(token);
    // Bounded like EC2's own limit on live tokens: the oldest go first.
    while (mine.length > MAX_TOKENS_PER_INSTANCE) tokens.delete(mine.shift()!);
    tokensByInstance.set(instanceId, mine);
    return token;
  }

  return function handleImdsRequest(req: IncomingMessage, res: ServerResponse): void {
    const sourceIp = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const instanceId = options.resolveInstance(sourceIp);
    // Repeated slashes are folded, as EC2's IMDS does (the SDK's client asks for "//latest/...").
    const path = ((req.url ?? "/").split("?")[0] ?? "/").replace(/\/{2,}/g, "/");
    const method = req.method ?? "GET";
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "text/plain", "content-length": Buffer.byteLength(body), ...headers });
      res.end(method === "HEAD" ? undefined : body);
      options.onRequest?.({ instanceId, method, path, status });
    };
    // Drain any body; IMDS requests carry none that matters.
    req.resume();

    if (instanceId === undefined) return reply(403, "Forbidden\n");

    if (path === "/latest/api/token") {
      if (method !== "PUT") return reply(405, "Method Not Allowed\n", { allow: "PUT" });
      if (req.headers["x-forwarded-for"] !== undefined) return reply(403, "Forbidden\n");
      const raw = req.headers["x-aws-ec2-metadata-token-ttl-seconds"];
      const ttl = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!(ttl >= 1 && ttl <= MAX_TTL_SECONDS)) return reply(400, "Bad Request\n");
      return reply(200, issueToken(instanceId, ttl), { "x-aws-ec2-metadata-token-ttl-seconds": String(ttl) });
    }

    if (method !== "GET" && method !== "HEAD") return reply(405, "Method Not Allowed\n", { allow: "GET, HEAD" });

    const presented = req.headers["x-aws-ec2-metadata-token"];
    if (typeof presented === "string") {
      const token = tokens.get(presented);
      if (!token || token.instanceId !== instanceId || token.expiresAt <= now()) return reply(401, "Unauthorized\n");
    } else if (!(options.allowV1?.(instanceId) ?? false)) {
      return reply(401, "Unauthorized\n");
    }

    const tree = options.view.tree(instanceId);
    if (tree === undefined) return reply(404, notFound());
    if (path === "/") return reply(200, "latest");
    if (!path.startsWith("/latest")) return reply(404, notFound());
    const below = path.slice("/latest".length);

    const role = /^\/meta-data\/iam\/security-credentials\/([^/]+)\/?$/.exec(below)?.[1];
    if (role !== undefined) {
      if (lookupMetadata(tree, `meta-data/iam/security-credentials/${role}`) === undefined) return reply(404, notFound());
      const creds = options.credentialsFor(instanceId);
      const body = JSON.stringify(
        {
          Code: "Success",
          LastUpdated: new Date(now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
          Type: "AWS-HMAC",
          AccessKeyId: creds.accessKeyId,
          SecretAccessKey: creds.secretAccessKey,
          Token: creds.sessionToken,
          Expiration: creds.expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
        },
        null,
        2,
      );
      return reply(200, body);
    }

    const node = lookupMetadata(tree, below);
    if (node === undefined) return reply(404, notFound());
    // A leaf asked for with a trailing slash is not found on EC2 either.
    if (typeof node === "string" && below.endsWith("/")) return reply(404, notFound());
    return reply(200, renderMetadata(node));
  };
}

function notFound(): string {
  return [
    '<?xml version="1.0" encoding="iso-8859-1"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
    " <head>",
    "  <title>404 - Not Found</title>",
    " </head>",
    " <body>",
    "  <h1>404 - Not Found</h1>",
    " </body>",
    "</html>",
    "",
  ].join("\n");
}
