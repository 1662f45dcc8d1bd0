// The network-list operations of libcni (1.2), which containerd's CRI calls through go-cni: ADD runs
// the plugins in order, each getting the previous one's result, and caches the final result on disk;
// DEL runs them in reverse with the cached result as prevResult (0.4.0+) and removes the cache; CHECK
// replays the cached result (0.4.0+, unless disableCheck); STATUS (1.1.0+) asks each plugin whether it
// can serve; GC (DEL of cached attachments no longer valid, then the GC verb for 1.1.0+ lists).

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NetworkConfList, PluginConf } from "./conf.ts";
import { GoStruct, goMarshal } from "./go-json.ts";
import { findInPath, pluginEnv, rawExec, type PluginArgs, type PluginExecutor } from "./invoke.ts";
import { convertResult, parseResult, resultStruct, type CniResult } from "./result.ts";
import { versionAtLeast } from "./version.ts";

export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifName: string;
  args: ReadonlyArray<readonly [string, string]>;
  /** Capability arguments by name; a plugin gets those it declares in `capabilities`. */
  capabilityArgs: Readonly<Record<string, unknown>>;
}

export interface GcAttachment {
  containerId: string;
  ifName: string;
}

export interface CachedAttachment {
  containerId: string;
  network: string;
  ifName: string;
  netns: string;
  args: Array<[string, string]>;
  capabilityArgs: Record<string, unknown>;
}

export interface LibcniOptions {
  /** Plugin dirs, searched in order (CNI_PATH). */
  path: readonly string[];
  /** libcni's cache dir (/var/lib/cni on a node). */
  cacheDir: string;
  /** The runtime's own environment, which plugins inherit. */
  env: Readonly<Record<string, string>>;
  /** Deadline of one plugin execution (the CRI request's timeout). */
  timeoutMs: number;
  executor?: PluginExecutor;
}

const CACHE_KIND = "cniCacheV1";
const VALID_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function pluginDescription(p: PluginConf): string {
  const name = typeof p.raw["name"] === "string" && p.raw["name"] !== "" ? ` name=${JSON.stringify(p.raw["name"])}` : "";
  return `type=${JSON.stringify(p.type)}${name}`;
}

function validate(rt: RuntimeConf, network: string): void {
  if (rt.containerId === "") throw new Error("missing containerID");
  if (!VALID_ID.test(rt.containerId)) throw new Error("invalid characters in containerID");
  if (network === "") throw new Error("missing network name:");
  if (!VALID_ID.test(network)) throw new Error("invalid characters found in network name");
  if (rt.ifName === "") throw new Error("interface name is empty");
  if (rt.ifName.length > 15) throw new Error("interface name is too long");
  if (rt.ifName === "." || rt.ifName === "..") throw new Error("interface name is . or ..");
  if (/[/:\s]/.test(rt.ifName)) throw new Error("interface name contains / or : or whitespace characters");
}

export class Libcni {
  readonly #opts: LibcniOptions;
  readonly #exec: PluginExecutor;

  constructor(opts: LibcniOptions) {
    this.#opts = opts;
    this.#exec = opts.executor ?? rawExec;
  }

  get path(): readonly string[] {
    return this.#opts.path;
  }

  #args(command: PluginArgs["command"], rt?: RuntimeConf): PluginArgs {
    return { command, containerId: rt?.containerId ?? "", netns: rt?.netns ?? "", ifName: rt?.ifName ?? "", args: rt?.args ?? [], path: this.#opts.path };
  }

