// CNI spec versions as libcni reads them: a missing version is 0.1.0, and comparisons fail on
// anything that is not MAJOR[.MINOR[.PATCH]] of integers.

/** The newest spec version libcni implements (libcni 1.2: version.Current()). */
export const LIBCNI_CURRENT = "1.1.0";

export function parseCniVersion(version: string): [number, number, number] {
  if (version === "") return [0, 1, 0];
  const parts = version.split(".");
  if (parts.length >= 4) throw new Error(`invalid version "${version}": too many parts`);
  const out: [number, number, number] = [0, 0, 0];
  for (const [i, part] of parts.entries()) {
    if (!/^[+-]?\d+$/.test(part)) throw new Error(`failed to convert ${["major", "minor", "micro"][i]} version part "${part}": strconv.Atoi: parsing "${part}": invalid syntax`);
    out[i] = Number(part);
  }
  return out;
}

export function compareCniVersions(a: string, b: string): number {
  const pa = parseCniVersion(a);
  const pb = parseCniVersion(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

export function versionAtLeast(version: string, min: string): boolean {
  return compareCniVersions(version, min) >= 0;
}
