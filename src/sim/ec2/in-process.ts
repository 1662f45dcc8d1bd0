// vpcsim's EC2 in the caller's process, on the caller's clock: the real model behind the real Query
// handler (SigV4, throttling buckets, faults, call log), reached by the real @aws-sdk/client-ec2
// through an in-memory HTTP handler instead of a socket. Virtual time runs an hour of a pool manager
// against EC2's rules in milliseconds (the fault campaign, the fleet benchmark); nothing listens.
//
// One fault the endpoint's faults cannot make is here: a lost response, where EC2 carried out the
// request and the answer never arrived (the caller sees a timeout, as when a connection drops after
// the request was sent).

import { Readable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import { EC2Client } from "@aws-sdk/client-ec2";
import { CallLog } from "./call-log.ts";
import { CredentialStore } from "./credentials.ts";
import { Faults } from "./faults.ts";
import { loadInstanceTypes } from "./instance-types.ts";
import { Ec2Model } from "./model.ts";
import { createEc2Handler, type Ec2Handler } from "./server.ts";
import { Throttle } from "./throttle.ts";
import type { AttachTimings, WorldEvent } from "./types.ts";
import type { Scheduler } from "../../time/scheduler.ts";

/** What the SDK hands its HTTP handler (smithy's HttpRequest) and takes back (its HttpResponse, duck-typed). */
interface HttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | (string | null)[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}
interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

export interface InProcessEc2Options {
  scheduler: Scheduler;
  /** Seeded randomness for the model's ids and addresses, the faults and lost responses. */
  random?: () => number;
  /** EC2's token buckets (default on). */
  throttle?: boolean;
  timings?: AttachTimings;
  accountId?: string;
  region?: string;
  onEvent?: (e: WorldEvent) => void;
}

export class InProcessEc2 {
  readonly model: Ec2Model;
  readonly handler: Ec2Handler;
  readonly credentials = new CredentialStore();
  readonly callLog = new CallLog();
  readonly faults: Faults;
  readonly throttle: Throttle;
  readonly timings: AttachTimings;
  readonly region: string;
  /** Probability that an answered request's answer is lost (EC2 did it; the caller times out). */
  lostResponseProbability = 0;
  /** Answers lost so far, by action. */
  readonly lost = new Map<string, number>();
  readonly #random: () => number;
  readonly #scheduler: Scheduler;

  constructor(o: InProcessEc2Options) {
    this.#scheduler = o.scheduler;
    this.#random = o.random ?? Math.random;
    this.region = o.region ?? "us-east-1";
    this.timings = o.timings ?? { attachMs: 0, detachMs: 0 };
    const clock = { now: () => o.scheduler.now(), after: (ms: number, fn: () => void) => void o.scheduler.after(ms, fn) };
    this.model = new Ec2Model({
      clock,
      timings: this.timings,
      instanceTypes: loadInstanceTypes(),
      accountId: o.accountId ?? "111122223333",
      region: this.region,
      random: this.#random,
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    });
    this.faults = new Faults({ random: this.#random });
    this.throttle = new Throttle({ enabled: o.throttle ?? true, clock });
    this.handler = createEc2Handler({
      api: this.model,
      credentials: this.credentials,
      throttle: this.throttle,
      faults: this.faults,
      callLog: this.callLog,
      region: this.region,
      // SigV4 is checked against the wall clock the SDK signs with; everything that waits is virtual.
      sleep: (ms) => o.scheduler.sleep(ms),
      onError: (err, action) => {
        throw new Error(`in-process EC2: unexpected error in ${action}: ${(err as Error).message}`, { cause: err });
      },
    });
  }

  /** An SDK client with the instance's role credentials (its calls are logged under its id). */
  clientFor(instanceId: string): EC2Client {
    const creds = this.credentials.issue(instanceId, 365 * 24 * 3_600_000);
    return new EC2Client({
      endpoint: "http://ec2.in-process",
      region: this.region,
      credentials: creds,
      maxAttempts: 1,
      requestHandler: new InMemoryHttpHandler((req) => this.#serve(req)),
    });
  }

  async #serve(request: HttpRequest): Promise<HttpResponse> {
    const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body as string | Uint8Array);
    const query = Object.entries(request.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).filter((x): x is string => x !== null && x !== undefined).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`))
      .join("&");
    const answer = await exchange(this.handler, {
      method: request.method,
      url: `${request.path}${query ? `?${query}` : ""}`,
      headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v])),
      body,
    });
    if (answer === "dropped") throw timeoutError("the connection was dropped without an answer");
    if (answer.status === 200 && this.lostResponseProbability > 0 && this.#random() < this.lostResponseProbability) {
      const action = new URLSearchParams(body.toString("utf8")).get("Action") ?? "";
      this.lost.set(action, (this.lost.get(action) ?? 0) + 1);
      throw timeoutError(`${action} was carried out but its answer was lost`);
    }
    return { statusCode: answer.status, headers: answer.headers, body: Readable.from([answer.body]) };
  }
}

function timeoutError(message: string): Error {
  const err = new Error(message);
  err.name = "TimeoutError";
  return err;
}

/** The smithy HttpHandler shape, over a function instead of a socket. */
class InMemoryHttpHandler {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly #serve: (req: HttpRequest) => Promise<HttpResponse>;
  constructor(serve: (req: HttpRequest) => Promise<HttpResponse>) {
    this.#serve = serve;
  }
  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    return { response: await this.#serve(request) };
  }
  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One request through a node:http listener, with stand-ins for the request and response objects. */
function exchange(handler: Ec2Handler, r: { method: string; url: string; headers: Record<string, string>; body: Buffer }): Promise<Answer | "dropped"> {
  return new Promise((resolve) => {
    const req = Readable.from([r.body]) as unknown as IncomingMessage & { complete: boolean };
    Object.assign(req, {
      method: r.method,
      url: r.url,
      headers: { ...r.headers, "content-length": String(r.body.length) },
      complete: true,
      socket: { destroy: () => resolve("dropped") },
    });
    let status = 200;
    let headers: Record<string, string> = {};
    const res: { headersSent: boolean; destroyed: boolean; writeHead(s: number, h: Record<string, string | number>): unknown; end(body?: string | Buffer): void; destroy(): void } = {
      headersSent: false,
      destroyed: false,
      writeHead(s: number, h: Record<string, string | number>) {
        status = s;
        headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
        res.headersSent = true;
        return res;
      },
      end(body?: string | Buffer) {
        resolve({ status, headers, body: body === undefined ? Buffer.alloc(0) : Buffer.from(body) });
      },
      destroy() {
        res.destroyed = true;
        resolve("dropped");
      },
    };
    handler(req, res as unknown as ServerResponse);
  });
}
