// Availability zone names and ids. EC2 pairs each zone name ("us-east-1a") with a zone id
// ("use1-az1") made of a short region code and a number; we derive the id from the name so the
// same world always gets the same ids.

import { invalidParameterValue } from "./errors.ts";

const DIRECTION: Record<string, string> = {
  north: "n",
  south: "s",
  east: "e",
  west: "w",
  central: "c",
  northeast: "ne",
  northwest: "nw",
  southeast: "se",
  southwest: "sw",
};

/** "us-east-1" → "use1", "ap-southeast-2" → "apse2", "eu-central-1" → "euc1". */
export function regionCode(region: string): string {
  return region
    .split("-")
    .map((part) => DIRECTION[part] ?? part)
    .join("");
}

/** Checks that `zone` is a zone of `region` ("<region><letter>") and returns its zone id. */
export function availabilityZoneId(region: string, zone: string): string {
  const letter = zone.slice(region.length);
  if (!zone.startsWith(region) || !/^[a-z]$/.test(letter)) {
    throw invalidParameterValue(
      `Value (${zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the availability zones of ${region}.`,
    );
  }
  return `${regionCode(region)}-az${letter.charCodeAt(0) - "a".charCodeAt(0) + 1}`;
}
