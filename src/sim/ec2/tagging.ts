// CreateTags and DeleteTags over every taggable resource: the id's prefix says which kind it is,
// every resource's resulting tag set is validated before any changes, and an ENI's change is an
// event (its followers show tags).

import { Ec2Error, type Tag } from "./types.ts";
import { mergedTags, remainingTags, validateTags } from "./tags.ts";
import type { ModelState } from "./model-state.ts";

export function createTags(s: ModelState, input: { resourceIds: string[]; tags: Tag[] }): void {
  validateTags(input.tags);
  const targets = input.resourceIds.map((id) => taggable(s, id));
  // Validate every resource's resulting tag count before changing any of them.
  const updated = targets.map((t) => mergedTags(t.tags(), input.tags, t.id));
  targets.forEach((t, i) => t.set(updated[i] as Tag[]));
}

export function deleteTags(s: ModelState, input: { resourceIds: string[]; tags: { key: string; value?: string }[] }): void {
  const targets = input.resourceIds.map((id) => taggable(s, id));
  for (const t of targets) t.set(remainingTags(t.tags(), input.tags));
}

/** Resolves a CreateTags/DeleteTags resource id to accessors of its tag list. */
function taggable(s: ModelState, id: string): { id: string; tags: () => Tag[]; set: (tags: Tag[]) => void } {
  const holder = (target: { tags: Tag[] }, after?: () => void) => ({
    id,
    tags: () => target.tags,
    set: (tags: Tag[]) => {
      target.tags = tags;
      after?.();
    },
  });
  // Kind by prefix first, so a malformed "eni-..." gets the ENI's Malformed code.
  if (id.startsWith("eni-") && !id.startsWith("eni-attach-")) {
    const { eni } = s.eniRecord(id);
    return holder(eni, () => s.emit({ kind: "eni-changed", eni: structuredClone(eni) }));
  }
  if (id.startsWith("i-")) return holder(s.instanceRecord(id).instance);
  if (id.startsWith("subnet-")) return holder(s.subnetRecord(id).subnet);
  if (id.startsWith("vpc-")) return holder(s.vpcRecord(id).vpc);
  if (id.startsWith("sg-")) return holder(s.lookup("sg", s.groups, id).group);
  throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
}
