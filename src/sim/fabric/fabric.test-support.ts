// Test support for the fabric's tests in real network namespaces (root only): a prefix per test
// run, commands inside a namespace, and clients that tell whether traffic got through (ping, a TCP
// read, an HTTP GET). Only tests import it; nothing ships it.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { CommandError, run } from "./exec.ts";

/** Why the fabric tests cannot run here, if they cannot. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (creates network namespaces)";
  for (const tool of [["ip", "-V"], ["nft", "--version"], ["nsenter", "--version"], ["sysctl", "--version"], ["ping", "-V"]] as const) {
    const result = spawnSync(tool[0], [tool[1]], { stdio: "ignore" });
    if (result.error !== undefined) return `needs \`${tool[0]}\` on PATH${tool[0] === "ping" ? " (apt-get install iputils-ping)" : ""}`;
  }
  return undefined;
}

/** A run prefix of the fabric tests' own ("vs-t" and 6 hex digits: never a vpcsim run's). */
export const newPrefix = (): string => `vs-t${randomBytes(3).toString("hex")}-`;

export function inNetns(fabricNetnsPath: string, args: string[]): Promise<{ stdout: string }> {
  return run("nsenter", [`--net=${fabricNetnsPath}`, ...args], { timeoutMs: 10_000 });
}

/** One echo request; true if answered. `timeout` in seconds (ping takes fractions). */
export async function pings(netnsPath: string, destination: string, options: { source?: string; timeout?: string } = {}): Promise<boolean> {
  const args = ["ping", "-n", "-q", "-c1", "-W", options.timeout ?? "1"];
  if (options.source !== undefined) args.push("-I", options.source);
  try {
    await inNetns(netnsPath, [...args, destination]);
    return true;
  } catch (error) {
    if (error instanceof CommandError && error.exitCode === 1) return false;
    throw error;
  }
}

/** Connects to host:port from inside a namespace and returns what the server wrote, or undefined on failure. */
export async function tcpRead(netnsPath: string, host: string, port: number, timeoutMs = 1500): Promise<string | undefined> {
  const client = `
    const socket = require("node:net").connect({ host: ${JSON.stringify(host)}, port: ${port} });
    let data = "";
    socket.setTimeout(${timeoutMs}, () => process.exit(3));
    socket.on("data", (chunk) => (data += chunk));
    socket.on("end", () => { process.stdout.write(data); process.exit(0); });
    socket.on("error", () => process.exit(4));`;
  try {
    const { stdout } = await inNetns(netnsPath, [process.execPath, "-e", client]);
    return stdout.trim();
  } catch (error) {
    if (error instanceof CommandError && (error.exitCode === 3 || error.exitCode === 4)) return undefined;
    throw error;
  }
}

export async function httpGet(netnsPath: string, url: string): Promise<string> {
  const client = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t));`;
  const { stdout } = await inNetns(netnsPath, [process.execPath, "-e", client]);
  return stdout.trim();
}

export async function rootLinks(): Promise<string[]> {
  const { stdout } = await run("ip", ["-o", "link", "show"]);
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.split(":")[1]!.trim())
    .sort();
}

/**
 * Starts the echo server (TCP 7 answers the peer's address) inside an instance, as a stray process
 * the fabric did not start; `listenOn` "::" serves IPv6 (and IPv4) clients. It exits when this
 * process does (its stdin closes).
 */
export function startEchoIn(netnsPath: string, listenOn = "0.0.0.0"): Promise<number> {
  const script = fileURLToPath(new URL("./echo-server.ts", import.meta.url));
  return startStray(netnsPath, [script, listenOn], "echo server", "pipe");
}

/** Runs `node ARGS` inside a namespace until it prints "ready"; resolves with its PID. */
async function startStray(netnsPath: string, args: string[], what: string, stdin: "pipe" | "ignore"): Promise<number> {
  const child = spawn("nsenter", [`--net=${netnsPath}`, process.execPath, ...args], { stdio: [stdin, "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code}`)));
  });
  child.unref();
  return child.pid!;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a TCP server inside a namespace that answers every client with `text` and closes, as a
 * stray process; a client's read then tells which namespace a packet reached. Stop it by its PID.
 */
export function startTextServer(netnsPath: string, host: string, port: number, text: string): Promise<number> {
  const server = `require("node:net").createServer((s) => { s.on("error", () => {}); s.end(${JSON.stringify(text)}); })
    .listen(${port}, ${JSON.stringify(host)}, () => process.stdout.write("ready\\n"));`;
  return startStray(netnsPath, ["-e", server], "text server", "ignore");
}
