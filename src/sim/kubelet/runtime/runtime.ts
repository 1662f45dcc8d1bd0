// The node's container runtime, in the shape of the CRI the kubelet talks to containerd through:
// pod sandboxes (a network namespace per pod, wired by the CNI chain as containerd's CRI does it, or
// the node's own namespace for hostNetwork pods) and containers (processes under a shim, in the
// sandbox's network namespace, with their own PID, mount, IPC and UTS namespaces). All state is on
// disk under the node's root, so a restarted kubelet finds its sandboxes and containers again.

import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PodNetwork, type NetworkStatus, type PortMapping } from "../cni/pod-network.ts";
import { BUSYBOX, imageCatalogue, lookupImage, pullImage, resolveProgram, type ImageSpec, type PulledImage } from "./images.ts";
import { childrenOf, delay, identify, isAlive, signal, type ProcessIdentity } from "./process.ts";

const SHIM = join(import.meta.dirname, "shim.sh");
const NETNS_DIR = "/var/run/netns";

export interface SandboxConfig {
  namespace: string;
  name: string;
  uid: string;
  attempt: number;
  hostNetwork: boolean;
  hostname: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  portMappings: PortMapping[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

export interface Sandbox {
  id: string;
  config: SandboxConfig;
  /** The namespace's name in /var/run/netns; "" for hostNetwork pods. */
  netns: string;
  state: "ready" | "notready";
  createdAt: string;
  ips: string[];
  /** Times the network was torn down (the first DEL has the namespace, later ones do not). */
  teardowns: number;
}

export interface ContainerConfig {
  name: string;
  attempt: number;
  image: string;
  /** argv as the kubelet computed it (entrypoint/command, args, $(VAR) expanded, paths rewritten). */
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  logPath: string;
}

export type ContainerState = "created" | "running" | "exited";

export interface ContainerStatus {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  state: ContainerState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** The container's main process on this machine (PID 1 of its PID namespace). */
  pid?: number;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  program: string;
  createdAt: string;
  shim?: ProcessIdentity;
  main?: ProcessIdentity;
  startedAt?: string;
  /** Set when the runtime itself gave up on the container (its shim vanished). */
  lost?: { exitCode: number; finishedAt: string; reason: string };
}

export class RuntimeError extends Error {
  /** The kubelet's word for the failure (CreatePodSandboxError, ErrImagePull, StartError, ...). */
  readonly kind: string;

  constructor(kind: string, message: string) {
    super(message);
    this.name = "RuntimeError";
    this.kind = kind;
  }
}

export interface RuntimeOptions {
  /** The node's root directory (/run/vpcsim/<run>/nodes/<node>). */
  nodeRoot: string;
  /** Sandbox namespaces are named `<netnsPrefix>cni-<uuid>` (vs-<run>-<instance>-, so `down` finds them). */
  netnsPrefix: string;
  /** CNI plugin dirs in search order. */
  cniBinDirs: string[];
  /** The environment of the runtime's own process (plugins inherit it). */
  env: Record<string, string>;
  /** The CRI request timeout (the kubelet's --runtime-request-timeout, 2 minutes). */
  requestTimeoutMs?: number;
  log?: (level: "info" | "error", message: string, fields?: Record<string, unknown>) => void;
}

export class Runtime {
  readonly nodeRoot: string;
  readonly network: PodNetwork;
  readonly #opts: RuntimeOptions;
  readonly #stateDir: string;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #catalogue: Map<string, ImageSpec>;

  constructor(opts: RuntimeOptions) {
    this.#opts = opts;
    this.nodeRoot = opts.nodeRoot;
    this.#stateDir = join(opts.nodeRoot, "var/lib/vpcsim-runtime");
    for (const d of ["sandboxes", "containers", "images"]) mkdirSync(join(this.#stateDir, d), { recursive: true, mode: 0o700 });
    const confDir = join(opts.nodeRoot, "etc/cni/net.d");
    mkdirSync(confDir, { recursive: true, mode: 0o755 });
    this.network = new PodNetwork(confDir, {
      path: opts.cniBinDirs,
      cacheDir: join(opts.nodeRoot, "var/lib/cni"),
      env: opts.env,
      timeoutMs: opts.requestTimeoutMs ?? 120_000,
    });
    this.#catalogue = imageCatalogue();
  }

  #log(level: "info" | "error", message: string, fields?: Record<string, unknown>) {
    this.#opts.log?.(level, message, fields);
  }

  /** Operations on one sandbox or container run one after another. */
  #serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => {});
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return result;
  }

  networkStatus(): Promise<NetworkStatus> {
    return this.network.status();
  }

  // ---- sandboxes ----

  #sandboxFile(id: string) {
    return join(this.#stateDir, "sandboxes", `${id}.json`);
  }

  #saveSandbox(s: Sandbox) {
    writeAtomic(this.#sandboxFile(s.id), JSON.stringify(s, null, 2));
  }

  sandbox(id: string): Sandbox | undefined {
    try {
      return JSON.parse(readFileSync(this.#sandboxFile(id), "utf8")) as Sandbox;
    } catch {
      return undefined;
    }
  }

  listSandboxes(): Sandbox[] {
    return readdirSync(join(this.#stateDir, "sandboxes"))
      .filter((n) => n.endsWith(".json"))
      .map((n) => this.sandbox(n.slice(0, -5)))
      .filter((s): s is Sandbox => s !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  #cniSpec(s: Sandbox, netnsPath: string) {
    const c = s.config;
    return { id: s.id, netns: netnsPath, namespace: c.namespace, name: c.name, uid: c.uid, annotations: c.annotations, portMappings: c.portMappings, ...(c.dns ? { dns: c.dns } : {}) };
  }

  /** RunPodSandbox: a ready sandbox, or a RuntimeError with containerd's message (nothing left behind). */
  async runPodSandbox(config: SandboxConfig): Promise<Sandbox> {
    const id = randomBytes(32).toString("hex");
    return this.#serial(id, async () => {
      const sandbox: Sandbox = { id, config, netns: "", state: "notready", createdAt: new Date().toISOString(), ips: [], teardowns: 0 };
      if (config.hostNetwork) {
        sandbox.state = "ready";
        this.#saveSandbox(sandbox);
        return sandbox;
      }
      // go-cni refuses before anything is created when the network is not initialized.
      const status = await this.network.status();
      if (!status.ready) throw new RuntimeError("CreatePodSandboxError", `failed to setup network for sandbox "${id}": ${status.message.replace(/^Network plugin returns error: /, "")}`);
      const netns = `${this.#opts.netnsPrefix}cni-${randomUUID()}`;
      try {
        await run("ip", ["netns", "add", netns]);
      } catch (err) {
        throw new RuntimeError("CreatePodSandboxError", `failed to create network namespace for sandbox "${id}": ${(err as Error).message}`);
      }
      sandbox.netns = netns;
      // Recorded before ADD: a kubelet that dies mid-ADD finds the sandbox and tears it down.
      this.#saveSandbox(sandbox);
      const netnsPath = join(NETNS_DIR, netns);
      try {
        const { ips } = await this.network.setup(this.#cniSpec(sandbox, netnsPath));
        sandbox.ips = ips;
        sandbox.state = "ready";
        this.#saveSandbox(sandbox);
        return sandbox;
      } catch (setupError) {
        // As RunPodSandbox's deferred clean-up: DEL what ADD set up, then the namespace.
        try {
          await this.network.remove(this.#cniSpec(sandbox, netnsPath));
          await deleteNetns(netns);
          rmSync(this.#sandboxFile(id), { force: true });
        } catch (cleanupError) {
          this.#log("error", "failed to clean up a sandbox whose network setup failed; it stays not ready", { sandbox: id, error: (cleanupError as Error).message });
        }
        throw new RuntimeError("CreatePodSandboxError", `failed to setup network for sandbox "${id}": ${(setupError as Error).message}`);
      }
    });
  }

  /** StopPodSandbox: kills its containers, detaches its network (DEL) and deletes its namespace. Repeatable. */
  stopPodSandbox(id: string): Promise<void> {
    return this.#serial(id, async () => {
      const sandbox = this.sandbox(id);
      if (!sandbox) return;
      for (const c of this.listContainers().filter((c) => c.sandboxId === id && c.state === "running")) await this.stopContainer(c.id, 0);
      if (!sandbox.config.hostNetwork) {
        const present = sandbox.netns !== "" && existsSync(join(NETNS_DIR, sandbox.netns));
        try {
          await this.network.remove(this.#cniSpec(sandbox, present ? join(NETNS_DIR, sandbox.netns) : ""));
        } catch (err) {
          throw new RuntimeError("KillPodSandboxError", `failed to destroy network for sandbox "${id}": ${(err as Error).message}`);
        }
        if (present) await deleteNetns(sandbox.netns);
        sandbox.teardowns++;
      }
      sandbox.state = "notready";
      this.#saveSandbox(sandbox);
    });
  }

  /** RemovePodSandbox: forgets a stopped sandbox and its containers. */
  removePodSandbox(id: string): Promise<void> {
    return this.#serial(id, async () => {
      const sandbox = this.sandbox(id);
      if (!sandbox) return;
      if (sandbox.state === "ready") throw new RuntimeError("RemovePodSandboxError", `sandbox container "${id}" is not fully stopped`);
      for (const c of this.listContainers().filter((c) => c.sandboxId === id)) await this.removeContainer(c.id);
      rmSync(this.#sandboxFile(id), { force: true });
    });
  }

  /** CHECK of a ready sandbox's network against its cached result. */
  async checkSandboxNetwork(id: string): Promise<void> {
    const sandbox = this.sandbox(id);
    if (!sandbox || sandbox.config.hostNetwork || sandbox.state !== "ready") return;
    await this.network.check(this.#cniSpec(sandbox, join(NETNS_DIR, sandbox.netns)));
  }

  /** CNI GC: attachments of sandboxes this runtime no longer has are released. */
  async gcNetworks(): Promise<void> {
    const live = this.listSandboxes().filter((s) => !s.config.hostNetwork && s.state === "ready").map((s) => s.id);
    await this.network.gc(live);
  }

  // ---- images ----

  /** PullImage: a node-local copy of a known image; ErrImagePull for one vpcsim cannot run. */
  pullImage(image: string): { image: PulledImage; ref: string } {
    let found: ReturnType<typeof lookupImage>;
    try {
      found = lookupImage(image, this.#catalogue);
    } catch (err) {
      throw new RuntimeError("ErrImagePull", `rpc error: code = NotFound desc = ${(err as Error).message}`);
    }
    return { image: pullImage(found.spec, join(this.#stateDir, "images")), ref: `${found.ref.registry}/${found.ref.repository}:${found.ref.tag}` };
  }

  // ---- containers ----

  #containerDir(id: string) {
    return join(this.#stateDir, "containers", id);
  }

  #saveContainer(r: ContainerRecord) {
    writeAtomic(join(this.#containerDir(r.id), "container.json"), JSON.stringify(r, null, 2));
  }

  #container(id: string): ContainerRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.#containerDir(id), "container.json"), "utf8")) as ContainerRecord;
    } catch {
      return undefined;
    }
  }

  /** CreateContainer: resolves the program in the image; CreateContainerError when it cannot. */
  createContainer(sandboxId: string, config: ContainerConfig, image: PulledImage): ContainerStatus {
    const sandbox = this.sandbox(sandboxId);
    if (!sandbox || sandbox.state !== "ready") throw new RuntimeError("CreateContainerError", `sandbox "${sandboxId}" is not ready`);
    let program: string;
    try {
      if (config.argv.length === 0) throw new Error("no command specified");
      program = resolveProgram(image, config.argv[0]!, config.env["PATH"] ?? "");
    } catch (err) {
      throw new RuntimeError("StartError", `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${(err as Error).message}: unknown`);
    }
    const record: ContainerRecord = { id: randomBytes(32).toString("hex"), sandboxId, config, program, createdAt: new Date().toISOString() };
    mkdirSync(this.#containerDir(record.id), { recursive: true, mode: 0o700 });
    this.#saveContainer(record);
    return this.#status(record);
  }

  /** StartContainer: the shim starts the program in the sandbox; resolves once it runs. */
  startContainer(id: string): Promise<ContainerStatus> {
    return this.#serial(id, async () => {
      const record = this.#container(id);
      if (!record) throw new RuntimeError("StartError", `container "${id}" not found`);
      if (record.shim) return this.#status(record);
      const sandbox = this.sandbox(record.sandboxId);
      if (!sandbox || sandbox.state !== "ready") throw new RuntimeError("StartError", `sandbox "${record.sandboxId}" is not ready`);
      const dir = this.#containerDir(id);
      mkdirSync(dirname(record.config.logPath), { recursive: true, mode: 0o755 });
      const log = openSync(record.config.logPath, "a", 0o640);
      const hostname = sandbox.config.hostNetwork ? "" : sandbox.config.hostname;
      const shimArgs = [BUSYBOX, "sh", SHIM, dir, hostname, "--", record.program, ...record.config.argv.slice(1)];
      const [file, args] = sandbox.config.hostNetwork ? [shimArgs[0]!, shimArgs.slice(1)] : ["nsenter", [`--net=${join(NETNS_DIR, sandbox.netns)}`, "--", ...shimArgs]];
      const cwd = record.config.workingDir !== "" && existsSync(record.config.workingDir) ? record.config.workingDir : "/";
      const child = spawn(file, args, { detached: true, stdio: ["ignore", log, log], env: record.config.env, cwd });
      closeSync(log);
      child.unref();
      const spawned = await new Promise<number>((resolve, reject) => {
        child.once("error", reject);
        child.once("spawn", () => resolve(child.pid!));
      }).catch((err: Error) => {
        throw new RuntimeError("StartError", `failed to start shim: ${err.message}`);
      });
      record.shim = identify(spawned);
      // The shim records unshare's PID; the container's main process is unshare's child.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && record.main === undefined) {
        const unsharePid = readNumber(join(dir, "unshare.pid"));
        const main = unsharePid === undefined ? undefined : childrenOf(unsharePid)[0];
        if (main !== undefined) record.main = identify(main);
        else if (existsSync(join(dir, "exit"))) break; // it ended at once
        else await delay(5);
      }
      record.startedAt = new Date().toISOString();
      this.#saveContainer(record);
      return this.#status(record);
    });
  }

  /** StopContainer: the stop signal, then SIGKILL after `timeoutSeconds`; resolves once it exited. */
  stopContainer(id: string, timeoutSeconds: number, stopSignal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    return this.#serial(`stop:${id}`, async () => {
      const record = this.#container(id);
      if (!record || this.#status(record).state !== "running") return;
      const exited = () => this.#status(this.#container(id)!).state !== "running";
      if (timeoutSeconds > 0 && record.main) {
        signal(record.main, stopSignal);
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (Date.now() < deadline && !exited()) await delay(50);
      }
      if (!exited()) {
        if (record.main) signal(record.main, "SIGKILL");
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline && !exited()) await delay(20);
      }
      if (!exited() && record.shim) {
        // A shim that cannot report: end it too, and say so.
        signal(record.shim, "SIGKILL");
        record.lost = { exitCode: 137, finishedAt: new Date().toISOString(), reason: "Error" };
        this.#saveContainer(record);
      }
    });
  }

  /** RemoveContainer: forgets an exited (or never started) container; kills it first if needed. */
  async removeContainer(id: string): Promise<void> {
    await this.stopContainer(id, 0);
    rmSync(this.#containerDir(id), { recursive: true, force: true });
  }

  containerStatus(id: string): ContainerStatus | undefined {
    const r = this.#container(id);
    return r ? this.#status(r) : undefined;
  }

  listContainers(): ContainerStatus[] {
    return readdirSync(join(this.#stateDir, "containers"))
      .map((id) => this.#container(id))
      .filter((r): r is ContainerRecord => r !== undefined)
      .map((r) => this.#status(r))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  #status(r: ContainerRecord): ContainerStatus {
    const base: ContainerStatus = { id: r.id, sandboxId: r.sandboxId, config: r.config, state: "created", createdAt: r.createdAt };
    if (!r.shim) return base;
    const exitFile = join(this.#containerDir(r.id), "exit");
    const started = { ...base, startedAt: r.startedAt ?? r.createdAt, ...(r.main ? { pid: r.main.pid } : {}) };
    if (existsSync(exitFile)) {
      const exitCode = readNumber(exitFile) ?? 255;
      return { ...started, state: "exited", exitCode, finishedAt: statSync(exitFile).mtime.toISOString(), reason: exitCode === 0 ? "Completed" : "Error" };
    }
    if (r.lost) return { ...started, state: "exited", exitCode: r.lost.exitCode, finishedAt: r.lost.finishedAt, reason: r.lost.reason };
    if (isAlive(r.shim)) return { ...started, state: "running" };
    // The shim is gone and wrote nothing: the container's fate is unknown, as containerd reports it.
    return { ...started, state: "exited", exitCode: 255, finishedAt: new Date().toISOString(), reason: "Unknown", message: "the container's shim exited without reporting its status" };
  }

  /**
   * The command line that runs argv inside a running container's namespaces (for exec probes and
   * `vpcsim pod-exec`), with the container's environment.
   */
  execCommand(id: string, argv: readonly string[]): { file: string; args: string[]; env: Record<string, string> } {
    const r = this.#container(id);
    const status = r ? this.#status(r) : undefined;
    if (!r || !status || status.state !== "running" || !r.main) throw new Error(`container "${id}" is not running`);
    const { image } = this.pullImage(r.config.image);
    const program = resolveProgram(image, argv[0] ?? "", r.config.env["PATH"] ?? "");
    return { file: "nsenter", args: [`--target=${r.main.pid}`, "--net", "--pid", "--mount", "--uts", "--ipc", "--", program, ...argv.slice(1)], env: r.config.env };
  }

  /** ExecSync: runs argv in the container, bounded by timeoutMs (exit code 124 style on timeout). */
  execSync(id: string, argv: readonly string[], timeoutMs: number): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> {
    const { file, args, env } = this.execCommand(id, argv);
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c));
      child.stderr.on("data", (c: Buffer) => (stderr += c));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, sig) => {
        clearTimeout(timer);
        resolve({ exitCode: code ?? 128 + (sig === "SIGKILL" ? 9 : 15), stdout, stderr, timedOut });
      });
    });
  }
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function writeAtomic(file: string, text: string) {
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, text, { mode: 0o600 });
  renameSync(staging, file);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(" ")}: ${stderr.trim() || `exit ${code}`}`))));
  });
}

async function deleteNetns(name: string): Promise<void> {
  try {
    await run("ip", ["netns", "del", name]);
  } catch (err) {
    if (!/No such file or directory/.test((err as Error).message)) throw err;
  }
}
