// Puts executables into the node's CNI bin dir the way a runtime can bear: each copied beside its
// target and renamed over it, so a runtime never execs half a file, and a plugin process already
// running keeps the inode it started from.

import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export function installExecutable(source: string, dir: string, name: string): string {
  if (!existsSync(source)) throw new Error(`${source} does not exist`);
  if (!statSync(source).isFile()) throw new Error(`${source} is not a file`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, name);
  const staging = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    copyFileSync(source, staging);
    chmodSync(staging, 0o755);
    renameSync(staging, target);
  } finally {
    rmSync(staging, { force: true });
  }
  return target;
}
