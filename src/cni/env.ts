// The exec protocol's environment (SPEC §2 "Parameters"): which CNI_* variables each command needs
// and what a valid value looks like. Errors are code 4 and name the variables, as the spec requires.
//
// Requirements per command (SPEC 1.0.0 §2, 1.1.0 for STATUS/GC):
//   ADD, CHECK: CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME
//   DEL:        CNI_CONTAINERID, CNI_IFNAME (CNI_NETNS may be empty: containerd's second DEL sends none)
//   STATUS, GC: nothing about a container (they concern the network, not an attachment)
//   VERSION:    nothing at all (podman probes with CNI_CONTAINERID="" and CNI_NETNS=dummy)
// CNI_ARGS and CNI_PATH are optional everywhere. libcni's skel also insists on CNI_PATH, but the
// spec lists it as optional for ADD/DEL/CHECK and a plugin that delegates nothing has no use for it.
// As in libcni's skel, a variable is validated only for the commands that need it, so stray values
// on VERSION/STATUS/GC never fail a call.

import { CniError, ErrorCode } from "./errors.ts";

export const COMMANDS = ["ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION"] as const;
export type CniCommand = (typeof COMMANDS)[number];

export type CniEnv = {
  command: CniCommand;
  /** "" when the command does not need one. */
  containerId: string;
  /** "" when absent (always allowed on DEL). */
  netns: string;
  ifname: string;
  /** Raw CNI_ARGS; parse with parseCniArgs. */
  args: string;
  /** CNI_PATH split on ':' with empty entries dropped. */
  path: string[];
};

export type EnvSource = Readonly<Record<string, string | undefined>>;

type Need = { containerId: boolean; netns: boolean; ifname: boolean };

const NEEDS: Record<CniCommand, Need> = {
  ADD: { containerId: true, netns: true, ifname: true },
  CHECK: { containerId: true, netns: true, ifname: true },
  DEL: { containerId: true, netns: false, ifname: true },
  STATUS: { containerId: false, netns: false, ifname: false },
  GC: { containerId: false, netns: false, ifname: false },
  VERSION: { containerId: false, netns: false, ifname: false },
};

export function isCommand(value: string): value is CniCommand {
  return (COMMANDS as readonly string[]).includes(value);
}

/** Reads and validates the CNI_* variables for the command in CNI_COMMAND. Throws CniError code 4. */
export function parseEnv(env: EnvSource): CniEnv {
  const command = env["CNI_COMMAND"] ?? "";
  if (command === "") throw new CniError(ErrorCode.InvalidEnvironment, "required env variables [CNI_COMMAND] missing");
  if (!isCommand(command)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${command}`, `valid commands: ${COMMANDS.join(", ")}`);
  }
  const need = NEEDS[command];
  const containerId = need.containerId ? (env["CNI_CONTAINERID"] ?? "") : "";
  const netns = command === "VERSION" || command === "STATUS" || command === "GC" ? "" : (env["CNI_NETNS"] ?? "");
  const ifname = need.ifname ? (env["CNI_IFNAME"] ?? "") : "";

  const missing: string[] = [];
  if (need.containerId && containerId === "") missing.push("CNI_CONTAINERID");
  if (need.netns && netns === "") missing.push("CNI_NETNS");
  if (need.ifname && ifname === "") missing.push("CNI_IFNAME");
  if (missing.length > 0) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(",")}] missing`);
  }
  if (need.containerId) validateContainerId(containerId);
  if (need.ifname) validateIfname(ifname);

  const args = command === "VERSION" ? "" : (env["CNI_ARGS"] ?? "");
  const path = (env["CNI_PATH"] ?? "").split(":").filter((p) => p !== "");
  return { command, containerId, netns, ifname, args, path };
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$/;

/** SPEC §2: non-empty, starts alphanumeric, then alphanumerics, '_', '.', '-'. Code 4. */
export function validateContainerId(id: string): void {
  if (!CONTAINER_ID.test(id)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `invalid CNI_CONTAINERID ${JSON.stringify(id)}`,
      "must start with an alphanumeric character, followed by alphanumerics, '_', '.' or '-'",
    );
  }
}

/** Linux's IFNAMSIZ is 16 including the NUL. */
export const MAX_IFNAME_LENGTH = 15;

/** SPEC §2 and the kernel's dev_valid_name(): 1..15 bytes, not '.'/'..', no '/', ':' or whitespace. Code 4. */
export function validateIfname(name: string): void {
  const bad = (why: string): never => {
    throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_IFNAME ${JSON.stringify(name)}: ${why}`);
  };
  if (name === "") bad("empty");
  // The kernel counts bytes, so a multi-byte name can overflow IFNAMSIZ below 15 characters.
  if (Buffer.byteLength(name, "utf8") > MAX_IFNAME_LENGTH) bad(`longer than ${MAX_IFNAME_LENGTH} bytes`);
  if (name === "." || name === "..") bad("'.' and '..' are reserved");
  if (/[\/:\s]/u.test(name)) bad("contains '/', ':' or whitespace");
}
