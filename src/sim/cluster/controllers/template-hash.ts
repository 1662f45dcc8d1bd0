// The hash a Deployment's ReplicaSets and a DaemonSet's pods carry (pod-template-hash,
// controller-revision-hash): FNV-1a (32 bits) over the pod template, with the collision count
// mixed in, printed in decimal and encoded with Kubernetes' safe alphabet (rand.SafeEncodeString),
// so hashes look as they do on a real cluster. The template is hashed as canonical JSON (keys
// sorted), not as Go's spew output: the same template always gives the same hash, but not the
// value a real kube-controller-manager would compute.

import { isPlainObject } from "../../kube/objects.ts";

const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function fnv1a32(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv1a32(new TextEncoder().encode(canonical(template)));
  if (collisionCount !== undefined && collisionCount > 0) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount, true);
    h = fnv1a32(b, h);
  }
  return [...String(h)].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join("");
}
