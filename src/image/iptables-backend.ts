// Which iptables the agent's image uses: the one the node already uses. A node's kube-proxy and
// kubelet write their rules either through the kernel's legacy xtables or through nftables; rules of
// the other backend still apply but the two views of the tables drift apart, so the agent must join
// the node's. The image ships both (Debian's xtables-legacy-multi and xtables-nft-multi) and picks as
// Kubernetes' iptables-wrapper does: the kubelet's marker chains first (KUBE-IPTABLES-HINT,
// KUBE-KUBELET-CANARY in the mangle table), else the backend holding more rules, else nft (what
// current distributions, EKS's AL2023 among them, use).

import { spawnSync } from "node:child_process";

export type IptablesBackend = "nft" | "legacy";

const MARKERS = [":KUBE-IPTABLES-HINT", ":KUBE-KUBELET-CANARY"];

export interface SavedRules {
  /** iptables-save of the mangle table; "" when it could not be read. */
  readonly mangle: string;
  /** iptables-save of every table; "" when it could not be read. */
  readonly all: string;
}

function ruleCount(save: string): number {
  return save.split("\n").filter((line) => line.startsWith("-")).length;
}

function hasMarker(mangle: string): boolean {
  return mangle.split("\n").some((line) => MARKERS.some((m) => line.startsWith(m)));
}

export function chooseBackend(saved: Readonly<Record<IptablesBackend, SavedRules>>): { backend: IptablesBackend; why: string } {
  const nftMarked = hasMarker(saved.nft.mangle);
  const legacyMarked = hasMarker(saved.legacy.mangle);
  if (nftMarked !== legacyMarked) return { backend: nftMarked ? "nft" : "legacy", why: `the kubelet's marker chain is in the ${nftMarked ? "nft" : "legacy"} tables` };
  const nft = ruleCount(saved.nft.all);
  const legacy = ruleCount(saved.legacy.all);
  if (legacy > nft) return { backend: "legacy", why: `the legacy tables hold more rules (${legacy} against ${nft})` };
  return { backend: "nft", why: nft > 0 ? `the nft tables hold as many rules or more (${nft} against ${legacy})` : "no rules in either backend: nft, the distributions' default" };
}

/** Reads both backends' rules through `multi` binaries (xtables-<backend>-multi). */
export function readSavedRules(multi: Readonly<Record<IptablesBackend, string>>): Record<IptablesBackend, SavedRules> {
  const save = (binary: string, table?: string): string => {
    const r = spawnSync(binary, ["iptables-save", ...(table ? ["-t", table] : [])], { encoding: "utf8", timeout: 10_000 });
    return r.status === 0 ? r.stdout : "";
  };
  return {
    nft: { mangle: save(multi.nft, "mangle"), all: save(multi.nft) },
    legacy: { mangle: save(multi.legacy, "mangle"), all: save(multi.legacy) },
  };
}
