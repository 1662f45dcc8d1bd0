// Resource identifiers and MAC addresses in EC2's shapes. Ids are a type prefix plus 17 lower-case
// hex digits (EC2's long ids; the old 8-digit ids are still accepted as well-formed on input).
// Generation draws from the model's `random` so a seeded world is reproducible.

import { createHash } from "node:crypto";

export type IdPrefix = "vpc" | "subnet" | "sg" | "i" | "eni" | "eni-attach" | "ami";

const HEX = "0123456789abcdef";

export function randomHex(random: () => number, digits: number): string {
  let out = "";
  for (let i = 0; i < digits; i++) out += HEX[Math.floor(random() * 16) & 15];
  return out;
}

/** Makes ids of every kind, never repeating one. */
export class IdFactory {
  readonly #random: () => number;
  readonly #issued = new Set<string>();
  readonly #macs = new Set<string>();

  constructor(random: () => number) {
    this.#random = random;
  }

  next(prefix: IdPrefix): string {
    for (;;) {
      const id = `${prefix}-${randomHex(this.#random, 17)}`;
      if (!this.#issued.has(id)) {
        this.#issued.add(id);
        return id;
      }
    }
  }

  /** A locally administered unicast MAC ("02:..."), unique in this world. */
  nextMac(): string {
    for (;;) {
      const octets = ["02"];
      for (let i = 0; i < 5; i++) octets.push(randomHex(this.#random, 2));
      const mac = octets.join(":");
      if (!this.#macs.has(mac)) {
        this.#macs.add(mac);
        return mac;
      }
    }
  }
}

/** True if `id` has the shape `<prefix>-<8 or 17 lower-case hex>`. */
export function isWellFormedId(prefix: IdPrefix, id: string): boolean {
  if (!id.startsWith(`${prefix}-`)) return false;
  const hex = id.slice(prefix.length + 1);
  return (hex.length === 8 || hex.length === 17) && /^[0-9a-f]+$/.test(hex);
}

/**
 * A stable id for something the model keeps no random id for (a CIDR association, a DNS options
 * set): derived from what identifies it, so every answer about it names the same id, and creating it
 * draws nothing from the world's random source.
 */
export function derivedId(prefix: string, ...parts: string[]): string {
  return prefix + createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 17);
}
