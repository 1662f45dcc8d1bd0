import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckpointData } from "./checkpoint-format.ts";
import { CHECKPOINT_VERSION, CheckpointFormatError, encodeCheckpoint } from "./checkpoint-format.ts";
import type { CheckpointFs } from "./checkpoint.ts";
import { CheckpointFile } from "./checkpoint.ts";

const realFs: CheckpointFs = {
  openSync: (p, flags, mode) => fs.openSync(p, flags, mode),
  writeSync: (fd, b, o, l) => fs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
  readFileSync: (p) => fs.readFileSync(p),
};

const data = (n: number): CheckpointData => ({
  version: CHECKPOINT_VERSION,
  allocations: Array.from({ length: n }, (_, i) => ({
    networkName: "aws-cni",
    containerID: `c${i}`,
    ifName: "eth0",
    ipv4: `10.0.0.${i + 1}`,
    allocationTimestamp: 1718023456789012345n + BigInt(i),
    metadata: { k8sPodNamespace: "default", k8sPodName: `p${i}`, interfacesCount: 1 },
  })),
});

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-checkpoint-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("write then read round trips; the file is mode 0600 and no temp file is left", () => {
  withDir((dir) => {
    const file = new CheckpointFile(join(dir, "ipam.json"));
    assert.equal(file.read(), undefined, "a missing file is a fresh node");
    file.write(data(3));
    assert.deepEqual(file.read(), data(3));
    assert.equal(readFileSync(file.path, "utf8"), encodeCheckpoint(data(3)));
    assert.equal(statSync(file.path).mode & 0o777, 0o600);
    file.write(data(1));
    assert.deepEqual(file.read(), data(1));
    assert.deepEqual(readdirSync(dir), ["ipam.json"]);
  });
});

test("a corrupt or truncated file is a clear error naming the file", () => {
  withDir((dir) => {
    const path = join(dir, "ipam.json");
    const good = encodeCheckpoint(data(2));
    writeFileSync(path, good.slice(0, good.length - 20));
    assert.throws(
      () => new CheckpointFile(path).read(),
      (err: unknown) => err instanceof CheckpointFormatError && err.message.includes(path) && /truncated or corrupt/.test(err.message),
    );
  });
});

// Fails the n-th call of one operation, counting only operations on the temp file or the directory.
function failingFs(step: "open" | "write" | "fsync" | "close" | "rename", code = "EIO"): CheckpointFs {
  const fail = (): never => {
    throw Object.assign(new Error(`injected ${step} failure`), { code });
  };
  return {
    ...realFs,
    openSync: (p, flags, mode) => (step === "open" ? fail() : realFs.openSync(p, flags, mode)),
    writeSync: (fd, b, o, l) => {
      if (step !== "write") return realFs.writeSync(fd, b, o, l);
      // Half the bytes reach the temp file before the device gives up.
      realFs.writeSync(fd, b, o, Math.floor(l / 2));
      return fail();
    },
    fsyncSync: (fd) => (step === "fsync" ? fail() : realFs.fsyncSync(fd)),
    closeSync: (fd) => {
      realFs.closeSync(fd);
      if (step === "close") fail();
    },
    renameSync: (a, b) => (step === "rename" ? fail() : realFs.renameSync(a, b)),
  };
}

test("a failed write never replaces the good file and leaves no temp file", () => {
  for (const step of ["open", "write", "fsync", "close", "rename"] as const) {
    withDir((dir) => {
      const path = join(dir, "ipam.json");
      new CheckpointFile(path).write(data(2));
      const good = readFileSync(path, "utf8");
      assert.throws(() => new CheckpointFile(path, failingFs(step)).write(data(5)), /injected/, step);
      assert.equal(readFileSync(path, "utf8"), good, step);
      assert.deepEqual(readdirSync(dir), ["ipam.json"], step);
    });
  }
});

test("short writes are completed", () => {
  withDir((dir) => {
    const trickle: CheckpointFs = { ...realFs, writeSync: (fd, b, o, l) => realFs.writeSync(fd, b, o, Math.min(l, 7)) };
    const file = new CheckpointFile(join(dir, "ipam.json"), trickle);
    file.write(data(4));
    assert.deepEqual(file.read(), data(4));
  });
});

test("the directory is fsynced after the rename; unsupported is tolerated, an I/O error is not", () => {
  withDir((dir) => {
    const path = join(dir, "ipam.json");
    const synced: string[] = [];
    const opened = new Map<number, string>();
    const tracking: CheckpointFs = {
      ...realFs,
      openSync: (p, flags, mode) => {
        const fd = realFs.openSync(p, flags, mode);
        opened.set(fd, p);
        return fd;
      },
      fsyncSync: (fd) => {
        synced.push(opened.get(fd) ?? "?");
        realFs.fsyncSync(fd);
      },
    };
    new CheckpointFile(path, tracking).write(data(1));
    assert.equal(synced.length, 2);
    assert.match(synced[0] ?? "", /ipam\.json\.tmp[0-9a-f]+$/, "the temp file first");
    assert.equal(synced[1], dir, "then the directory");

    const dirSyncFails = (code: string): CheckpointFs => ({
      ...realFs,
      openSync: (p, flags, mode) => {
        const fd = realFs.openSync(p, flags, mode);
        opened.set(fd, p);
        return fd;
      },
      fsyncSync: (fd) => {
        if (opened.get(fd) === dir) throw Object.assign(new Error(code), { code });
        realFs.fsyncSync(fd);
      },
    });
    new CheckpointFile(path, dirSyncFails("EINVAL")).write(data(2));
    assert.deepEqual(new CheckpointFile(path).read(), data(2));
    assert.throws(() => new CheckpointFile(path, dirSyncFails("EIO")).write(data(3)), /directory sync failed/);
  });
});

test("a missing directory fails the write with the OS error", () => {
  withDir((dir) => {
    const file = new CheckpointFile(join(dir, "gone", "ipam.json"));
    assert.throws(() => file.write(data(1)), (err: unknown) => (err as { code?: string }).code === "ENOENT");
  });
});
