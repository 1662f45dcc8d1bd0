// The image's /app/vpc-cni-agent: puts the iptables backend the node uses first on PATH (the agent
// runs iptables-save and iptables-restore from PATH), then runs the agent as bin/vpc-cni-agent would.

import { chooseBackend, readSavedRules } from "./iptables-backend.ts";

/** Where the image keeps one directory of iptables* links per backend (see scripts/build-image.ts). */
export const IPTABLES_BACKEND_DIRS = { nft: "/usr/local/lib/vpc-cni/iptables-nft", legacy: "/usr/local/lib/vpc-cni/iptables-legacy" } as const;
export const XTABLES_MULTI = { nft: "/usr/sbin/xtables-nft-multi", legacy: "/usr/sbin/xtables-legacy-multi" } as const;

export async function runAgentInImage(): Promise<void> {
  // Subcommands that touch no iptables (--help, status, max-pods) need no choice.
  const command = process.argv[2] ?? "run";
  if (command === "run") {
    const { backend, why } = chooseBackend(readSavedRules(XTABLES_MULTI));
    process.env["PATH"] = `${IPTABLES_BACKEND_DIRS[backend]}:${process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"}`;
    process.stderr.write(`vpc-cni-agent: iptables backend ${backend}: ${why}\n`);
  }
  await import("../agent/main.ts");
}

if (import.meta.main) await runAgentInImage();
