// Service-account tokens as Kubernetes issues them: JWTs signed by the API server's own key (ES256
// here), either bound tokens from TokenRequest (audience, expiry, bound to a pod, secret or node)
// or legacy tokens for Secrets of type kubernetes.io/service-account-token (no expiry). Verifying a
// token checks signature, issuer, audience and time; the authenticator then checks that what the
// token names (account, pod, secret) still exists with the same uid.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from "node:crypto";

export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
const LEGACY_ISSUER = "kubernetes/serviceaccount";

export interface BoundObject {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
}

export interface TokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences: string[];
  expiresAt?: number; // ms; undefined for legacy tokens
  issuedAt: number;
  bound?: BoundObject;
  /** The node a bound pod runs on (set by the API server from the pod). */
  node?: { name: string; uid: string };
  legacySecret?: string;
  id: string;
}

function b64(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: string[];
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly keyId: string;

  constructor(options: { issuer?: string; audiences?: string[]; privateKeyPem?: string } = {}) {
    this.issuer = options.issuer ?? DEFAULT_ISSUER;
    this.audiences = options.audiences ?? [this.issuer];
    if (options.privateKeyPem) {
      this.privateKey = createPrivateKey(options.privateKeyPem);
      this.publicKey = createPublicKey(this.privateKey);
    } else {
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      this.privateKey = pair.privateKey;
      this.publicKey = pair.publicKey;
    }
    this.keyId = b64(this.publicKey.export({ type: "spki", format: "der" }).subarray(-16));
  }

  /** A bound token (TokenRequest). */
  issue(claims: Omit<TokenClaims, "id" | "legacySecret">): string {
    const payload: Record<string, unknown> = {
      aud: claims.audiences,
      exp: Math.floor(claims.expiresAt! / 1000),
      iat: Math.floor(claims.issuedAt / 1000),
      iss: this.issuer,
      jti: randomUUID(),
      "kubernetes.io": {
        namespace: claims.namespace,
        ...(claims.node ? { node: claims.node } : {}),
        ...(claims.bound && claims.bound.kind !== "Node" ? { [claims.bound.kind.toLowerCase()]: { name: claims.bound.name, uid: claims.bound.uid } } : {}),
        serviceaccount: claims.serviceAccount,
      },
      nbf: Math.floor(claims.issuedAt / 1000),
      sub: `system:serviceaccount:${claims.namespace}:${claims.serviceAccount.name}`,
    };
    if (claims.bound?.kind === "Node") (payload["kubernetes.io"] as Record<string, unknown>).node = { name: claims.bound.name, uid: claims.bound.uid };
    return this.sign(payload);
  }

  /** A legacy token for a Secret of type kubernetes.io/service-account-token. */
  issueLegacy(namespace: string, secretName: string, serviceAccount: { name: string; uid: string }): string {
    return this.sign({
      iss: LEGACY_ISSUER,
      "kubernetes.io/serviceaccount/namespace": namespace,
      "kubernetes.io/serviceaccount/secret.name": secretName,
      "kubernetes.io/serviceaccount/service-account.name": serviceAccount.name,
      "kubernetes.io/serviceaccount/service-account.uid": serviceAccount.uid,
      sub: `system:serviceaccount:${namespace}:${serviceAccount.name}`,
    });
  }

  /** The claims of a token this server signed and that is valid now for one of `audiences`; else undefined. */
  verify(token: string, now: number, audiences: string[] = this.audiences): TokenClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [header, body, signature] = parts as [string, string, string];
    let ok: boolean;
    try {
      ok = verify("sha256", Buffer.from(`${header}.${body}`), { key: this.publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
    } catch {
      return undefined;
    }
    if (!ok) return undefined;
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (p.iss === LEGACY_ISSUER) {
      const ns = p["kubernetes.io/serviceaccount/namespace"];
      const name = p["kubernetes.io/serviceaccount/service-account.name"];
      const uid = p["kubernetes.io/serviceaccount/service-account.uid"];
      const secret = p["kubernetes.io/serviceaccount/secret.name"];
      if (typeof ns !== "string" || typeof name !== "string" || typeof uid !== "string" || typeof secret !== "string") return undefined;
      return { namespace: ns, serviceAccount: { name, uid }, audiences: [], issuedAt: 0, legacySecret: secret, id: "" };
    }
    if (p.iss !== this.issuer) return undefined;
    const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
    if (!aud.some((a) => audiences.includes(String(a)))) return undefined;
    if (typeof p.exp !== "number" || p.exp * 1000 <= now) return undefined;
    if (typeof p.nbf === "number" && p.nbf * 1000 > now + 60_000) return undefined;
    const k = p["kubernetes.io"] as Record<string, { name?: string; uid?: string } | string> | undefined;
    if (!k || typeof k.namespace !== "string" || typeof k.serviceaccount !== "object") return undefined;
    const sa = k.serviceaccount;
    const pod = k.pod as { name: string; uid: string } | undefined;
    const secret = k.secret as { name: string; uid: string } | undefined;
    const node = k.node as { name: string; uid: string } | undefined;
    const bound: BoundObject | undefined = pod ? { kind: "Pod", ...pod } : secret ? { kind: "Secret", ...secret } : node ? { kind: "Node", ...node } : undefined;
    return {
      namespace: k.namespace,
      serviceAccount: { name: String(sa.name), uid: String(sa.uid) },
      audiences: aud.map(String),
      expiresAt: p.exp * 1000,
      issuedAt: typeof p.iat === "number" ? p.iat * 1000 : 0,
      ...(bound ? { bound } : {}),
      ...(node ? { node } : {}),
      id: String(p.jti ?? ""),
    };
  }

  private sign(payload: Record<string, unknown>): string {
    const header = b64(JSON.stringify({ alg: "ES256", kid: this.keyId }));
    const body = b64(JSON.stringify(payload));
    const signature = sign("sha256", Buffer.from(`${header}.${body}`), { key: this.privateKey, dsaEncoding: "ieee-p1363" });
    return `${header}.${body}.${b64(signature)}`;
  }
}
