// Builds the aws-node image (localhost/vpc-cni:<version>) with podman, offline: no base image is pulled.
// The root filesystem is assembled from this machine (Debian 12) and this checkout, then
// deploy/image/Containerfile copies it into an image FROM scratch:
//   /usr/local/bin/node                 the project's pinned Node.js 24
//   /app/                               the agent's bundle dist/agent/ (only what it imports, the SDK and
//                                       Kubernetes client included: no src/, no node_modules), data/ and
//                                       dist/vpc-cni, dist/egress-cni (the plugins), all from npm run build
//   /app/vpc-cni-agent, /app/vpc-cni-init, /app/vpc-cni   the entry points the DaemonSet names
//   /usr/lib/cni/{loopback,portmap,bandwidth,tuning}  Debian's containernetworking-plugins, for the init container
//   iptables (legacy and nft), ip, sysctl, nft, with their shared libraries and xtables modules
// podman runs with a private configuration and storage under a temporary directory (never
// /etc/containers); the image and storage are removed at the end unless --save or --keep says otherwise.
//
// Usage: node scripts/build-image.ts [--rootfs DIR] [--test] [--save FILE] [--keep]
//   --rootfs DIR  only assemble the root filesystem into DIR (no podman)
//   --test        run the image's entry points in containers after the build
//   --save FILE   write the image as an OCI archive (ctr -n k8s.io images import FILE; podman load -i FILE)
//   --keep        keep the private podman storage and print how to use it

import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
export const IMAGE = `localhost/vpc-cni:${VERSION}`;

const CHAINED_PLUGINS = ["loopback", "portmap", "bandwidth", "tuning"];
// flock: the agent locks its state directory with it (src/agent/state-lock.ts).
const TOOLS = ["/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi", "/usr/bin/ip", "/usr/sbin/sysctl", "/usr/sbin/nft", "/usr/bin/flock"];
const IPTABLES_NAMES = ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"];
const XTABLES_MODULES = "/usr/lib/x86_64-linux-gnu/xtables";
const HOST_FILES = ["/etc/protocols", "/etc/services", "/etc/ethertypes"];
const HOST_DIRS = ["/usr/share/iproute2", "/etc/iproute2"];

function fail(message: string): never {
  process.stderr.write(`build-image: ${message}\n`);
  process.exit(1);
}

