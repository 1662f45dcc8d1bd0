// The checkpoint file (reference: /var/run/aws-node/ipam.json). Written so that
// a kill -9 at any instant leaves either the old or the new file, whole: a
// temp file in the same directory (named like the reference's
// `ipam.json.tmp*`), written and fsynced, renamed over the target, then the
// directory fsynced so the rename itself survives a power cut (the reference
// skips that last step). Synchronous on purpose: the datastore calls it
// between computing a change and applying it, and nothing may run in between.

import * as nodeFs from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import type { CheckpointData } from "./checkpoint-format.ts";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint-format.ts";

/** The file operations the checkpoint uses; tests inject failures through it. */
export interface CheckpointFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Buffer;
}

const defaultFs: CheckpointFs = {
  openSync: (path, flags, mode) => nodeFs.openSync(path, flags, mode),
  writeSync: (fd, buffer, offset, length) => nodeFs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  unlinkSync: (path) => nodeFs.unlinkSync(path),
  readFileSync: (path) => nodeFs.readFileSync(path),
};

const errorCode = (err: unknown): string | undefined =>
  typeof err === "object" && err !== null && "code" in err ? String((err as { code: unknown }).code) : undefined;

export class CheckpointFile {
  readonly path: string;
  readonly #fs: CheckpointFs;

  constructor(path: string, fs: CheckpointFs = defaultFs) {
    this.path = path;
    this.#fs = fs;
  }

  /**
   * The checkpoint, or undefined when there is no file (a fresh node). A file
   * that cannot be parsed is a CheckpointFormatError; the version is for the
   * caller to judge.
   */
  read(): CheckpointData | undefined {
    let bytes: Buffer;
    try {
      bytes = this.#fs.readFileSync(this.path);
    } catch (err) {
      if (errorCode(err) === "ENOENT") return undefined;
      throw err;
    }
    return decodeCheckpoint(bytes.toString("utf8"), this.path);
  }

  /** Replaces the file atomically; on any failure the previous file is left untouched. */
  write(data: CheckpointData): void {
    this.writeBytes(Buffer.from(encodeCheckpoint(data), "utf8"));
  }

  writeBytes(bytes: Uint8Array): void {
    const fs = this.#fs;
    const dir = dirname(this.path);
    const temp = join(dir, `${basename(this.path)}.tmp${randomBytes(6).toString("hex")}`);
    // 0600 like Go's os.CreateTemp, which is the mode aws-node's file ends up with.
    const fd = fs.openSync(temp, "wx", 0o600);
    let renamed = false;
    try {
      try {
        for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, this.path);
      renamed = true;
    } finally {
      if (!renamed) {
        try {
          fs.unlinkSync(temp);
        } catch {
          // Best effort: a leftover temp file never replaces the checkpoint.
        }
      }
    }
    this.#syncDirectory(dir);
  }

  #syncDirectory(dir: string): void {
    const fs = this.#fs;
    let fd: number;
    try {
      fd = fs.openSync(dir, "r");
    } catch (err) {
      throw new Error(`checkpoint ${this.path}: renamed into place but cannot open ${dir} to sync it`, { cause: err });
    }
    try {
      fs.fsyncSync(fd);
    } catch (err) {
      // Some filesystems cannot sync a directory at all; there is nothing more to do there.
      const code = errorCode(err);
      if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EISDIR") {
        throw new Error(`checkpoint ${this.path}: renamed into place but the directory sync failed`, { cause: err });
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
