// Test harness for end-to-end tests: brings a vpcsim run up through the real CLI, runs commands and
// SDK programs inside its instances, and takes it down. Each run has its own random name, so its
// namespaces (`vs-<name>-...`) cannot collide with anything else.

import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import type { RunStatus } from "../src/sim/status.ts";

const execFileP = promisify(execFile);
export const ROOT = join(import.meta.dirname, "..");
export const VPCSIM = join(ROOT, "bin", "vpcsim");

/** Why these tests cannot run here, or undefined when they can. */
export function datapathUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces): run the tests as root";
  return undefined;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    // The output is complete at "close" (stdout and stderr drained), which can come after "exit": a
    // result read at "exit" may miss what the child wrote last (seen under load). A child that leaves
    // a daemon holding its pipes never closes them, so "exit" still ends the wait, a moment later.
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let done = false;
    const finish = () => {
      if (done || exited === undefined) return;
      done = true;
      clearTimeout(timer);
      resolve({ code: exited.code ?? (exited.signal ? 128 : 1), stdout, stderr });
    };
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      setTimeout(finish, 500).unref();
    });
    child.on("close", (code, signal) => {
      exited ??= { code, signal };
      finish();
    });
    // A command that exits before reading its input must not fail the caller with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

export class SimRun {
  readonly name: string;
  private shells: SdkShell[] = [];

  private constructor(name: string) {
    this.name = name;
  }

  static async up(args: string[] = []): Promise<SimRun> {
    const run = new SimRun(`t${randomBytes(4).toString("hex")}`);
    const result = await run.vpcsim(["up", "--run", run.name, "--json", ...args]);
    if (result.code !== 0) {
      await run.vpcsim(["down", "--run", run.name]);
      throw new Error(`vpcsim up failed (${result.code}): ${result.stderr}`);
    }
    return run;
  }

  vpcsim(args: string[], input?: string): Promise<CommandResult> {
    return runCommand(VPCSIM, args, { input });
  }

  async status(): Promise<RunStatus> {
    const r = await this.vpcsim(["status", "--run", this.name, "--json"]);
    if (r.code !== 0) throw new Error(`vpcsim status failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as RunStatus;
  }

  async instance(name: string) {
    const s = await this.status();
    const found = s.instances.find((i) => i.name === name);
    if (!found) throw new Error(`no instance ${name}`);
    return found;
  }

  /** Runs a command inside an instance's network namespace. */
  exec(instance: string, command: string[]): Promise<CommandResult> {
    return this.vpcsim(["exec", "--run", this.name, instance, "--", ...command]);
  }

  /** Runs `ip ...` inside the instance's namespace, failing loudly. */
  async ip(netns: string, args: string[]): Promise<string> {
    const { stdout } = await execFileP("ip", ["-n", netns, ...args]);
    return stdout;
  }

  /** An SDK program inside the instance, driven by JSON lines (test/fixtures/sdk-shell.ts). */
  sdk(instance: string): SdkShell {
    const child = spawn(VPCSIM, ["exec", "--run", this.name, instance, "--", process.execPath, join(ROOT, "test/fixtures/sdk-shell.ts")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const shell = new SdkShell(child);
    this.shells.push(shell);
    return shell;
  }

  async down(): Promise<void> {
    for (const s of this.shells) s.close();
    const r = await this.vpcsim(["down", "--run", this.name]);
    if (r.code !== 0) throw new Error(`vpcsim down failed: ${r.stderr}`);
  }
}

export interface SdkAnswer {
  ok: boolean;
  output?: any;
  error?: { name: string; code?: string; message: string; status?: number; requestId?: string; attempts?: number };
}

export class SdkShell {
  private readonly child: ReturnType<typeof spawn>;
  private nextId = 1;
  private readonly waiting = new Map<number, (a: SdkAnswer) => void>();
  private stderr = "";

  constructor(child: ReturnType<typeof spawn>) {
    this.child = child;
    child.stderr!.on("data", (c: Buffer) => (this.stderr += c));
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const answer = JSON.parse(line) as SdkAnswer & { id: number };
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
    child.on("exit", () => {
      for (const [, resolve] of this.waiting) resolve({ ok: false, error: { name: "ShellExited", message: this.stderr } });
      this.waiting.clear();
    });
  }

  private request(body: Record<string, unknown>): Promise<SdkAnswer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin!.write(JSON.stringify({ id, ...body }) + "\n");
    });
  }

  /** An EC2 call; resolves with the answer whether it succeeded or not. */
  call(action: string, input: Record<string, unknown> = {}, maxAttempts?: number): Promise<SdkAnswer> {
    return this.request({ ec2: action, input, maxAttempts });
  }

  /** An EC2 call that must succeed; returns its output. */
  async ok(action: string, input: Record<string, unknown> = {}): Promise<any> {
    const a = await this.call(action, input);
    if (!a.ok) throw new Error(`${action} failed: ${a.error?.name}: ${a.error?.message}`);
    return a.output;
  }

  paginate(action: string, input: Record<string, unknown>): Promise<SdkAnswer> {
    return this.request({ paginate: action, input });
  }

  imds(path: string): Promise<SdkAnswer> {
    return this.request({ imds: path });
  }

  credentials(): Promise<SdkAnswer> {
    return this.request({ credentials: true });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/** Polls until probe gives a value; bounded, so a test that waits for something that never comes fails. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
