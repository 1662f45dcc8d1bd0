// The agent's EC2 client and the one path every EC2 request takes. The client is built as any SDK
// program builds it: region from AWS_REGION (else the instance identity document), endpoint from the
// SDK's own AWS_ENDPOINT_URL_EC2, credentials from the default chain (which ends at IMDS), and a 10 s
// request timeout. The SDK's retryer is off (maxAttempts 1): retries are ours, so every request that
// reaches EC2 first takes a token from the request budget, and every answer (throttles included) is
// seen by the budget and by the metrics observer.

import { EC2Client } from "@aws-sdk/client-ec2";
import type { Command, MetadataBearer } from "@smithy/types";
import { realScheduler, type Clock } from "../time/scheduler.ts";
import { asAwsError, AwsApiError, describeError, isThrottle, isTransient } from "./errors.ts";
import { RequestBudget } from "./request-budget.ts";

/** One EC2 request's outcome, for metrics (awscni_ec2api_req_count{fn}, awscni_aws_api_latency_ms{api,error,status}, ...). */
export interface Ec2CallEvent {
  api: string; // EC2 action
  fn: string; // AWS-layer function that made it
  ok: boolean;
  errorCode: string | undefined;
  httpStatus: number | undefined;
  latencyMs: number; // the request itself, without the budget wait
  attempt: number; // 1 for the first try
  budgetWaitMs: number; // time waited for a token before this try
}

export interface Ec2Observer {
  onCall(event: Ec2CallEvent): void;
}

/** Everything an EC2 operation needs, passed explicitly (no singletons). */
export interface Ec2 {
  client: Pick<EC2Client, "send">;
  budget: RequestBudget;
  observer?: Ec2Observer | undefined;
  clock: Clock;
  /** Tries per request for transient failures (throttling, 5xx, timeouts). Default 5. */
  maxAttempts?: number;
  random?: () => number;
}

export const EC2_REQUEST_TIMEOUT_MS = 10_000;

export interface Ec2ClientOptions {
  region?: string;
  /** Explicit endpoint. Without it the SDK honours AWS_ENDPOINT_URL_EC2 itself. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the region comes from when AWS_REGION is unset (the IMDS identity document). */
  regionFromImds?: () => Promise<string>;
  requestTimeoutMs?: number;
}

/**
 * Builds the SDK client. The reference's AWS_EC2_ENDPOINT applied only to its IMDS/CloudWatch clients
 * (reference, known weakness 9); here it is honoured for EC2 too, below the SDK's AWS_ENDPOINT_URL_EC2.
 */
export async function createEc2Client(opts: Ec2ClientOptions = {}): Promise<EC2Client> {
  const env = opts.env ?? process.env;
  let region = opts.region ?? nonEmpty(env["AWS_REGION"]) ?? nonEmpty(env["AWS_DEFAULT_REGION"]);
  if (region === undefined && opts.regionFromImds) region = await opts.regionFromImds();
  if (region === undefined) throw new AwsApiError({ code: "MissingRegion", api: "", fn: "createEc2Client", message: "no AWS region: set AWS_REGION or run on an EC2 instance with IMDS" });
  const endpoint = opts.endpoint ?? (nonEmpty(env["AWS_ENDPOINT_URL_EC2"]) ? undefined : nonEmpty(env["AWS_EC2_ENDPOINT"]));
  const timeout = opts.requestTimeoutMs ?? EC2_REQUEST_TIMEOUT_MS;
  return new EC2Client({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    maxAttempts: 1,
    requestHandler: { requestTimeout: timeout, connectionTimeout: Math.min(timeout, 3_000) },
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

/** Bundles a client and a budget into an Ec2 context. */
export function ec2Context(client: Pick<EC2Client, "send">, budget: RequestBudget, extra: { observer?: Ec2Observer; clock?: Clock; maxAttempts?: number; random?: () => number } = {}): Ec2 {
  return { client, budget, observer: extra.observer, clock: extra.clock ?? realScheduler, maxAttempts: extra.maxAttempts, random: extra.random };
}

// Any SDK v3 command; its output type is read off the command.
type AnyCommand = Command<any, any, any, any, any>;
type OutputOf<C> = C extends Command<any, any, any, infer O, any> ? O : never;

/** The EC2 action of an SDK command (the class is named <Action>Command). */
export function actionOf(command: object): string {
  return command.constructor.name.replace(/Command$/, "");
}

/**
 * Sends one EC2 call for `fn`: waits for a budget token, sends, reports every answer to the budget
 * and the observer, and retries transient failures (throttling after the budget's backoff; 5xx and
 * timeouts after a short jittered backoff) up to maxAttempts requests in all. Errors leave as AwsApiError with
 * EC2's code.
 */
export async function ec2Call<C extends AnyCommand>(ec2: Ec2, fn: string, command: C): Promise<OutputOf<C>> {
  const api = actionOf(command);
  const input = command.input as object;
  const maxAttempts = ec2.maxAttempts ?? 5;
  const random = ec2.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    // A token admits a call; its retries are paced by their backoff, not charged again: a throttled
    // call that had to wait for a token a second (and third) time would stall for tens of seconds
    // behind the slowed-down bucket, while new calls are the ones that must be held back.
    let waited = 0;
    if (attempt === 1) {
      try {
        waited = await ec2.budget.acquire(api, input);
      } catch (err) {
        throw asAwsError(err, fn, api);
      }
    }
    const t0 = performance.now();
    try {
      const out = (await ec2.client.send(command as never)) as OutputOf<C> & MetadataBearer;
      ec2.budget.record(api, input, undefined);
      ec2.observer?.onCall({ api, fn, ok: true, errorCode: undefined, httpStatus: out?.$metadata?.httpStatusCode ?? 200, latencyMs: msSince(t0), attempt, budgetWaitMs: waited });
      return out;
    } catch (err) {
      const d = describeError(err);
      ec2.budget.record(api, input, d.code);
      ec2.observer?.onCall({ api, fn, ok: false, errorCode: d.code, httpStatus: d.httpStatus, latencyMs: msSince(t0), attempt, budgetWaitMs: waited });
      if (attempt >= maxAttempts || !isTransient(d.code, d.httpStatus)) {
        const suffix = attempt > 1 ? ` (after ${attempt} attempts)` : "";
        throw new AwsApiError({ code: d.code, api, fn, httpStatus: d.httpStatus, message: `${fn}: ${api}: ${d.code}: ${d.message}${suffix}`, cause: err });
      }
      const retry = attempt - 1;
      const delay = isThrottle(d.code) ? ec2.budget.throttleBackoffMs(retry) : Math.min(5_000, 100 * Math.pow(2, retry)) * (1 + random());
      await ec2.clock.sleep(delay);
    }
  }
}

function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}
