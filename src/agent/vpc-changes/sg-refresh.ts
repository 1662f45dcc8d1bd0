// RefreshSGIDs (reference §3.2): every 30 s, the security groups the node's managed secondary ENIs
// should carry, applied with ModifyNetworkInterfaceAttribute(Groups) to each ENI that differs.
//   primary    (no discovery, no custom networking) the primary ENI's groups, re-read from instance
//              metadata, on every ENI, as the reference does.
//   discovery, tags  ENIs that carried the primary ENI's previous groups follow a change of them;
//              ENIs placed with the groups tagged for pods keep theirs.
//   eniconfig  the node's ENIConfig's groups (the primary ENI's when it lists none), so a changed
//              ENIConfig reaches the ENIs already made from it (the reference leaves them as they were).
// Nothing is changed while the wanted groups are unknown (the ENIConfig missing, metadata silent).

import type { Log } from "../../log/log.ts";
import type { Scheduler, Timer } from "../../time/scheduler.ts";
import type { PlacementMode } from "../placement/eni-placement.ts";

export const SG_REFRESH_INTERVAL_MS = 30_000;

export interface ManagedEniGroups {
  readonly id: string;
  readonly groups: readonly string[];
}

export interface SgRefreshOptions {
  readonly scheduler: Scheduler;
  readonly mode: PlacementMode;
  /** The primary ENI's groups as instance metadata shows them now. */
  readonly primaryGroups: () => Promise<string[]>;
  /** The node's ENIConfig's groups ([] = none listed); undefined while it is unknown or missing. */
  readonly eniConfigGroups?: () => readonly string[] | undefined;
  /** The managed secondary ENIs (not the primary, not trunks) with the groups they carry now. */
  readonly enis: () => Promise<ManagedEniGroups[]>;
  readonly modify: (eniId: string, groups: readonly string[]) => Promise<void>;
  readonly log: Log;
  readonly intervalMs?: number;
}

export interface SgRefresh {
  /** One pass now: the ENIs whose groups were changed. */
  refresh(): Promise<string[]>;
  stop(): void;
}

export function startSgRefresh(o: SgRefreshOptions): SgRefresh {
  let previousPrimary: string[] | undefined;
  let running: Promise<string[]> | undefined;
  let stopped = false;

  /** What each ENI should carry, or undefined to leave it. */
  const wantedFor = (eni: ManagedEniGroups, primaryNow: string[], primaryBefore: string[] | undefined): string[] | undefined => {
    switch (o.mode) {
      case "primary":
        return primaryNow;
      case "eniconfig": {
        const configured = o.eniConfigGroups?.();
        if (configured === undefined) return undefined;
        return configured.length > 0 ? [...configured] : primaryNow;
      }
      case "discovery":
      case "tags":
        return primaryBefore !== undefined && !sameSet(primaryBefore, primaryNow) && sameSet(eni.groups, primaryBefore) ? primaryNow : undefined;
    }
  };

  const pass = async (): Promise<string[]> => {
    if (stopped) return [];
    const primaryNow = await o.primaryGroups();
    if (primaryNow.length === 0) return []; // metadata's hiccup: an ENI always has a group
    const before = previousPrimary;
    const changed: string[] = [];
    for (const eni of await o.enis()) {
      const wanted = wantedFor(eni, primaryNow, before);
      if (wanted === undefined || sameSet(wanted, eni.groups)) continue;
      if (stopped) break;
      await o.modify(eni.id, [...wanted].sort());
      changed.push(eni.id);
      o.log("info", `security groups of ${eni.id}: ${[...eni.groups].sort().join(",")} → ${[...wanted].sort().join(",")}`);
    }
    previousPrimary = primaryNow;
    return changed;
  };
  const refresh = (): Promise<string[]> => {
    running ??= pass()
      .catch((err: Error) => {
        o.log("warn", `security-group refresh failed: ${err.message}`);
        return [];
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer: Timer = o.scheduler.every(o.intervalMs ?? SG_REFRESH_INTERVAL_MS, () => void refresh(), { unref: true });
  return {
    refresh,
    stop() {
      stopped = true;
      o.scheduler.cancel(timer);
    },
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