  async #run(plugin: PluginConf, stdin: string, args: PluginArgs, pluginPath = findInPath(plugin.type, this.#opts.path)): Promise<string> {
    const { stdout } = await this.#exec.exec(pluginPath, stdin, pluginEnv(this.#opts.env, args), this.#opts.timeoutMs);
    return stdout;
  }

  async addNetworkList(list: NetworkConfList, rt: RuntimeConf): Promise<CniResult> {
    let result: CniResult | undefined;
    for (const plugin of list.plugins) {
      try {
        const pluginPath = findInPath(plugin.type, this.#opts.path);
        validate(rt, list.name);
        const stdout = await this.#run(plugin, buildOneConfig(list, plugin, result, rt), this.#args("ADD", rt), pluginPath);
        result = parseResult(stdout, list.cniVersion);
      } catch (err) {
        throw new Error(`plugin ${pluginDescription(plugin)} failed (add): ${(err as Error).message}`, { cause: err });
      }
    }
    this.#cacheAdd(result!, list, rt);
    return result!;
  }

  async delNetworkList(list: NetworkConfList, rt: RuntimeConf): Promise<void> {
    let cached: CniResult | undefined;
    if (versionAtLeast(list.cniVersion, "0.4.0")) {
      try {
        cached = this.cachedResult(list, rt);
      } catch {
        this.#cacheDel(list.name, rt);
        cached = undefined;
      }
    }
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.#run(plugin, buildOneConfig(list, plugin, cached, rt), this.#args("DEL", rt));
      } catch (err) {
        throw new Error(`plugin ${pluginDescription(plugin)} failed (delete): ${(err as Error).message}`, { cause: err });
      }
    }
    this.#cacheDel(list.name, rt);
  }

  async checkNetworkList(list: NetworkConfList, rt: RuntimeConf): Promise<void> {
    if (!versionAtLeast(list.cniVersion, "0.4.0")) throw new Error(`configuration version "${list.cniVersion}" does not support the CHECK command`);
    if (list.disableCheck) return;
    let cached: CniResult | undefined;
    try {
      cached = this.cachedResult(list, rt);
    } catch (err) {
      throw new Error(`failed to get network "${list.name}" cached result: ${(err as Error).message}`);
    }
    if (cached === undefined) throw new Error(`failed to get network "${list.name}" cached result: no cached result for ${rt.containerId}/${rt.ifName}`);
    for (const plugin of list.plugins) {
      await this.#run(plugin, buildOneConfig(list, plugin, cached, rt), this.#args("CHECK", rt));
    }
  }

  /** STATUS of every plugin of a 1.1.0+ list; the first failure is returned as the plugin gave it. */
  async statusNetworkList(list: NetworkConfList): Promise<void> {
    if (!versionAtLeast(list.cniVersion, "1.1.0")) return;
    for (const plugin of list.plugins) {
      await this.#run(plugin, goMarshal({ ...plugin.raw, name: list.name, cniVersion: list.cniVersion }), this.#args("STATUS"));
    }
  }

  async gcNetworkList(list: NetworkConfList, valid: readonly GcAttachment[]): Promise<void> {
    const errors: string[] = [];
    const keep = new Set(valid.map((a) => `${a.containerId}\u0000${a.ifName}`));
    for (const attachment of this.cachedAttachments()) {
      if (attachment.network !== list.name || keep.has(`${attachment.containerId}\u0000${attachment.ifName}`)) continue;
      try {
        await this.delNetworkList(list, { containerId: attachment.containerId, netns: attachment.netns, ifName: attachment.ifName, args: attachment.args, capabilityArgs: attachment.capabilityArgs });
      } catch (err) {
        errors.push(`failed to delete stale attachment ${attachment.containerId} ${attachment.ifName}: ${(err as Error).message}`);
      }
    }
    if (versionAtLeast(list.cniVersion, "1.1.0") && !list.disableGC) {
      const attachments = valid.map((a) => new GoStruct([["containerID", a.containerId], ["ifname", a.ifName]]));
      for (const plugin of list.plugins) {
        const stdin = goMarshal({ ...plugin.raw, name: list.name, cniVersion: list.cniVersion, "cni.dev/valid-attachments": attachments });
        try {
          await this.#run(plugin, stdin, this.#args("GC"));
        } catch (err) {
          errors.push(`failed to GC plugin ${plugin.type}: ${(err as Error).message}`);
        }
      }
    }
    if (errors.length > 0) throw new Error(errors.join("\n"));
  }

  #cacheFile(network: string, rt: Pick<RuntimeConf, "containerId" | "ifName">): string {
    return join(this.#opts.cacheDir, "results", `${network}-${rt.containerId}-${rt.ifName}`);
  }

  #cacheAdd(result: CniResult, list: NetworkConfList, rt: RuntimeConf): void {
    const cached = new GoStruct([
      ["kind", CACHE_KIND],
      ["containerId", rt.containerId],
      ["config", Buffer.from(list.bytes).toString("base64")],
      ["ifName", rt.ifName],
      ["networkName", list.name],
      ["netns", rt.netns === "" ? undefined : rt.netns],
      ["cniArgs", rt.args.length === 0 ? undefined : rt.args.map(([k, v]) => [k, v])],
      ["capabilityArgs", Object.keys(rt.capabilityArgs).length === 0 ? undefined : rt.capabilityArgs],
      ["result", JSON.parse(goMarshal(resultStruct(result)))],
    ]);
    const file = this.#cacheFile(list.name, rt);
    mkdirSync(join(this.#opts.cacheDir, "results"), { recursive: true, mode: 0o700 });
    writeFileSync(file, goMarshal(cached), { mode: 0o600 });
  }

  #cacheDel(network: string, rt: Pick<RuntimeConf, "containerId" | "ifName">): void {
    rmSync(this.#cacheFile(network, rt), { force: true });
  }

  /** The cached ADD result in the list's version; undefined when none is cached. Throws when unreadable. */
  cachedResult(list: NetworkConfList, rt: Pick<RuntimeConf, "containerId" | "ifName">): CniResult | undefined {
    let text: string;
    try {
      text = readFileSync(this.#cacheFile(list.name, rt), "utf8");
    } catch {
      return undefined;
    }
    const cached = JSON.parse(text) as { result?: Record<string, unknown> };
    if (cached.result === undefined) throw new Error(`cached result for ${rt.containerId}/${rt.ifName} has no result`);
    return convertResult(parseResult(JSON.stringify(cached.result), list.cniVersion), list.cniVersion);
  }

  /** GetCachedAttachments: every attachment the cache holds. */
  cachedAttachments(): CachedAttachment[] {
    const dir = join(this.#opts.cacheDir, "results");
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: CachedAttachment[] = [];
    for (const name of names) {
      try {
        const c = JSON.parse(readFileSync(join(dir, name), "utf8")) as Record<string, unknown>;
        if (c["kind"] !== CACHE_KIND) continue;
        out.push({
          containerId: String(c["containerId"] ?? ""),
          network: String(c["networkName"] ?? ""),
          ifName: String(c["ifName"] ?? ""),
          netns: String(c["netns"] ?? ""),
          args: Array.isArray(c["cniArgs"]) ? (c["cniArgs"] as Array<[string, string]>) : [],
          capabilityArgs: (c["capabilityArgs"] as Record<string, unknown> | undefined) ?? {},
        });
      } catch {
        // a file that is not a cache entry
      }
    }
    return out;
  }
}

/**
 * buildOneConfig: the plugin's config with the list's name and version, prevResult, and the
 * runtimeConfig of the capabilities it declares. Each injection re-marshals through a Go map, so
 * keys end up sorted; values injected last (prevResult without runtimeConfig, or runtimeConfig's
 * struct values) keep their struct order.
 */
export function buildOneConfig(list: NetworkConfList, plugin: PluginConf, prevResult: CniResult | undefined, rt: RuntimeConf): string {
  const conf: Record<string, unknown> = { ...(JSON.parse(plugin.bytes) as Record<string, unknown>), name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf["prevResult"] = resultStruct(prevResult);
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, supported] of Object.entries(plugin.capabilities)) {
    if (supported && Object.hasOwn(rt.capabilityArgs, capability)) runtimeConfig[capability] = rt.capabilityArgs[capability];
  }
  if (Object.keys(runtimeConfig).length === 0) return goMarshal(conf);
  const remarshalled = JSON.parse(goMarshal(conf)) as Record<string, unknown>;
  remarshalled["runtimeConfig"] = runtimeConfig;
  return goMarshal(remarshalled);
}
