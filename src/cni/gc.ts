// GC (SPEC 1.1.0): the runtime lists the attachments that are still valid in
// `cni.dev/valid-attachments`; the plugin releases everything else it holds for this network.
// An absent list means no attachment is valid. libcni also sends the same list as
// `cni.dev/attachments` (a spelling from an earlier draft, containernetworking/cni#1101), which we
// read only when the spec's key is absent.

import { CniError, ErrorCode } from "./errors.ts";
import { isObject, typeName } from "./result.ts";

export type Attachment = { containerID: string; ifname: string };

export const VALID_ATTACHMENTS_KEY = "cni.dev/valid-attachments";
const LEGACY_KEY = "cni.dev/attachments";

function invalid(msg: string): never {
  throw new CniError(ErrorCode.InvalidNetworkConfig, msg);
}

/** The valid attachments in a GC config; [] when absent. Wrong shapes are code 7. */
export function parseValidAttachments(raw: Record<string, unknown>): Attachment[] {
  const key = raw[VALID_ATTACHMENTS_KEY] !== undefined ? VALID_ATTACHMENTS_KEY : LEGACY_KEY;
  const list = raw[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) invalid(`${key} must be an array, got ${typeName(list)}`);
  return list.map((entry: unknown, i): Attachment => {
    const where = `${key}[${i}]`;
    if (!isObject(entry)) invalid(`${where} must be an object, got ${typeName(entry)}`);
    const containerID = entry["containerID"];
    if (typeof containerID !== "string" || containerID === "") invalid(`${where}.containerID must be a non-empty string`);
    const ifname = entry["ifname"] ?? "";
    if (typeof ifname !== "string") invalid(`${where}.ifname must be a string, got ${typeName(ifname)}`);
    return { containerID, ifname };
  });
}

/** A membership test for (containerID, ifname) pairs, for plugins sweeping their own records. */
export function attachmentSet(attachments: readonly Attachment[]): (containerID: string, ifname: string) => boolean {
  const keys = new Set(attachments.map((a) => `${a.containerID}\u0000${a.ifname}`));
  return (containerID, ifname) => keys.has(`${containerID}\u0000${ifname}`);
}
