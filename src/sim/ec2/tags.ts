// Tag rules shared by every taggable resource: EC2's key/value limits, the reserved `aws:` prefix,
// at most 50 tags per resource, CreateTags overwriting values, DeleteTags matching values.

import type { Tag } from "./types.ts";
import { Ec2Error } from "./types.ts";
import { invalidParameterValue } from "./errors.ts";

export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;

/** Refuses tags EC2 would refuse; duplicate keys in one request are refused too. */
export function validateTags(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.key === "" || tag.key.length > MAX_KEY_LENGTH) {
      throw invalidParameterValue(`Tag key must be between 1 and ${MAX_KEY_LENGTH} characters: '${tag.key}'`);
    }
    if (tag.key.toLowerCase().startsWith("aws:")) {
      throw invalidParameterValue(`Tag keys starting with 'aws:' are reserved for internal use: '${tag.key}'`);
    }
    if (tag.value.length > MAX_VALUE_LENGTH) {
      throw invalidParameterValue(`Tag value exceeds the maximum length of ${MAX_VALUE_LENGTH} characters`);
    }
    if (seen.has(tag.key)) throw invalidParameterValue(`Duplicate tag key '${tag.key}' in the request`);
    seen.add(tag.key);
  }
}

/** Checks the tags a resource is created with (TagSpecifications / world building). */
export function checkNewTags(tags: readonly Tag[]): void {
  validateTags(tags);
  mergedTags([], tags, "the new resource");
}

/** The tag set after CreateTags: new keys appended, existing keys get the new value. */
export function mergedTags(current: readonly Tag[], added: readonly Tag[], resourceId: string): Tag[] {
  const result = current.map((t) => ({ ...t }));
  for (const tag of added) {
    const existing = result.find((t) => t.key === tag.key);
    if (existing) existing.value = tag.value;
    else result.push({ key: tag.key, value: tag.value });
  }
  if (result.length > MAX_TAGS_PER_RESOURCE) {
    throw new Ec2Error(
      "TagLimitExceeded",
      `The maximum number of tags (${MAX_TAGS_PER_RESOURCE}) for resource '${resourceId}' has been exceeded.`,
    );
  }
  return result;
}

/** The tag set after DeleteTags: a key with no value goes regardless, with a value only if it matches. */
export function remainingTags(current: readonly Tag[], removed: readonly { key: string; value?: string }[]): Tag[] {
  return current
    .filter((t) => !removed.some((r) => r.key === t.key && (r.value === undefined || r.value === t.value)))
    .map((t) => ({ ...t }));
}
