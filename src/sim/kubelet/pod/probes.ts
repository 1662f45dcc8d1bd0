// Readiness and startup probes as the kubelet's prober runs them: httpGet (from the node, to the
// pod's address unless a host is given; 200-399 is success), tcpSocket (a connection), exec (in the
// container, exit 0). Each probe has its own timer: initialDelaySeconds, then every periodSeconds,
// with successThreshold/failureThreshold before its result flips. Results go to a callback.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { ContainerSpec } from "./container-spec.ts";

export type ProbeKind = "readiness" | "startup" | "liveness";

export interface ProbeTarget {
  podIP: string;
  container: ContainerSpec;
  exec(argv: string[], timeoutMs: number): Promise<number>;
}

export interface ProbeSpec {
  httpGet?: { host?: string; port: number | string; path?: string; scheme?: string; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { host?: string; port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

function portOf(port: number | string, container: ContainerSpec): number {
  if (typeof port === "number") return port;
  const named = container.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new Error(`port "${port}" is not a number and not a named port of the container`);
}

/** One run of a probe: undefined on success, else why it failed (the kubelet's event text). */
export async function probeOnce(spec: ProbeSpec, target: ProbeTarget): Promise<string | undefined> {
  const timeoutMs = (spec.timeoutSeconds ?? 1) * 1000;
  try {
    if (spec.httpGet) {
      const g = spec.httpGet;
      const host = g.host || target.podIP;
      const port = portOf(g.port, target.container);
      const https = (g.scheme ?? "HTTP").toUpperCase() === "HTTPS";
      // An IPv6 pod's address goes in brackets, as Go's net.JoinHostPort writes it for the kubelet.
      const url = `${https ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}${g.path ?? "/"}`;
      const status = await new Promise<number>((resolve, reject) => {
        const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const req = (https ? httpsRequest : httpRequest)(url, { method: "GET", timeout: timeoutMs, headers: { "user-agent": "kube-probe/1.34", ...headers }, ...(https ? { rejectUnauthorized: false } : {}) }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
        req.on("error", reject);
        req.end();
      });
      return status >= 200 && status < 400 ? undefined : `HTTP probe failed with statuscode: ${status}`;
    }
    if (spec.tcpSocket) {
      const host = spec.tcpSocket.host || target.podIP;
      const port = portOf(spec.tcpSocket.port, target.container);
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port, timeout: timeoutMs });
        socket.once("connect", () => {
          socket.destroy();
          resolve();
        });
        socket.once("timeout", () => socket.destroy(new Error(`dial tcp ${host}:${port}: i/o timeout`)));
        socket.once("error", reject);
      });
      return undefined;
    }
    if (spec.exec) {
      const code = await target.exec(spec.exec.command, timeoutMs);
      return code === 0 ? undefined : `command ${JSON.stringify(spec.exec.command.join(" "))} exited with ${code}`;
    }
    return undefined; // grpc probes are not supported: they count as success
  } catch (err) {
    return (err as Error).message;
  }
}

/** A probe's loop: reports `true`/`false` whenever its result settles to a new value. */
export class ProbeWorker {
  readonly #spec: ProbeSpec;
  readonly #target: ProbeTarget;
  readonly #report: (ok: boolean, why?: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #result = false;
  #onFailure: ((why: string) => void) | undefined;
  #streak = 0;

  constructor(spec: ProbeSpec, target: ProbeTarget, report: (ok: boolean, why?: string) => void, onFailure?: (why: string) => void) {
    this.#onFailure = onFailure;
    this.#spec = spec;
    this.#target = target;
    this.#report = report;
    this.#timer = setTimeout(() => void this.#tick(), (spec.initialDelaySeconds ?? 0) * 1000);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const why = await probeOnce(this.#spec, this.#target);
    if (this.#stopped) return;
    const ok = why === undefined;
    // A probe starts out failed (Kubernetes' initial readiness); a result flips after its threshold.
    if (ok === this.#result) this.#streak = 0;
    else if (++this.#streak >= (ok ? (this.#spec.successThreshold ?? 1) : (this.#spec.failureThreshold ?? 3))) {
      this.#result = ok;
      this.#streak = 0;
      this.#report(ok, why);
    }
    if (!ok) this.#onFailure?.(why!);
    this.#timer = setTimeout(() => void this.#tick(), (this.#spec.periodSeconds ?? 10) * 1000);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
