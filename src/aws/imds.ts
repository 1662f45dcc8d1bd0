// The node's instance metadata, read through the SDK's MetadataService with IMDSv2 session tokens.
// The SDK fetches a fresh token for every request; we fetch one, keep it for its TTL and send it
// ourselves, which halves the requests (IMDS and link-local traffic are rate limited per instance and
// per ENI, field-facts §3.5). List paths that answer 404 mean "none". Requests are retried a bounded
// number of times with short backoffs by the SDK; 404s are not retried.

import { MetadataService } from "@aws-sdk/ec2-metadata-service";
import { AwsApiError, CODES } from "./errors.ts";
import { realScheduler, type Clock } from "../time/scheduler.ts";

/** The instance as instance metadata's identity paths describe it (the agent's NodeIdentity adds its primary ENI's network). */
export interface InstanceIdentity {
  instanceId: string;
  instanceType: string;
  availabilityZone: string;
  region: string;
  primaryMac: string;
  primaryIp: string;
  /** IMDS `ipv6`: the instance's IPv6 address; undefined when it has none (404). */
  primaryIpv6?: string | undefined;
  primaryEniId: string;
  subnetId: string;
  vpcId: string;
  accountId: string | undefined;
}

/** One ENI as IMDS shows it. */
export interface ImdsEni {
  mac: string;
  eniId: string;
  deviceNumber: number; // the primary ENI's is forced to 0 (reference §4.5)
  networkCard: number;
  primary: boolean;
  subnetId: string;
  subnetCidr: string;
  vpcId: string;
  ipv4s: string[]; // the ENI's primary address first
  ipv4Prefixes: string[];
  securityGroupIds: string[];
  vpcIpv4Cidrs: string[];
}

/** The IPv6 side of one ENI (read on IPv6 nodes and for IPv6 egress only). */
export interface ImdsEniIpv6 {
  ipv6s: string[];
  /** /80 prefixes (`ipv6-prefix`). */
  ipv6Prefixes: string[];
  subnetIpv6Cidrs: string[];
  vpcIpv6Cidrs: string[];
}

export interface ImdsOptions {
  /** Defaults to the SDK's (AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254). */
  endpoint?: string;
  timeoutMs?: number; // per HTTP request, default 2 s
  retries?: number; // per path, default 3
  tokenTtlSeconds?: number; // default 21600 (6 h)
  clock?: Clock;
}

const META = "/latest/meta-data/";

export class Imds {
  readonly #data: MetadataService;
  readonly #tokens: MetadataService;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #token: { value: string; expires: number } | undefined;
  #tokenPending: Promise<string> | undefined;

  constructor(opts: ImdsOptions = {}) {
    const ttl = opts.tokenTtlSeconds ?? 21_600;
    const common = {
      ...(opts.endpoint === undefined ? {} : { endpoint: opts.endpoint }),
      httpOptions: { timeout: opts.timeoutMs ?? 2_000 },
      retries: opts.retries ?? 3,
      // 100, 200, 400 ms: the SDK's default (1.2^n s) would stall start-up for seconds on a hiccup.
      backoff: (n: number) => 0.1 * Math.pow(2, n),
      tokenTtl: ttl,
    };
    this.#tokens = new MetadataService(common);
    // Requests carry our cached token; this instance must not fetch its own (v1 is never used).
    this.#data = new MetadataService({ ...common, disableFetchToken: true, ec2MetadataV1Disabled: false });
    this.#clock = opts.clock ?? realScheduler;
    this.#ttlMs = ttl * 1000;
  }

