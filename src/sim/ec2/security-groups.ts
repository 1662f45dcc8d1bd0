// Security groups: every VPC's "default" group, named groups with EC2's naming rules, how an ENI's
// group list is resolved (the VPC's default when none is given; each must be in the ENI's VPC), and
// DescribeSecurityGroups. Rules (ingress/egress permissions) come with the router's enforcement.

import type { DescribeInput } from "./api.ts";
import { Ec2Error, type PageOf, type SecurityGroup, type Tag } from "./types.ts";
import { invalidParameterValue, malformed, notFound } from "./errors.ts";
import { isWellFormedId } from "./ids.ts";
import { PAGING, securityGroupFilters } from "./describe-specs.ts";
import { filterAndPage, selectByIds } from "./describe.ts";
import { checkNewTags } from "./tags.ts";
import type { ModelState } from "./model-state.ts";

/** Every VPC comes with a security group named "default", as on EC2. */
export function addDefaultGroup(s: ModelState, vpcId: string, groupId: string): void {
  s.groups.set(groupId, {
    seq: s.nextSeq(),
    group: {
      groupId,
      groupName: "default",
      description: "default VPC security group",
      vpcId,
      ownerId: s.accountId,
      tags: [],
    },
  });
}

export function createSecurityGroup(s: ModelState, input: { vpcId: string; groupName: string; description: string; tags?: Tag[] }): SecurityGroup {
  s.vpcRecord(input.vpcId);
  if (input.groupName === "" || input.groupName.length > 255 || input.groupName.startsWith("sg-")) {
    throw invalidParameterValue(`Invalid value '${input.groupName}' for groupName.`);
  }
  if ([...s.groups.values()].some((g) => g.group.vpcId === input.vpcId && g.group.groupName === input.groupName)) {
    throw new Ec2Error("InvalidGroup.Duplicate", `The security group '${input.groupName}' already exists for VPC '${input.vpcId}'`);
  }
  const tags = input.tags ?? [];
  checkNewTags(tags);
  const group: SecurityGroup = {
    groupId: s.ids.next("sg"),
    groupName: input.groupName,
    description: input.description,
    vpcId: input.vpcId,
    ownerId: s.accountId,
    tags: tags.map((t) => ({ ...t })),
  };
  s.groups.set(group.groupId, { seq: s.nextSeq(), group });
  return structuredClone(group);
}

/** Security groups for an ENI: the VPC's default group if none given; each must be in the VPC. */
export function resolveGroups(s: ModelState, groupIds: string[] | undefined, vpcId: string): string[] {
  if (groupIds === undefined || groupIds.length === 0) return [s.vpcRecord(vpcId).defaultGroupId];
  const unique = [...new Set(groupIds)];
  for (const id of unique) {
    if (!isWellFormedId("sg", id)) throw malformed("sg", id);
    const record = s.groups.get(id);
    if (!record || record.group.vpcId !== vpcId) {
      throw new Ec2Error("InvalidGroup.NotFound", `The security group '${id}' does not exist in VPC '${vpcId}'`);
    }
  }
  return unique;
}

export function describeSecurityGroups(s: ModelState, input: DescribeInput): PageOf<SecurityGroup> {
  const records = selectByIds(input, PAGING.securityGroups, "sg", s.groups, (ids) => notFound("sg", ids[0] as string));
  return filterAndPage(records, (r) => r.group, input, securityGroupFilters, PAGING.securityGroups);
}