/** The shared libraries an ELF file needs (and the dynamic loader), as ldd resolves them. */
function sharedLibraries(file: string): string[] {
  const r = spawnSync("ldd", [file], { encoding: "utf8" });
  if (r.status !== 0) {
    if (/not a dynamic executable|statically linked/.test(r.stdout + r.stderr)) return [];
    fail(`ldd ${file}: ${r.stderr.trim()}`);
  }
  const libs: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** Copies a host file into the root filesystem at its canonical path (directories resolved), content of its target. */
function copyHostFile(rootfs: string, file: string, mode?: number): string {
  const canonical = join(realpathSync(dirname(file)), basename(file));
  const dest = join(rootfs, canonical);
  mkdirSync(dirname(dest), { recursive: true });
  if (!existsSync(dest)) {
    copyFileSync(realpathSync(file), dest);
    if (mode !== undefined) chmodSync(dest, mode);
  }
  return canonical;
}

function copyWithLibraries(rootfs: string, file: string, done: Set<string>): void {
  const stack = [file];
  while (stack.length > 0) {
    const f = stack.pop() as string;
    if (done.has(f)) continue;
    done.add(f);
    copyHostFile(rootfs, f, statSync(realpathSync(f)).mode & 0o777);
    for (const lib of sharedLibraries(f)) if (!done.has(lib)) stack.push(lib);
  }
}

function link(rootfs: string, path: string, target: string): void {
  const at = join(rootfs, path);
  mkdirSync(dirname(at), { recursive: true });
  rmSync(at, { force: true });
  symlinkSync(target, at);
}

function launcher(rootfs: string, path: string, body: string, nodeFlag?: string): void {
  // The kernel runs "#!" files itself: the image needs no shell (and passes it at most one argument).
  writeFileSync(join(rootfs, path), `#!/usr/local/bin/node${nodeFlag === undefined ? "" : ` ${nodeFlag}`}\n// ${basename(path)}, with the image's Node.js.\n${body}\n`, { mode: 0o755 });
}

export function assembleRootfs(rootfs: string): void {
  const plugin = join(ROOT, "dist", "vpc-cni");
  if (!existsSync(plugin)) fail(`${plugin} is missing: build the plugin first (npm run build)`);
  rmSync(rootfs, { recursive: true, force: true });
  for (const d of ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/local/bin", "etc", "run", "tmp", "proc", "sys", "dev", "root", "app"]) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777);
  // Debian's merged /usr, so the paths ldd reports (/lib/..., /lib64/...) resolve inside too.
  for (const [at, to] of [["bin", "usr/bin"], ["sbin", "usr/sbin"], ["lib", "usr/lib"], ["lib64", "usr/lib64"], ["var/run", "../run"]] as const) link(rootfs, at, to);
  writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/usr/sbin/nologin\n");
  writeFileSync(join(rootfs, "etc/group"), "root:x:0:\n");
  for (const f of HOST_FILES) if (existsSync(f)) copyHostFile(rootfs, f);
  for (const d of HOST_DIRS) if (existsSync(d)) cpSync(realpathSync(d), join(rootfs, realpathSync(d)), { recursive: true, dereference: true });

  const done = new Set<string>();
  const node = realpathSync(join(ROOT, "node_modules", ".bin", "node"));
  for (const lib of sharedLibraries(node)) copyWithLibraries(rootfs, lib, done);
  copyFileSync(node, join(rootfs, "usr/local/bin/node"));
  chmodSync(join(rootfs, "usr/local/bin/node"), 0o755);

  for (const tool of TOOLS) {
    if (!existsSync(tool)) fail(`${tool} is missing on this machine (scripts/setup installs iproute2, iptables, nftables, procps)`);
    copyWithLibraries(rootfs, tool, done);
  }
  for (const mod of readdirSync(XTABLES_MODULES).filter((f) => f.endsWith(".so"))) copyWithLibraries(rootfs, join(XTABLES_MODULES, mod), done);
  // One directory of iptables* names per backend (the agent's entry puts the node's first on PATH);
  // the plain names are nft's, for an operator exec'ing into the container.
  for (const backend of ["nft", "legacy"]) {
    for (const name of IPTABLES_NAMES) link(rootfs, `usr/local/lib/vpc-cni/iptables-${backend}/${name}`, `/usr/sbin/xtables-${backend}-multi`);
  }
  for (const name of IPTABLES_NAMES) link(rootfs, `usr/sbin/${name}`, "xtables-nft-multi");
  for (const p of CHAINED_PLUGINS) {
    const file = `/usr/lib/cni/${p}`;
    if (!existsSync(file)) fail(`${file} is missing (scripts/setup installs containernetworking-plugins)`);
    copyWithLibraries(rootfs, file, done);
  }

  const app = join(rootfs, "app");
  cpSync(join(ROOT, "data"), join(app, "data"), { recursive: true });
  mkdirSync(join(app, "dist"));
  // The agent's bundle, at the same depth below /app as below the checkout (it finds data/ and the
  // plugins by their paths relative to itself); only the files of the current build, no metafile.
  const bundle = join(ROOT, "dist", "agent");
  if (!existsSync(join(bundle, "meta.json"))) fail(`${bundle} is missing: build the agent's bundle first (npm run build)`);
  mkdirSync(join(app, "dist", "agent"));
  for (const out of Object.keys((JSON.parse(readFileSync(join(bundle, "meta.json"), "utf8")) as { outputs: Record<string, unknown> }).outputs)) copyFileSync(join(bundle, basename(out)), join(app, "dist", "agent", basename(out)));
  copyFileSync(plugin, join(app, "dist", "vpc-cni"));
  chmodSync(join(app, "dist", "vpc-cni"), 0o755);
  // egress-cni, which the agent installs beside vpc-cni (the conflist chains it after vpc-cni).
  const egress = join(ROOT, "dist", "egress-cni");
  if (!existsSync(egress)) fail(`${egress} is missing: build the plugins first (npm run build)`);
  copyFileSync(egress, join(app, "dist", "egress-cni"));
  chmodSync(join(app, "dist", "egress-cni"), 0o755);
  link(rootfs, "app/vpc-cni", "dist/vpc-cni");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: pkg["name"], version: pkg["version"], license: pkg["license"], private: true, type: "module" }, null, 2) + "\n");
  // A 1 MiB young generation, as bin/vpc-cni-agent runs it (MALLOC_ARENA_MAX=1 is the Containerfile's).
  launcher(rootfs, "app/vpc-cni-agent", 'await import("/app/dist/agent/vpc-cni-agent-image.mjs");', "--max-semi-space-size=1");
  launcher(rootfs, "app/vpc-cni-init", 'await import("/app/dist/agent/vpc-cni-init.mjs");');
}

