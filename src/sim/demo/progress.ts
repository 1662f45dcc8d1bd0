// The live view while the demo's pods come up: on a terminal a block of lines redrawn in place
// (pods by state, then per node its ENIs, addresses and pods, and the EC2 calls so far); otherwise
// (a log, a pipe) one plain line whenever something changed, at most every 2 seconds.

import type { Snapshot } from "./workload.ts";

export function progressLines(s: Snapshot, elapsedMs: number): string[] {
  const p = s.pods;
  const head = `pods  Running ${p.running}/${p.total} (Ready ${p.ready})  ContainerCreating ${p.creating}  Pending ${p.pending}   EC2 calls ${s.ec2Calls}   ${(elapsedMs / 1000).toFixed(0)} s`;
  const width = Math.max(...s.nodes.map((n) => n.name.length));
  return [head, ...s.nodes.map((n) => `  ${n.name.padEnd(width)}  ${n.zone}  ENIs ${n.enis}  ${n.prefixes80 > 0 ? `IPv6 /80s ${n.prefixes80}` : `addresses ${String(n.addresses).padStart(3)}`}  pods ${String(n.pods).padStart(3)}`)];
}

export function progressLine(s: Snapshot, elapsedMs: number): string {
  const nodes = s.nodes.map((n) => `${n.name} ${n.enis} ENIs/${n.prefixes80 > 0 ? `${n.prefixes80} IPv6 /80` : `${n.addresses} addresses`}/${n.pods} pods`).join(", ");
  return `[${(elapsedMs / 1000).toFixed(0).padStart(3)} s] pods ${s.pods.running}/${s.pods.total} Running (${s.pods.ready} Ready, ${s.pods.creating} ContainerCreating, ${s.pods.pending} Pending); ${nodes}; EC2 calls ${s.ec2Calls}`;
}

export class ProgressDisplay {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private drawn = 0;
  private lastPlain = "";
  private lastPlainAt = 0;

  constructor(out: NodeJS.WriteStream = process.stdout, tty = out.isTTY === true) {
    this.out = out;
    this.tty = tty;
  }

  show(s: Snapshot, elapsedMs: number, final = false): void {
    if (this.tty) {
      const lines = progressLines(s, elapsedMs);
      let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
      for (const line of lines) text += `\x1b[2K${line}\n`;
      this.out.write(text);
      this.drawn = lines.length;
      return;
    }
    const line = progressLine(s, elapsedMs);
    const changed = line.replace(/^\[[^\]]*\] /, "") !== this.lastPlain.replace(/^\[[^\]]*\] /, "");
    if ((changed && Date.now() - this.lastPlainAt >= 2000) || final) {
      if (line !== this.lastPlain) this.out.write(`${line}\n`);
      this.lastPlain = line;
      this.lastPlainAt = Date.now();
    }
  }

  /** Ends the live block: what follows is printed below it. */
  done(): void {
    this.drawn = 0;
  }
}
