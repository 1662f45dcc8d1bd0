// egress-cni's address allocator, host-local's on-disk format (containernetworking/plugins
// plugins/ipam/host-local): under `<dataDir>/<network>/`, one file per reserved address, named after
// it and holding "<container id>\r\n<ifname>", and `last_reserved_ip.0`, where the next search
// starts. A reservation is an exclusive create of its file, so concurrent ADDs never share an address
// and no lock is needed; a node switched from aws-node keeps its pods' reservations (and the other
// way round). The range is the subnet without its network address, its gateway (the first address)
// and, for IPv4, its broadcast address, as host-local's defaults.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatIp, parseCidr, parseIp, type ParsedCidr } from "../net/ip.ts";

const LAST_RESERVED = "last_reserved_ip.0";
const LINE_BREAK = "\r\n";

export interface Reservation {
  /** The address, as host-local names its file. */
  address: string;
  /** "a.b.c.d/22": the address with the range's prefix length, as the IPAM result gives it. */
  cidr: string;
  gateway: string;
}

export class RangeFullError extends Error {
  override name = "RangeFullError";
}

export class HostLocalAllocator {
  readonly dir: string;
  readonly range: ParsedCidr;
  readonly #first: bigint;
  readonly #last: bigint;

  constructor(dataDir: string, network: string, subnet: string) {
    const range = parseCidr(subnet);
    if (range === undefined) throw new Error(`ipam: subnet ${JSON.stringify(subnet)} is not a CIDR`);
    if (!/^[A-Za-z0-9_.-]+$/.test(network)) throw new Error(`ipam: network name ${JSON.stringify(network)} cannot name a directory`);
    const hostBits = BigInt(range.bits - range.prefixLength);
    if (hostBits < 2n) throw new Error(`ipam: subnet ${range.text} is too small for a gateway and pods`);
    this.dir = join(dataDir, network);
    this.range = range;
    this.#first = range.base + 2n; // network address and gateway skipped
    const top = range.base + (1n << hostBits) - 1n;
    this.#last = range.family === "4" ? top - 1n : top; // IPv4 broadcast skipped
  }

  get gateway(): string {
    return formatIp(this.range.family, this.range.base + 1n);
  }

  #reservation(value: bigint): Reservation {
    const address = formatIp(this.range.family, value);
    return { address, cidr: `${address}/${this.range.prefixLength}`, gateway: this.gateway };
  }

  /** The attachment's address: the one it already holds (a repeated ADD), else the next free one. */
  reserve(containerId: string, ifName: string): Reservation {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const held = this.find(containerId, ifName);
    if (held !== undefined) return held;
    const size = this.#last - this.#first + 1n;
    let start = this.#first;
    const last = this.#readLast();
    if (last !== undefined && last >= this.#first && last < this.#last) start = last + 1n;
    for (let i = 0n; i < size; i++) {
      const value = this.#first + ((start - this.#first + i) % size);
      const address = formatIp(this.range.family, value);
      try {
        writeFileSync(join(this.dir, address), `${containerId.trim()}${LINE_BREAK}${ifName}`, { flag: "wx", mode: 0o644 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw err;
      }
      writeFileSync(join(this.dir, LAST_RESERVED), address, { mode: 0o644 });
      return this.#reservation(value);
    }
    throw new RangeFullError(`ipam: no address left in ${this.range.text} (${size} in use)`);
  }

  /** The attachment's reservation, if it has one. */
  find(containerId: string, ifName: string): Reservation | undefined {
    for (const [value, holder] of this.#reservations()) {
      if (holder.containerId === containerId.trim() && (holder.ifName === undefined || holder.ifName === ifName)) return this.#reservation(value);
    }
    return undefined;
  }

  /** Gives the attachment's address back; returns it, or undefined when it held none (DEL is idempotent). */
  release(containerId: string, ifName: string): Reservation | undefined {
    const held = this.find(containerId, ifName);
    if (held === undefined) return undefined;
    rmSync(join(this.dir, held.address), { force: true });
    return held;
  }

  /** Every reservation, with the attachment holding it (ifName undefined in old files). */
  holders(): Array<Reservation & { containerId: string; ifName: string | undefined }> {
    return [...this.#reservations()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([value, holder]) => ({ ...this.#reservation(value), ...holder }));
  }

  /** Every reservation: address value -> holder. */
  #reservations(): Map<bigint, { containerId: string; ifName: string | undefined }> {
    const out = new Map<bigint, { containerId: string; ifName: string | undefined }>();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return out;
      throw err;
    }
    for (const name of names) {
      const ip = parseIp(name);
      if (ip === undefined || ip.family !== this.range.family) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), "utf8");
      } catch {
        continue; // released meanwhile
      }
      // Old host-local files hold the container id alone.
      const [containerId = "", ifName] = text.split(LINE_BREAK);
      out.set(ip.value, { containerId: containerId.trim(), ifName: ifName?.trim() });
    }
    return out;
  }

  #readLast(): bigint | undefined {
    try {
      const ip = parseIp(readFileSync(join(this.dir, LAST_RESERVED), "utf8").trim());
      return ip?.family === this.range.family ? ip.value : undefined;
    } catch {
      return undefined;
    }
  }
}