// ---------------------------------------------------------------------------------------------------
// podman, privately configured.

export interface Podman {
  readonly dir: string;
  run(args: string[], options?: { input?: string; allowFailure?: boolean }): { status: number; stdout: string; stderr: string };
}

function hardLimit(flag: string): string {
  const r = spawnSync("sh", ["-c", `ulimit ${flag}`], { encoding: "utf8" });
  const value = r.stdout.trim();
  return value === "unlimited" ? "-1" : /^\d+$/.test(value) ? value : "1024";
}

export function privatePodman(): Podman {
  const dir = mkdtempSync(join(tmpdir(), "vpc-cni-podman-"));
  for (const d of ["tmp", "run", "storage"]) mkdirSync(join(dir, d));
  writeFileSync(join(dir, "containers.conf"), [
    // This sandbox may not raise rlimits (no CAP_SYS_RESOURCE): containers get the ones it has.
    "[containers]", 'netns = "none"', 'log_driver = "k8s-file"', `default_ulimits = ["nofile=${hardLimit("-Hn")}:${hardLimit("-Hn")}", "nproc=${hardLimit("-Hu")}:${hardLimit("-Hu")}"]`,
    "[engine]", 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${dir}/events.log"`, 'runtime = "runc"', `tmp_dir = "${dir}/tmp"`,
    "[network]", 'network_backend = "cni"', `network_config_dir = "${dir}/net.d"`,
  ].join("\n") + "\n");
  writeFileSync(join(dir, "storage.conf"), ["[storage]", 'driver = "vfs"', `runroot = "${dir}/run"`, `graphroot = "${dir}/storage"`].join("\n") + "\n");
  writeFileSync(join(dir, "registries.conf"), "unqualified-search-registries = []\n");
  writeFileSync(join(dir, "policy.json"), JSON.stringify({ default: [{ type: "reject" }], transports: { "containers-storage": { "": [{ type: "insecureAcceptAnything" }] }, "oci-archive": { "": [{ type: "insecureAcceptAnything" }] } } }));
  const env = { ...process.env, CONTAINERS_CONF: join(dir, "containers.conf"), CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"), CONTAINERS_REGISTRIES_CONF: join(dir, "registries.conf"), TMPDIR: join(dir, "tmp") };
  return {
    dir,
    run(args, options = {}) {
      const r = spawnSync("podman", args, { env, encoding: "utf8", input: options.input ?? "", maxBuffer: 64 * 1024 * 1024 });
      const out = { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? (r.error?.message ?? "") };
      if (out.status !== 0 && !options.allowFailure) throw new Error(`podman ${args.join(" ")}: exit ${out.status}: ${out.stderr.trim()}`);
      return out;
    },
  };
}

export function buildImage(podman: Podman, rootfs: string): void {
  const context = dirname(rootfs);
  copyFileSync(join(ROOT, "deploy", "image", "Containerfile"), join(context, "Containerfile"));
  podman.run(["build", "--signature-policy", join(podman.dir, "policy.json"), "--pull=never", "--network=none", "--build-arg", `VERSION=${VERSION}`, "-t", IMAGE, "-f", join(context, "Containerfile"), context]);
}

/** How the checks run a command in the image: podman run, or chroot into the assembled root filesystem. */
export interface ImageExec {
  /** Runs argv inside; `binDir` is a host directory to mount at /host/opt/cni/bin; `netAdmin` adds NET_ADMIN and NET_RAW. */
  run(argv: string[], options?: { input?: string; env?: Record<string, string>; binDir?: string; netAdmin?: boolean }): { status: number; stdout: string; stderr: string };
  /** A host directory for the init container's bin dir mount. */
  scratchDir(): string;
}

/** Runs the image's entry points as the DaemonSet does; throws on the first that does not work. */
export function imageChecks(exec: ImageExec): string[] {
  const results: string[] = [];
  const check = (what: string, ok: boolean, detail: string) => {
    if (!ok) throw new Error(`image check: ${what}: ${detail}`);
    results.push(`ok: ${what}`);
  };
  const version = exec.run(["/app/vpc-cni-agent", "--version"]);
  check("/app/vpc-cni-agent --version", version.stdout.trim() === VERSION, version.stdout + version.stderr);
  const maxPods = exec.run(["/app/vpc-cni-agent", "max-pods", "--instance-type", "m5.large"]);
  check("/app/vpc-cni-agent max-pods (instance table in /app/data)", /\b29\b/.test(maxPods.stdout), maxPods.stdout + maxPods.stderr);
  const bin = exec.scratchDir();
  // No instance metadata here: the init container installs the plugins, then stops at the node's
  // sysctls, which need the primary ENI's MAC (test/ and vpcsim's nodes cover that part).
  const init = exec.run(["/app/vpc-cni-init"], { binDir: bin, env: { HOST_CNI_BIN_PATH: "/host/opt/cni/bin" } });
  check(`/app/vpc-cni-init installs ${CHAINED_PLUGINS.join(", ")} into the mounted bin dir`, readdirSync(bin).sort().join(",") === [...CHAINED_PLUGINS].sort().join(","), `${readdirSync(bin).join(",")} ${init.stderr}`);
  check("/app/vpc-cni-init then asks instance metadata for the primary ENI", init.status === 1 && /cannot read the primary ENI's MAC from instance metadata/.test(init.stderr), `exit ${init.status}: ${init.stderr}`);
  const cni = exec.run(["/app/vpc-cni"], { input: '{"cniVersion":"1.0.0"}', env: { CNI_COMMAND: "VERSION" } });
  check("/app/vpc-cni answers CNI VERSION", /"supportedVersions"/.test(cni.stdout), cni.stdout + cni.stderr);
  for (const backend of ["nft", "legacy"]) {
    const save = exec.run([`/usr/local/lib/vpc-cni/iptables-${backend}/iptables-save`, "-t", "nat"], { netAdmin: true });
    check(`iptables-save (${backend}) reads the tables`, save.status === 0, save.stderr);
    const restore = exec.run([`/usr/local/lib/vpc-cni/iptables-${backend}/iptables-restore`, "--noflush", "--test"], {
      netAdmin: true,
      input: '*nat\n:AWS-SNAT-CHAIN-0 - [0:0]\n-A AWS-SNAT-CHAIN-0 -d 10.0.0.0/16 -m comment --comment "AWS SNAT CHAIN" -j RETURN\nCOMMIT\n',
    });
    check(`iptables-restore (${backend}) parses the agent's rules (comment and nat modules load)`, restore.status === 0, restore.stderr);
  }
  const ip = exec.run(["/usr/bin/ip", "-j", "link", "show", "lo"]);
  check("ip shows links", /"ifname":"lo"/.test(ip.stdout), ip.stdout + ip.stderr);
  const sysctl = exec.run(["/usr/sbin/sysctl", "-n", "net.ipv4.ip_forward"]);
  check("sysctl reads the network namespace's settings", /^[01]$/.test(sysctl.stdout.trim()), sysctl.stdout + sysctl.stderr);
  return results;
}

export function podmanExec(podman: Podman): ImageExec {
  return {
    run(argv, options = {}) {
      const args = ["run", "--rm", "--network=none", ...(options.input === undefined ? [] : ["-i"])];
      for (const [k, v] of Object.entries(options.env ?? {})) args.push("-e", `${k}=${v}`);
      if (options.binDir) args.push("-v", `${options.binDir}:/host/opt/cni/bin`);
      if (options.netAdmin) args.push("--cap-add=NET_ADMIN", "--cap-add=NET_RAW");
      return podman.run([...args, IMAGE, ...argv], { allowFailure: true, ...(options.input === undefined ? {} : { input: options.input }) });
    },
    scratchDir: () => mkdtempSync(join(podman.dir, "cni-bin-")),
  };
}

/**
 * The same checks without podman: in the assembled root filesystem by chroot, in fresh network, mount
 * and PID namespaces (unshare), so iptables sees an empty namespace of its own, never the machine's.
 */
export function chrootExec(rootfs: string): ImageExec {
  return {
    run(argv, options = {}) {
      // The mount lives in the private mount namespace: it is gone when the command ends.
      if (options.binDir) mkdirSync(join(rootfs, "host/opt/cni/bin"), { recursive: true });
      const bind = options.binDir ? `mount --bind ${JSON.stringify(options.binDir)} ${JSON.stringify(join(rootfs, "host/opt/cni/bin"))} && ` : "";
      const script = `${bind}exec chroot "$0" "$@"`;
      const r = spawnSync("unshare", ["--net", "--mount", "--pid", "--fork", `--mount-proc=${join(rootfs, "proc")}`, "sh", "-c", script, rootfs, ...argv], {
        encoding: "utf8",
        input: options.input ?? "",
        env: { PATH: "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...(options.env ?? {}) },
      });
      return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
    },
    scratchDir: () => mkdtempSync(join(tmpdir(), "vpc-cni-image-bin-")),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rootfs: { type: "string" }, test: { type: "boolean", default: false }, save: { type: "string" }, keep: { type: "boolean", default: false } } });
  if (values.rootfs !== undefined) {
    assembleRootfs(resolve(values.rootfs));
    process.stdout.write(`assembled ${resolve(values.rootfs)}\n`);
    return;
  }
  if (spawnSync("podman", ["--version"]).status !== 0) fail("podman is not installed (scripts/setup installs it)");
  if (process.getuid?.() !== 0) fail("needs root (podman with vfs storage and runc, as scripts/setup sets it up)");
  const podman = privatePodman();
  const rootfs = join(podman.dir, "context", "rootfs");
  let keep = values.keep;
  try {
    const t0 = Date.now();
    assembleRootfs(rootfs);
    const t1 = Date.now();
    buildImage(podman, rootfs);
    const t2 = Date.now();
    const size = podman.run(["image", "inspect", "--format", "{{.Size}}", IMAGE]).stdout.trim();
    process.stdout.write(`built ${IMAGE} (${Math.round(Number(size) / 1048576)} MiB; root filesystem ${((t1 - t0) / 1000).toFixed(1)} s, podman build ${((t2 - t1) / 1000).toFixed(1)} s)\n`);
    if (values.test) for (const line of imageChecks(podmanExec(podman))) process.stdout.write(`${line}\n`);
    if (values.save !== undefined) {
      const file = resolve(values.save);
      rmSync(file, { force: true });
      podman.run(["save", "--format", "oci-archive", "-o", file, IMAGE]);
      process.stdout.write(`saved ${file} (load it with: ctr -n k8s.io images import ${file}, or podman load -i ${file})\n`);
    }
  } catch (err) {
    keep = false;
    process.stderr.write(`build-image: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    if (keep) {
      process.stdout.write(`kept the image in ${podman.dir}: CONTAINERS_CONF=${podman.dir}/containers.conf CONTAINERS_STORAGE_CONF=${podman.dir}/storage.conf podman images\n`);
    } else {
      podman.run(["rmi", "--force", IMAGE], { allowFailure: true });
      // vfs layers are plain directories; podman's own reset removes what rmi leaves.
      podman.run(["system", "reset", "--force"], { allowFailure: true });
      rmSync(podman.dir, { recursive: true, force: true });
    }
  }
}

if (import.meta.main) await main();
