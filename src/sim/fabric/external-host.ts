// The external hosts: "internet" namespaces behind the gateways, one IPv4-only (203.0.113.10,
// behind the internet gateway's 1:1 NAT) and one IPv6-only (2001:db8:ffff::10, behind the
// egress-only gateway), each running echo-server.ts, which answers every client with the source
// address it saw (how tests and operators check what the gateway did to their traffic). A server
// dies with its owner: it exits when its stdin closes.

import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { ipBatch, netnsPathOf, sysctlSet } from "./exec.ts";
import {
  EXTERNAL_GATEWAY_ADDRESS,
  EXTERNAL_HOST_ADDRESS,
  EXTERNAL_LINK,
  EXTERNAL_PREFIX_LENGTH,
  EXTERNAL6_GATEWAY_ADDRESS,
  EXTERNAL6_HOST_ADDRESS,
  EXTERNAL6_PREFIX_LENGTH,
} from "./addresses.ts";
import { IPV6_SYSCTLS, NO_IPV6_SYSCTLS } from "./kernel-settings.ts";

const START_TIMEOUT_MS = 15_000;

export type ExternalFamily = "ipv4" | "ipv6";

export class ExternalHost {
  readonly netns: string;
  readonly family: ExternalFamily;
  #echo: { child: ChildProcess; exited: Promise<void> } | undefined;

  constructor(prefix: string, family: ExternalFamily) {
    this.family = family;
    this.netns = family === "ipv4" ? `${prefix}ext` : `${prefix}ext6`;
  }

  async setSysctls(): Promise<void> {
    await sysctlSet(this.netns, this.family === "ipv4" ? NO_IPV6_SYSCTLS : IPV6_SYSCTLS);
  }

  /** Its address on the link the gateway made, and the default route through the gateway. */
  async buildLinks(): Promise<void> {
    const [address, prefixLength, gateway, anywhere] =
      this.family === "ipv4"
        ? [EXTERNAL_HOST_ADDRESS, EXTERNAL_PREFIX_LENGTH, EXTERNAL_GATEWAY_ADDRESS, "default"]
        : [EXTERNAL6_HOST_ADDRESS, EXTERNAL6_PREFIX_LENGTH, EXTERNAL6_GATEWAY_ADDRESS, "::/0"];
    await ipBatch(this.netns, [
      "link set lo up",
      `link set ${EXTERNAL_LINK} up`,
      `addr add ${address}/${prefixLength} dev ${EXTERNAL_LINK}${this.family === "ipv6" ? " nodad" : ""}`,
      `route add ${anywhere} via ${gateway} dev ${EXTERNAL_LINK}`,
    ]);
  }

  /** Starts the echo server; it needs only the namespace, so it may start while links are built. */
  async startEchoServer(): Promise<void> {
    const script = fileURLToPath(new URL("./echo-server.ts", import.meta.url));
    const listenOn = this.family === "ipv4" ? "0.0.0.0" : "::";
    const child = spawn("nsenter", [`--net=${netnsPathOf(this.netns)}`, process.execPath, script, listenOn], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.#echo = { child, exited };
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`echo server did not start within 15 s: ${stderr.trim()}`)), START_TIMEOUT_MS);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`echo server: ${error.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`echo server exited (${signal ?? `exit ${code}`}) before it was ready: ${stderr.trim()}`));
      });
    });
    // It must not keep its owner's event loop alive, and it dies with its owner (stdin closes).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
  }

  /** Stops the echo server and waits until it has really gone. Idempotent. */
  async stopEchoServer(): Promise<void> {
    const echo = this.#echo;
    if (echo === undefined) return;
    this.#echo = undefined;
    // Hold the event loop open until it has really gone.
    echo.child.ref();
    if (echo.child.exitCode === null && echo.child.signalCode === null) {
      echo.child.kill("SIGTERM");
      const timer = setTimeout(() => echo.child.kill("SIGKILL"), 2000);
      await echo.exited;
      clearTimeout(timer);
    }
    echo.child.stdin?.destroy();
  }
}
