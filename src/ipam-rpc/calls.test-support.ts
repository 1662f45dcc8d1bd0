// Example calls for tests of either side of the protocol: valid requests as a plugin sends them, and a
// temporary directory for the sockets.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function tempDir(): Promise<{ readonly dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "vpccni-rpc-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export const VALID_ALLOCATE = {
  protocolVersion: 1,
  clientVersion: "v0.1.0",
  podNamespace: "default",
  podName: "web-0",
  podUid: "6f1b2c3d-0000-4000-8000-0123456789ab",
  infraContainerId: "3f1e0d6c8b7a",
  containerId: "3f1e0d6c8b7a",
  ifName: "eth0",
  networkName: "aws-cni",
  netns: "/var/run/netns/cni-1234",
} as const;

export const VALID_RELEASE = { ...VALID_ALLOCATE, netns: "", reason: "PodDeleted" } as const;
