// CNI spec versions: which ones this library speaks, how they compare, and the VERSION answer.
// 0.3.0 and 0.3.1 share 0.4.0's config and result shapes (0.4.0 only added CHECK and prevResult on
// DEL), so they are accepted and answered in their own label; 0.1.0/0.2.0 had a different result
// shape (ip4/ip6) and are not supported.

import { CniError, ErrorCode } from "./errors.ts";

/** Every version this library can read and write, oldest first. */
export const SUPPORTED_VERSIONS: readonly string[] = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

/** The newest version: the label used when the request gives none we can trust. */
export const LATEST_VERSION = "1.1.0";

/** Versions whose results carry `ips[].version` (the pre-1.0 shape). */
export function isPre1(version: string): boolean {
  return compareVersions(version, "1.0.0") < 0;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** [major, minor, patch], or null when the string is not a plain MAJOR.MINOR.PATCH. */
export function parseVersion(version: string): [number, number, number] | null {
  const m = SEMVER.exec(version);
  if (m === null) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative, zero or positive as a < b, a = b, a > b. Throws code 6 on a non-semver string (libcni does the same). */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (pa === null || pb === null) {
    throw new CniError(ErrorCode.DecodingFailure, `invalid CNI version ${JSON.stringify(pa === null ? a : b)}`);
  }
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] as number) - (pb[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

export function versionAtLeast(version: string, min: string): boolean {
  return compareVersions(version, min) >= 0;
}

/** Code 1 unless `version` is in `supported`. */
export function requireSupported(version: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  if (!supported.includes(version)) {
    throw new CniError(
      ErrorCode.IncompatibleVersion,
      "incompatible CNI versions",
      `config is ${JSON.stringify(version)}, plugin supports [${supported.join(", ")}]`,
    );
  }
}

/**
 * Version negotiation for a 1.1.0 conflist with `cniVersions`: the highest version both sides
 * support, or null when there is none (SPEC 1.1.0: the runtime must pick the highest common one).
 */
export function highestCommonVersion(offered: readonly string[], supported: readonly string[]): string | null {
  let best: string | null = null;
  for (const v of offered) {
    if (parseVersion(v) === null || !supported.includes(v)) continue;
    if (best === null || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

export type VersionAnswer = { cniVersion: string; supportedVersions: string[] };

/**
 * The VERSION result. SPEC 1.0.0 §5 says `cniVersion` is the value given on input; when the input
 * gives none (or garbage) we label it with our latest version, as libcni's PluginInfo does.
 */
export function versionAnswer(inputVersion: unknown, supported: readonly string[] = SUPPORTED_VERSIONS): VersionAnswer {
  const cniVersion = typeof inputVersion === "string" && parseVersion(inputVersion) !== null ? inputVersion : latestOf(supported);
  return { cniVersion, supportedVersions: [...supported] };
}

function latestOf(supported: readonly string[]): string {
  let best = LATEST_VERSION;
  let found = false;
  for (const v of supported) {
    if (parseVersion(v) === null) continue;
    if (!found || compareVersions(v, best) > 0) best = v;
    found = true;
  }
  return best;
}
