// How a pod's wiring fails: the step that failed (also what the message starts with), what a
// rollback could not undo, and the two failures a caller treats apart: an address another pod holds,
// and a namespace that is not there.

/** Which part of the wiring failed; also what the error message starts with. */
export type PodNetworkStep =
  | "netns"
  | "host-links"
  | "stale-link"
  | "veth"
  | "pod-link-up"
  | "pod-gateway-route"
  | "pod-default-route"
  | "pod-address"
  | "pod-neighbour"
  | "host-sysctl"
  | "host-link-up"
  | "host-route"
  | "to-rule"
  | "from-rule"
  | "teardown"
  | "check";

/** One line of an `ip -batch` and the step its refusal is reported as. */
export interface StepLine {
  step: PodNetworkStep;
  line: string;
}

/** An ADD/DEL/CHECK that failed at `step`; an ADD has already undone what it did (see rollbackErrors). */
export class PodNetworkError extends Error {
  readonly step: PodNetworkStep;
  /** Rollback actions that failed as well: then something may be left behind, and this says what. */
  readonly rollbackErrors: readonly unknown[];

  constructor(step: PodNetworkStep, message: string, cause: unknown, rollbackErrors: readonly unknown[] = []) {
    let text = `${step}: ${message}`;
    if (rollbackErrors.length > 0) {
      text += `; rollback incomplete: ${rollbackErrors.map((error) => (error instanceof Error ? error.message : String(error))).join("; ")}`;
    }
    super(text, { cause });
    this.name = "PodNetworkError";
    this.step = step;
    this.rollbackErrors = rollbackErrors;
  }
}

/** The address is already routed to another device on the host: another pod has it. */
export class PodAddressInUseError extends PodNetworkError {
  readonly address: string;
  /** The device the existing route points to, when it could be read. */
  readonly holder: string | undefined;

  constructor(address: string, holder: string | undefined, cause: unknown, rollbackErrors: readonly unknown[] = []) {
    super("host-route", `${address} is already routed on the host${holder === undefined ? "" : ` to ${holder}`} (another pod has it)`, cause, rollbackErrors);
    this.name = "PodAddressInUseError";
    this.address = address;
    this.holder = holder;
  }
}

/** CNI_NETNS names nothing: the runtime's problem, not an internal failure. */
export class NetnsNotFoundError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`network namespace ${path} does not exist`);
    this.name = "NetnsNotFoundError";
    this.path = path;
  }
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
