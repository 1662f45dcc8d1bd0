// AWS Signature Version 4, server side: rebuild the canonical request from what arrived, sign it
// with the caller's secret and compare. Header-signed requests only (what every SDK sends); query
// string presigning is not accepted. Error codes are EC2's: AuthFailure (unknown key, bad session
// token), SignatureDoesNotMatch, IncompleteSignature (malformed header), RequestExpired (clock skew
// over 15 minutes, or expired temporary credentials), MissingAuthenticationToken.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { CredentialRecord } from "./credentials.ts";
import { Ec2Error } from "./types.ts";

export const ALGORITHM = "AWS4-HMAC-SHA256";
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface SignableRequest {
  method: string;
  url: string; // path and query, as sent ("/?Action=..." or "/")
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | string;
}

export interface VerifyOptions {
  lookup: (accessKeyId: string) => CredentialRecord | undefined;
  now: number; // ms since epoch
  service?: string; // default "ec2"
  region?: string; // when set, the credential scope must name it
}

export interface Verified {
  accessKeyId: string;
  principal: string;
}

function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalPath(rawPath: string): string {
  if (rawPath === "" || rawPath === "/") return "/";
  const segments = rawPath.split("/").map((s) => {
    try {
      return encode(decodeURIComponent(s));
    } catch {
      return encode(s);
    }
  });
  return segments.join("/");
}

function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of new URLSearchParams(rawQuery)) pairs.push([encode(k), encode(v)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function headerValue(headers: SignableRequest["headers"], name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(",") : v;
}

/** "20240102T030405Z" for a time in ms. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(t) ? undefined : t;
}

function stringToSign(req: SignableRequest, signedHeaders: string[], date: string, scope: string): string {
  const url = req.url;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(headerValue(req.headers, h) ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    signedHeaders.join(";"),
    sha256Hex(req.body),
  ].join("\n");
  return [ALGORITHM, date, scope, sha256Hex(canonicalRequest)].join("\n");
}

function signingKey(secretAccessKey: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac("AWS4" + secretAccessKey, day), region), service), "aws4_request");
}

const authFailure = (): Ec2Error => new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials", 401);
const incomplete = (why: string): Ec2Error => new Ec2Error("IncompleteSignature", why, 400);
const mismatch = (why = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."): Ec2Error =>
  new Ec2Error("SignatureDoesNotMatch", why, 403);

/** Checks the request's signature; returns who signed it or throws EC2's error. */
export function verifySigV4(req: SignableRequest, opts: VerifyOptions): Verified {
  const service = opts.service ?? "ec2";
  const auth = headerValue(req.headers, "authorization");
  if (auth === undefined || auth.trim() === "") {
    throw new Ec2Error("MissingAuthenticationToken", "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.", 403);
  }
  const space = auth.indexOf(" ");
  const algorithm = space < 0 ? auth : auth.slice(0, space);
  if (algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'`);
  const fields = new Map<string, string>();
  for (const part of auth.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeadersText = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (credential === undefined) throw incomplete("Authorization header requires 'Credential' parameter.");
  if (signedHeadersText === undefined) throw incomplete("Authorization header requires 'SignedHeaders' parameter.");
  if (signature === undefined) throw incomplete("Authorization header requires 'Signature' parameter.");
  const scopeParts = credential.split("/");
  if (scopeParts.length !== 5) throw incomplete(`Authorization header has a malformed Credential: '${credential}'`);
  const [accessKeyId, day, region, scopeService, terminator] = scopeParts as [string, string, string, string, string];

  const record = opts.lookup(accessKeyId);
  if (record === undefined) throw authFailure();

  const date = headerValue(req.headers, "x-amz-date");
  let when = date === undefined ? undefined : parseAmzDate(date);
  let dateText = date;
  if (date === undefined) {
    const httpDate = headerValue(req.headers, "date");
    const t = httpDate === undefined ? NaN : Date.parse(httpDate);
    if (Number.isNaN(t)) throw incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    when = t;
    dateText = amzDate(t);
  }
  if (when === undefined || dateText === undefined) throw incomplete(`Invalid X-Amz-Date: '${date}'`);
  if (Math.abs(opts.now - when) > MAX_SKEW_MS) throw new Ec2Error("RequestExpired", "Request has expired.", 400);
  if (record.expiresAt !== undefined && opts.now >= record.expiresAt) throw new Ec2Error("RequestExpired", "Request has expired.", 400);

  if (record.sessionToken !== undefined) {
    const token = headerValue(req.headers, "x-amz-security-token");
    if (token === undefined || token !== record.sessionToken) throw authFailure();
  }

  if (day !== dateText.slice(0, 8)) throw mismatch(`Credential should be scoped to a valid date: '${day}'`);
  if (scopeService !== service || terminator !== "aws4_request") throw mismatch(`Credential should be scoped to correct service: '${service}'.`);
  if (opts.region !== undefined && region !== opts.region) throw mismatch(`Credential should be scoped to a valid region.`);

  const signedHeaders = signedHeadersText.split(";").map((h) => h.trim().toLowerCase());
  if (!signedHeaders.includes("host")) throw mismatch("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const scope = `${day}/${region}/${scopeService}/aws4_request`;
  const expected = createHmac("sha256", signingKey(record.secretAccessKey, day, region, scopeService))
    .update(stringToSign(req, signedHeaders, dateText, scope), "utf8")
    .digest();
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, "hex") : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw mismatch();
  return { accessKeyId, principal: record.principal };
}

/**
 * Signs a request the way the SDK does (for vpcsim's own raw-HTTP tools and tests): sets
 * x-amz-date, x-amz-security-token (when given), x-amz-content-sha256 and Authorization.
 */
export function signV4(
  req: SignableRequest,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  opts: { region: string; service?: string; now?: number },
): void {
  const service = opts.service ?? "ec2";
  const dateText = amzDate(opts.now ?? Date.now());
  const day = dateText.slice(0, 8);
  req.headers["x-amz-date"] = dateText;
  if (creds.sessionToken !== undefined) req.headers["x-amz-security-token"] = creds.sessionToken;
  req.headers["x-amz-content-sha256"] = sha256Hex(req.body);
  const signedHeaders = Object.keys(req.headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h !== "authorization" && req.headers[h] !== undefined)
    .sort();
  const scope = `${day}/${opts.region}/${service}/aws4_request`;
  const signature = createHmac("sha256", signingKey(creds.secretAccessKey, day, opts.region, service))
    .update(stringToSign(req, signedHeaders, dateText, scope), "utf8")
    .digest("hex");
  req.headers["authorization"] = `${ALGORITHM} Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
}
