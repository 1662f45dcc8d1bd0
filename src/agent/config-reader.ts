// Reading variables from one environment for loadConfig: each read either parses or is refused and
// replaced by the default, so the other checks still run and one start-up reports every bad variable
// at once, with the warnings collected on the way.

import { parseBoolean, parseInteger, parseIpv4CidrList, type CidrListEntry, type Parsed } from "./config-values.ts";
import { configVariable } from "./config-variables.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export type ConfigError = {
  /** The variable whose value is refused. */
  readonly variable: string;
  /** As given; "" when the rule is broken by the variable's default. */
  readonly value: string;
  /** What would be accepted. */
  readonly allowed: string;
  /** For rules across variables: the other variables involved, with their effective values. */
  readonly with?: readonly { readonly variable: string; readonly value: string }[];
};

export class ConfigReader {
  readonly env: Env;
  readonly errors: ConfigError[] = [];
  readonly warnings: string[] = [];

  constructor(env: Env) {
    this.env = env;
  }

  /**
   * The variable's text. Surrounding blanks are dropped (a YAML "value: '1 '" is a typo, not a
   * different number); unset and empty both mean the default, as in aws-node.
   */
  given(name: string): string | undefined {
    const text = this.env[name]?.trim();
    return text === undefined || text === "" ? undefined : text;
  }

  isSet(name: string): boolean {
    return this.given(name) !== undefined;
  }

  refuse(variable: string, allowed: string, withVars?: ConfigError["with"]): void {
    this.errors.push({ variable, value: this.env[variable] ?? "", allowed, ...(withVars === undefined ? {} : { with: withVars }) });
  }

  /** The parsed value; the default (derivedDefault, else the variable's documented one) when unset or refused. */
  read<T>(name: string, parse: (text: string) => Parsed<T>, derivedDefault?: T): T {
    const text = this.given(name);
    const parsed = text === undefined ? undefined : parse(text);
    if (parsed?.ok) return parsed.value;
    if (parsed !== undefined) this.refuse(name, parsed.allowed);
    if (derivedDefault !== undefined) return derivedDefault;
    const fallback = parse(configVariable(name).default);
    if (!fallback.ok) throw new Error(`internal: the default of ${name} does not parse`);
    return fallback.value;
  }

  bool(name: string): boolean {
    return this.read(name, parseBoolean);
  }

  count(name: string, meaning: string): number {
    return this.read(name, (t) => parseInteger(t, 0, Number.MAX_SAFE_INTEGER, `a whole number ≥ 0 (${meaning})`));
  }

  cidrs(name: string): readonly string[] {
    const entries: readonly CidrListEntry[] = this.read(name, (t) => parseIpv4CidrList(t));
    for (const entry of entries.filter((e) => e.hadHostBits)) this.warnings.push(`${name}: host bits cleared, using ${entry.cidr}`);
    return entries.map((e) => e.cidr);
  }
}
