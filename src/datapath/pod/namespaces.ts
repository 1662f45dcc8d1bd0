// Where a pod's commands run: `ip` in the pod's namespace (by name when iproute2 knows it, else
// through nsenter), and `ip` on the host, which is the process's own namespace (tests: a named one).

import { realpathSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { resolveTool } from "../exec.ts";
import type { IpRunner } from "../ip-batch.ts";
import { DatapathInputError, validateNetnsName } from "../validate.ts";
import { NetnsNotFoundError } from "./errors.ts";

export function validateNetnsPath(value: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.length > 4096 || /[\0\n\r]/.test(value)) {
    throw new DatapathInputError(`invalid network namespace path ${JSON.stringify(value)}: an absolute path`);
  }
  return value;
}

export interface HostSide {
  runner: IpRunner;
  /** How `ip` inside the pod's namespace names the host namespace for `peer … netns`. */
  nsRef: string;
  /** Set in tests: the host is a named namespace. */
  netns: string | undefined;
}

export function hostSide(hostNetns: string | undefined): HostSide {
  if (hostNetns === undefined) {
    // Our own namespace, by a path that stays valid while we wait for the child.
    return { runner: { file: "ip", args: [] }, nsRef: `/proc/${process.pid}/ns/net`, netns: undefined };
  }
  const name = validateNetnsName(hostNetns);
  return { runner: { file: "ip", args: ["-n", name] }, nsRef: `/var/run/netns/${name}`, netns: name };
}

let iprouteNetnsDir: string | null | undefined;

/** Where `ip -n NAME` looks (/var/run/netns), resolved once: /run/netns/NAME is the same file only if /var/run is /run. */
function iprouteNetnsDirReal(): string | null {
  if (iprouteNetnsDir === undefined) {
    try {
      iprouteNetnsDir = realpathSync("/var/run/netns");
    } catch {
      iprouteNetnsDir = null;
    }
  }
  return iprouteNetnsDir;
}

/**
 * `ip -n NAME` for iproute2's own namespace files (what containerd and podman use): measured 0.6 ms
 * cheaper than `nsenter --net=PATH ip`, which serves every other path (/proc/PID/ns/net, …).
 */
export function podRunner(netnsPath: string): IpRunner {
  const match = /^(\/var\/run\/netns|\/run\/netns)\/([^/]+)$/.exec(netnsPath);
  const dir = match?.[1];
  const name = match?.[2];
  if (dir !== undefined && name !== undefined && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    if (dir === "/var/run/netns" || iprouteNetnsDirReal() === "/run/netns") return { file: "ip", args: ["-n", name] };
  }
  // nsenter looks `ip` up on PATH itself: hand it the resolved path (a runtime's PATH may lack sbin).
  return { file: "nsenter", args: [`--net=${netnsPath}`, resolveTool("ip")] };
}

const NSFS_MAGIC = 0x6e736673;
const PROC_SUPER_MAGIC = 0x9fa0;

/** Whether the path is a live namespace; throws NetnsNotFoundError when it names nothing. */
export async function assertNetns(netnsPath: string): Promise<void> {
  let type: number;
  try {
    type = (await statfs(netnsPath)).type;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new NetnsNotFoundError(netnsPath);
    throw error;
  }
  // A namespace file whose bind mount is gone is an empty file on tmpfs: not a namespace any more.
  if (type !== NSFS_MAGIC && type !== PROC_SUPER_MAGIC) {
    throw new DatapathInputError(`${netnsPath} is not a network namespace (filesystem type 0x${type.toString(16)})`);
  }
}
