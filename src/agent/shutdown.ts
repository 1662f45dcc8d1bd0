// How the agent stops on SIGTERM (the kubelet stopping its pod) or SIGINT: no EC2 change starts from
// then on, the pods' state stays as it is in the datastore and the checkpoint (a restarted agent takes
// it back), and the servers close last-opened first.

import type { AgentLifecycle } from "./lifecycle.ts";
import type { NodeAgent } from "./node-agent.ts";
import type { Log } from "../log/log.ts";
import type { AgentLogger } from "./observability/log.ts";
import type { Schedules } from "./schedules.ts";
import type { Endpoint } from "./start-up.ts";

/** The servers the agent opened, closed last-opened first (the RPC socket before introspection). */
export class Endpoints {
  readonly #open: Endpoint[] = [];

  add(...endpoints: Endpoint[]): void {
    this.#open.push(...endpoints);
  }

  /** Closes every endpoint once; one that fails to close does not keep the others open. */
  async closeAll(): Promise<void> {
    for (const e of this.#open.splice(0).reverse()) await e.close().catch(() => undefined);
  }
}

/** What is running by the time a signal comes; the parts not started yet are undefined. */
export interface Running {
  schedules?: Schedules;
  agent?: NodeAgent;
  /** The Kubernetes side: informers, the event recorder, the CNINode feature schedule. */
  kubernetes?: { stop(): Promise<void> };
}

/** Stops the agent on SIGTERM and SIGINT, and exits (0) once everything is stopped and the log closed. */
export function stopOnSignals(o: { lifecycle: AgentLifecycle; running: Running; endpoints: Endpoints; log: Log; logger: AgentLogger }): void {
  const stop = async (signal: string) => {
    if (!o.lifecycle.shuttingDown(signal)) return;
    o.log("info", `received ${signal}: no more EC2 changes; state stays as it is`);
    o.running.schedules?.stop();
    await o.running.kubernetes?.stop();
    await o.running.agent?.stop();
    await o.endpoints.closeAll();
    o.logger.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}
