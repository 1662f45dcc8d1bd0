// Drives a node's Runtime running in a child process inside a network namespace (see
// runtime-driver.test-support.ts), as the kubelet would call it.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { RuntimeOptions } from "./runtime.ts";

export interface DriverAnswer {
  ok: boolean;
  value?: any;
  error?: { name: string; kind?: string; message: string };
}

export class RuntimeDriver {
  readonly child: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, (a: DriverAnswer) => void>();

  constructor(netns: string, options: RuntimeOptions) {
    // nsenter --net, not `ip netns exec`: the namespaces the runtime creates must be visible to all,
    // so it must share the machine's mount namespace (as the kubelet does on a vpcsim node).
    this.child = spawn("nsenter", [`--net=/run/netns/${netns}`, "--", process.execPath, join(import.meta.dirname, "runtime-driver.test-support.ts"), JSON.stringify(options)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const a = JSON.parse(line) as DriverAnswer & { id: number };
      this.#waiting.get(a.id)?.(a);
      this.#waiting.delete(a.id);
    });
    this.child.on("exit", () => {
      for (const resolve of this.#waiting.values()) resolve({ ok: false, error: { name: "DriverExited", message: "the runtime driver exited" } });
      this.#waiting.clear();
    });
  }

  call(method: string, ...args: unknown[]): Promise<DriverAnswer> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.stdin!.write(JSON.stringify({ id, method, args }) + "\n");
    });
  }

  async ok<T = any>(method: string, ...args: unknown[]): Promise<T> {
    const a = await this.call(method, ...args);
    if (!a.ok) throw new Error(`${method}: ${a.error!.kind ?? a.error!.name}: ${a.error!.message}`);
    return a.value as T;
  }

  /** kill -9, as a crashed kubelet. */
  crash(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGKILL");
    });
  }

  stop(): void {
    this.child.stdin!.end();
  }
}
