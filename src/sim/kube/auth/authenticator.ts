// Bearer-token authentication: static tokens the server hands out (the admin's kubeconfig, each
// node's kubelet credential) and service-account JWTs (bound tokens from TokenRequest, legacy
// tokens of service-account-token Secrets), which stay valid only while the account, and the pod
// or secret they are bound to, still exist with the same uid. No token means anonymous; a token
// that is not valid means 401.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { isPlainObject } from "../objects.ts";
import type { AdmissionReader } from "../admission/plugin.ts";
import { ANONYMOUS, serviceAccountUsername, type UserInfo } from "./user.ts";
import type { ServiceAccountTokens, TokenClaims } from "./service-account-tokens.ts";

export type AuthenticationResult = { user: UserInfo } | { user: undefined; reason: string };

export class Authenticator {
  private readonly staticTokens = new Map<string, UserInfo>();
  private readonly tokens: ServiceAccountTokens;
  private readonly reader: AdmissionReader;

  constructor(tokens: ServiceAccountTokens, reader: AdmissionReader) {
    this.tokens = tokens;
    this.reader = reader;
  }

  /** A new random bearer token for this identity (kept until the server stops or it is revoked). */
  issueStaticToken(user: UserInfo): string {
    const token = randomBytes(32).toString("base64url");
    this.staticTokens.set(token, { ...user, groups: [...user.groups] });
    return token;
  }

  revokeStaticToken(token: string): void {
    this.staticTokens.delete(token);
  }

  /** From an Authorization header value (or undefined). */
  authenticateHeader(header: string | undefined): AuthenticationResult {
    if (header === undefined || header === "") return { user: ANONYMOUS };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { user: undefined, reason: "only bearer tokens are accepted" };
    return this.authenticateToken(m[1]!);
  }

  authenticateToken(token: string): AuthenticationResult {
    for (const [known, user] of this.staticTokens) {
      if (known.length === token.length && timingSafeEqual(Buffer.from(known), Buffer.from(token))) return { user: withAuthenticated(user) };
    }
    const claims = this.tokens.verify(token, this.reader.now());
    if (!claims) return { user: undefined, reason: "invalid bearer token" };
    const problem = this.staleReason(claims, token);
    if (problem) return { user: undefined, reason: problem };
    return { user: serviceAccountUser(claims) };
  }

  /** Why a validly signed token no longer stands for a live account, or undefined. */
  private staleReason(claims: TokenClaims, token: string): string | undefined {
    const sa = this.reader.get("v1/serviceaccounts", claims.namespace, claims.serviceAccount.name);
    if (!sa || sa.metadata.uid !== claims.serviceAccount.uid) return `service account ${claims.namespace}/${claims.serviceAccount.name} has been deleted`;
    if (sa.metadata.deletionTimestamp) return `service account ${claims.namespace}/${claims.serviceAccount.name} is being deleted`;
    if (claims.legacySecret) {
      const secret = this.reader.get("v1/secrets", claims.namespace, claims.legacySecret);
      const stored = secret && isPlainObject(secret.data) ? secret.data.token : undefined;
      if (!secret || typeof stored !== "string" || Buffer.from(stored, "base64").toString("utf8") !== token) return `token secret ${claims.namespace}/${claims.legacySecret} has been deleted`;
    }
    const bound = claims.bound;
    if (bound && bound.kind !== "Node") {
      const key = bound.kind === "Pod" ? "v1/pods" : "v1/secrets";
      const object = this.reader.get(key, claims.namespace, bound.name);
      if (!object || object.metadata.uid !== bound.uid) return `${bound.kind.toLowerCase()} ${claims.namespace}/${bound.name} the token is bound to has been deleted`;
      if (object.metadata.deletionTimestamp && bound.kind === "Secret") return `secret ${claims.namespace}/${bound.name} is being deleted`;
    }
    if (bound?.kind === "Node") {
      const node = this.reader.get("v1/nodes", "", bound.name);
      if (!node || node.metadata.uid !== bound.uid) return `node ${bound.name} the token is bound to has been deleted`;
    }
    return undefined;
  }
}

function withAuthenticated(user: UserInfo): UserInfo {
  return user.groups.includes("system:authenticated") ? user : { ...user, groups: [...user.groups, "system:authenticated"] };
}

export function serviceAccountUser(claims: TokenClaims): UserInfo {
  const extra: Record<string, string[]> = {};
  if (claims.bound?.kind === "Pod") {
    extra["authentication.kubernetes.io/pod-name"] = [claims.bound.name];
    extra["authentication.kubernetes.io/pod-uid"] = [claims.bound.uid];
  }
  if (claims.node) {
    extra["authentication.kubernetes.io/node-name"] = [claims.node.name];
    extra["authentication.kubernetes.io/node-uid"] = [claims.node.uid];
  }
  if (claims.id) extra["authentication.kubernetes.io/credential-id"] = [`JTI=${claims.id}`];
  return {
    username: serviceAccountUsername(claims.namespace, claims.serviceAccount.name),
    uid: claims.serviceAccount.uid,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${claims.namespace}`, "system:authenticated"],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}