  /** The text at a path below /latest/ ("meta-data/mac", "dynamic/instance-identity/document"). */
  async get(path: string): Promise<string> {
    const full = "/latest/" + path.replace(/^\/+/, "").replace(/^latest\//, "");
    try {
      return await this.#request(full, await this.#currentToken());
    } catch (err) {
      if (statusOf(err) !== 401) throw imdsError(full, err);
      // The token expired or IMDS restarted: one more try with a new token.
      this.#token = undefined;
      try {
        return await this.#request(full, await this.#currentToken());
      } catch (again) {
        throw imdsError(full, again);
      }
    }
  }

  /** Like get, but a 404 is undefined. */
  async getOptional(path: string): Promise<string | undefined> {
    try {
      return await this.get(path);
    } catch (err) {
      if (err instanceof AwsApiError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  /** A metadata list (one item per line, trailing "/" trimmed); 404 is an empty list. */
  async list(path: string): Promise<string[]> {
    const text = await this.getOptional(path);
    return lines(text).map((l) => l.replace(/\/$/, ""));
  }

  async identity(): Promise<InstanceIdentity> {
    const [instanceId, instanceType, availabilityZone, primaryMac, primaryIp, primaryIpv6, doc] = await Promise.all([
      this.meta("instance-id"),
      this.meta("instance-type"),
      this.meta("placement/availability-zone"),
      this.meta("mac"),
      this.meta("local-ipv4"),
      this.metaOptional("ipv6"),
      this.getOptional("dynamic/instance-identity/document"),
    ]);
    let region = availabilityZone.replace(/[a-z]$/, "");
    let accountId: string | undefined;
    if (doc !== undefined) {
      try {
        const parsed = JSON.parse(doc) as { region?: unknown; accountId?: unknown };
        if (typeof parsed.region === "string" && parsed.region !== "") region = parsed.region;
        if (typeof parsed.accountId === "string") accountId = parsed.accountId;
      } catch {
        // A malformed document leaves the region derived from the zone.
      }
    }
    const eni = `network/interfaces/macs/${primaryMac}/`;
    const [primaryEniId, subnetId, vpcId] = await Promise.all([this.meta(eni + "interface-id"), this.meta(eni + "subnet-id"), this.meta(eni + "vpc-id")]);
    const ipv6 = primaryIpv6?.trim();
    return { instanceId, instanceType, availabilityZone, region, primaryMac, primaryIp, primaryIpv6: ipv6 === "" ? undefined : ipv6, primaryEniId, subnetId, vpcId, accountId };
  }

  /** The region from the identity document (for building the EC2 client without AWS_REGION). */
  async region(): Promise<string> {
    const doc = JSON.parse(await this.get("dynamic/instance-identity/document")) as { region?: unknown };
    if (typeof doc.region !== "string" || doc.region === "") throw new AwsApiError({ code: CODES.imds, api: "", fn: "imds.region", message: "IMDS identity document has no region" });
    return doc.region;
  }

  /** The VPC's IPv4 CIDRs as the ENI with this MAC shows them (the reference re-reads the primary's every 30 s). */
  vpcIpv4Cidrs(mac: string): Promise<string[]> {
    return this.list(`meta-data/network/interfaces/macs/${mac}/vpc-ipv4-cidr-blocks`);
  }

  /** The security groups of the ENI with this MAC (RefreshSGIDs reads the primary's every 30 s). */
  securityGroupIds(mac: string): Promise<string[]> {
    return this.list(`meta-data/network/interfaces/macs/${mac}/security-group-ids`);
  }

  /** MACs of the ENIs IMDS shows attached. */
  macs(): Promise<string[]> {
    return this.list("meta-data/network/interfaces/macs/");
  }

  /** One ENI by MAC; `primaryMac` decides the device-number override. */
  async eni(mac: string, primaryMac: string): Promise<ImdsEni> {
    const at = `network/interfaces/macs/${mac}/`;
    const [eniId, device, card, subnetId, subnetCidr, vpcId, ipv4s, prefixes, sgs, vpcCidrs] = await Promise.all([
      this.meta(at + "interface-id"),
      this.meta(at + "device-number"),
      this.metaOptional(at + "network-card"),
      this.meta(at + "subnet-id"),
      this.meta(at + "subnet-ipv4-cidr-block"),
      this.metaOptional(at + "vpc-id"),
      this.list("meta-data/" + at + "local-ipv4s"),
      this.list("meta-data/" + at + "ipv4-prefix"),
      this.list("meta-data/" + at + "security-group-ids"),
      this.list("meta-data/" + at + "vpc-ipv4-cidr-blocks"),
    ]);
    const primary = mac === primaryMac;
    return {
      mac,
      eniId: eniId.trim(),
      deviceNumber: primary ? 0 : toInt(device, at + "device-number"),
      networkCard: card === undefined || card.trim() === "" ? 0 : toInt(card, at + "network-card"),
      primary,
      subnetId: subnetId.trim(),
      subnetCidr: subnetCidr.trim(),
      vpcId: (vpcId ?? "").trim(),
      ipv4s,
      ipv4Prefixes: prefixes,
      securityGroupIds: sgs,
      vpcIpv4Cidrs: vpcCidrs,
    };
  }

  /** One ENI's IPv6 addresses, /80 prefixes and its subnet's and VPC's IPv6 blocks. */
  async eniIpv6(mac: string): Promise<ImdsEniIpv6> {
    const at = `meta-data/network/interfaces/macs/${mac}/`;
    const [ipv6s, ipv6Prefixes, subnetIpv6Cidrs, vpcIpv6Cidrs] = await Promise.all([
      this.list(at + "ipv6s"),
      this.list(at + "ipv6-prefix"),
      this.list(at + "subnet-ipv6-cidr-blocks"),
      this.list(at + "vpc-ipv6-cidr-blocks"),
    ]);
    return { ipv6s, ipv6Prefixes, subnetIpv6Cidrs, vpcIpv6Cidrs };
  }

  /** Every attached ENI, in device-number order. An ENI that vanishes between the list and its read is left out. */
  async enis(primaryMac: string): Promise<ImdsEni[]> {
    const out: ImdsEni[] = [];
    for (const mac of await this.macs()) {
      try {
        out.push(await this.eni(mac, primaryMac));
      } catch (err) {
        if (err instanceof AwsApiError && err.httpStatus === 404) continue;
        throw err;
      }
    }
    return out.sort((a, b) => a.networkCard - b.networkCard || a.deviceNumber - b.deviceNumber);
  }

  meta(path: string): Promise<string> {
    return this.get("meta-data/" + path);
  }

  metaOptional(path: string): Promise<string | undefined> {
    return this.getOptional("meta-data/" + path);
  }

  #request(path: string, token: string): Promise<string> {
    return this.#data.request(path, { headers: { "x-aws-ec2-metadata-token": token } });
  }

  async #currentToken(): Promise<string> {
    const now = this.#clock.now();
    // Renew a minute early so a request never carries a token that expires in flight.
    if (this.#token !== undefined && this.#token.expires - 60_000 > now) return this.#token.value;
    this.#tokenPending ??= this.#tokens
      .fetchMetadataToken()
      .then((value) => {
        this.#token = { value, expires: this.#clock.now() + this.#ttlMs };
        return value;
      })
      .finally(() => {
        this.#tokenPending = undefined;
      });
    try {
      return await this.#tokenPending;
    } catch (err) {
      throw imdsError("/latest/api/token", err);
    }
  }
}

function lines(text: string | undefined): string[] {
  return (text ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

function toInt(text: string, path: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 0) throw new AwsApiError({ code: CODES.imds, api: "", fn: "imds", message: `IMDS ${path}: not a number: ${JSON.stringify(text)}` });
  return n;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function imdsError(path: string, err: unknown): AwsApiError {
  if (err instanceof AwsApiError) return err;
  const status = statusOf(err);
  return new AwsApiError({ code: CODES.imds, api: "", fn: "imds", httpStatus: status, message: `IMDS ${path}: ${(err as Error)?.message ?? String(err)}`, cause: err });
}
