// The image's root filesystem (what deploy/image/Containerfile copies FROM scratch), checked by
// running its entry points in it. In CI by chroot (seconds); with VPC_CNI_IMAGE_TEST=1 also built
// with podman and run as containers (minutes: node scripts/build-image.ts --test does the same).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assembleRootfs, buildImage, chrootExec, imageChecks, podmanExec, privatePodman, IMAGE } from "../scripts/build-image.ts";

const root = process.getuid?.() === 0;

test("the image's root filesystem runs the agent, the init container, the plugin and the network tools", { skip: root ? false : "needs root (chroot and network namespaces)" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-image-"));
  try {
    const rootfs = join(dir, "rootfs");
    assembleRootfs(rootfs);
    for (const f of ["usr/local/bin/node", "app/vpc-cni-agent", "app/vpc-cni-init", "app/dist/vpc-cni", "app/dist/egress-cni", "app/data/instance-types.tsv", "usr/lib/cni/portmap", "usr/lib/cni/bandwidth", "usr/lib/cni/tuning", "app/dist/agent/vpc-cni-agent-image.mjs", "app/dist/agent/vpc-cni-init.mjs"]) {
      assert.ok(existsSync(join(rootfs, f)), f);
    }
    assert.ok(!existsSync(join(rootfs, "app/src")), "no sources: the agent runs from its bundle");
    assert.ok(!existsSync(join(rootfs, "app/node_modules")), "no node_modules: the bundle holds what the agent imports");
    const results = imageChecks(chrootExec(rootfs));
    assert.ok(results.length >= 10, results.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const podmanWanted = process.env["VPC_CNI_IMAGE_TEST"] === "1";
test("podman builds the image offline and runs its entry points", { skip: !podmanWanted ? "opt-in (minutes): VPC_CNI_IMAGE_TEST=1" : !root ? "needs root" : spawnSync("podman", ["--version"]).status !== 0 ? "podman is not installed" : false }, () => {
  const podman = privatePodman();
  try {
    const rootfs = join(podman.dir, "context", "rootfs");
    assembleRootfs(rootfs);
    buildImage(podman, rootfs);
    assert.ok(imageChecks(podmanExec(podman)).length >= 10);
  } finally {
    podman.run(["rmi", "--force", IMAGE], { allowFailure: true });
    podman.run(["system", "reset", "--force"], { allowFailure: true });
    rmSync(podman.dir, { recursive: true, force: true });
  }
});
