// The access keys vpcsim's EC2 endpoint accepts: temporary ones (ASIA..., with a session token and
// an expiry) that IMDS hands to instances, and long-term ones (AKIA...) for vpcsim's own tools. Each
// key belongs to a principal (an instance id, or "admin"), which the call log records.

import { randomBytes } from "node:crypto";

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface LongTermCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What the verifier needs to know about one access key. */
export interface CredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  principal: string;
  sessionToken?: string; // temporary keys only
  expiresAt?: number; // ms since epoch; temporary keys only
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** `prefix` + random upper-case base32, 20 characters in all, like AWS's key ids. */
function keyId(prefix: string): string {
  let out = prefix;
  for (const byte of randomBytes(20 - prefix.length)) out += BASE32[byte % 32];
  return out;
}

function secret(): string {
  return randomBytes(30).toString("base64"); // 40 characters, as AWS's
}

/** Expired keys are remembered this long, so a late caller hears RequestExpired, not AuthFailure. */
const EXPIRED_GRACE_MS = 6 * 60 * 60 * 1000;

export class CredentialStore {
  readonly #keys = new Map<string, CredentialRecord>();
  readonly #now: () => number;

  constructor(opts: { clock?: { now(): number } } = {}) {
    const clock = opts.clock;
    this.#now = clock === undefined ? Date.now : () => clock.now();
  }

  /** Issues temporary credentials for `principal`, valid for `ttlMs` from now. */
  issue(principal: string, ttlMs: number): TemporaryCredentials {
    this.#prune();
    let accessKeyId = keyId("ASIA");
    while (this.#keys.has(accessKeyId)) accessKeyId = keyId("ASIA");
    const record: CredentialRecord = {
      accessKeyId,
      secretAccessKey: secret(),
      principal,
      sessionToken: randomBytes(96).toString("base64"),
      expiresAt: this.#now() + ttlMs,
    };
    this.#keys.set(accessKeyId, record);
    return {
      accessKeyId,
      secretAccessKey: record.secretAccessKey,
      sessionToken: record.sessionToken ?? "",
      expiration: new Date(record.expiresAt ?? 0),
    };
  }

  /**
   * Creates (or, given `fixed`, registers) a long-term key pair for `principal` (default "admin"),
   * for vpcsim's own tools. `fixed` lets a run directory keep the same keys across daemon restarts.
   */
  issueLongTerm(principal = "admin", fixed?: LongTermCredentials): LongTermCredentials {
    const accessKeyId = fixed?.accessKeyId ?? keyId("AKIA");
    const secretAccessKey = fixed?.secretAccessKey ?? secret();
    this.#keys.set(accessKeyId, { accessKeyId, secretAccessKey, principal });
    return { accessKeyId, secretAccessKey };
  }

  lookup(accessKeyId: string): CredentialRecord | undefined {
    return this.#keys.get(accessKeyId);
  }

  /** Forgets one key; returns whether it existed. */
  revoke(accessKeyId: string): boolean {
    return this.#keys.delete(accessKeyId);
  }

  /** Forgets every key of `principal` (a terminated instance); returns how many. */
  revokePrincipal(principal: string): number {
    let n = 0;
    for (const [id, r] of this.#keys) if (r.principal === principal && this.#keys.delete(id)) n++;
    return n;
  }

  now(): number {
    return this.#now();
  }

  #prune(): void {
    const cutoff = this.#now() - EXPIRED_GRACE_MS;
    for (const [id, r] of this.#keys) if (r.expiresAt !== undefined && r.expiresAt < cutoff) this.#keys.delete(id);
  }
}
