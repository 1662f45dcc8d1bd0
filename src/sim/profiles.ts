// Timing profiles. `instant` makes EC2 do everything at once (tests). `realistic` takes its numbers
// from what EC2 users measure (field-facts §3): an attached ENI shows up on the node after 2-5 s,
// detach takes 2-3 s before the ENI can be deleted, IMDS trails EC2 by up to a couple of seconds,
// and API calls take tens to hundreds of milliseconds. EC2's throttling buckets are on in
// `realistic` and off in `instant` unless a test turns them on.

export type ProfileName = "instant" | "realistic";

export interface Profile {
  name: ProfileName;
  attachMs(): number;
  detachMs(): number;
  imdsLagMs(): number;
  apiLatencyMs(action: string): number;
  throttling: boolean;
}

export const PROFILE_NAMES: readonly ProfileName[] = ["instant", "realistic"];

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

export function makeProfile(name: ProfileName, random: () => number = Math.random): Profile {
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  if (name === "instant") {
    return { name, attachMs: () => 0, detachMs: () => 0, imdsLagMs: () => 0, apiLatencyMs: () => 0, throttling: false };
  }
  return {
    name,
    attachMs: () => between(2000, 5000),
    detachMs: () => between(2000, 3000),
    imdsLagMs: () => between(200, 2000),
    apiLatencyMs: (action) => {
      if (action.startsWith("Describe")) return between(30, 120);
      if (action === "CreateNetworkInterface" || action === "RunInstances") return between(150, 400);
      return between(60, 250);
    },
    throttling: true,
  };
}
