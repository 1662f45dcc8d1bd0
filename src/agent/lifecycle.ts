// Where the agent process is in its life: starting (initialising the node), serving the plugin, or
// shutting down. The RPC health call, the introspection health endpoint and the shutdown read it.

import type { AgentHealthStatus } from "./observability/introspection.ts";

export class AgentLifecycle {
  readonly startedAt: number;
  #status: AgentHealthStatus = "starting";
  #detail = "initialising";

  constructor(startedAt: number) {
    this.startedAt = startedAt;
  }

  get status(): AgentHealthStatus {
    return this.#status;
  }

  /** Why the agent is where it is ("" while serving). */
  get detail(): string {
    return this.#detail;
  }

  serving(): void {
    this.#status = "serving";
    this.#detail = "";
  }

  /** False when a shutdown had begun already (a second signal changes nothing). */
  shuttingDown(signal: string): boolean {
    if (this.#status === "shutting-down") return false;
    this.#status = "shutting-down";
    this.#detail = `received ${signal}`;
    return true;
  }
}
