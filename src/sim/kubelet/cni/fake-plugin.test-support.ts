// A fake CNI plugin for the runtime's tests: it records what it was given (environment, stdin) and
// answers what the test put in place for its type and command (stdout, exit code).

import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = `#!/bin/sh
name=\${0##*/}
call="$FAKE_CNI_DIR/calls/$(date +%s%N)-$$"
cat > "$call.stdin"
env > "$call.env"
printf '%s' "$name" > "$call.type"
out="$FAKE_CNI_DIR/$name.$CNI_COMMAND.out"
[ -f "$out" ] && cat "$out"
code="$FAKE_CNI_DIR/$name.$CNI_COMMAND.code"
[ -f "$code" ] && exit "$(cat "$code")"
exit 0
`;

export interface RecordedCall {
  type: string;
  env: Record<string, string>;
  stdin: string;
  config: Record<string, unknown>;
}

export class FakePlugins {
  readonly dir: string;
  readonly binDir: string;

  constructor(types: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), "fake-cni-"));
    this.binDir = join(this.dir, "bin");
    for (const sub of ["bin", "calls"]) mkdirSync(join(this.dir, sub), { recursive: true });
    for (const t of types) {
      writeFileSync(join(this.binDir, t), SCRIPT);
      chmodSync(join(this.binDir, t), 0o755);
    }
  }

  /** What `type` prints (and its exit code) for `command`. */
  answer(type: string, command: string, stdout: string | object, code = 0): void {
    writeFileSync(join(this.dir, `${type}.${command}.out`), typeof stdout === "string" ? stdout : JSON.stringify(stdout));
    writeFileSync(join(this.dir, `${type}.${command}.code`), String(code));
  }

  /** Every call so far, in the order they started; clears the record. */
  takeCalls(): RecordedCall[] {
    const dir = join(this.dir, "calls");
    const ids = [...new Set(readdirSync(dir).map((n) => n.replace(/\.[a-z]+$/, "")))].sort((a, b) => (BigInt(a.split("-")[0]!) < BigInt(b.split("-")[0]!) ? -1 : 1));
    const calls = ids.map((id) => {
      const read = (ext: string) => readFileSync(join(dir, `${id}.${ext}`), "utf8");
      const env: Record<string, string> = {};
      for (const line of read("env").split("\n")) {
        const at = line.indexOf("=");
        if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
      }
      const stdin = read("stdin");
      return { type: read("type"), env, stdin, config: JSON.parse(stdin) as Record<string, unknown> };
    });
    for (const n of readdirSync(dir)) rmSync(join(dir, n), { force: true });
    return calls;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

