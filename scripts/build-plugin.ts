// Builds the `vpc-cni` CNI plugin (and `egress-cni`, chained after it) as self-contained executables
// (dist/vpc-cni, dist/egress-cni): the plugin's code
// bundled by esbuild (only what it imports: no AWS SDK, no Kubernetes client), packed with V8's code
// cache into a copy of the project's pinned Node.js as a single executable application. Runtimes exec
// it from minimal environments (podman's cleanup runs with PATH and little else), so it must not
// depend on which `node` is on PATH, or on this checkout once installed.
//
// Usage: node scripts/build-plugin.ts [--out DIR]     (npm run build)

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const { values } = parseArgs({ options: { out: { type: "string", default: join(ROOT, "dist") } } });
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const work = join(out, ".build");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
/** Runs a build step, showing its output only if it fails (postject warns about ELF notes every time). */
function quiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
    process.stderr.write(`${e.stdout?.toString() ?? ""}${e.stderr?.toString() ?? ""}`);
    throw new Error(`build step failed: ${cmd} ${args.join(" ")}: ${e.message}`);
  }
}
/** One plugin: its entry bundled, then packed with the pinned Node.js as a single executable. */
function buildExecutable(name: string, entry: string): void {
  const bundle = join(work, `${name}.cjs`);
  const metafile = join(work, `${name}.meta.json`);
  execFileSync(bin("esbuild"), [
    join(ROOT, entry),
    "--bundle",
    "--platform=node",
    "--format=cjs",
    "--target=node24",
    "--minify",
    "--legal-comments=none",
    `--outfile=${bundle}`,
    `--metafile=${metafile}`,
    "--log-level=warning",
  ], { stdio: "inherit" });
  // Tests and their helpers (*.test.ts, *.test-support.ts) are never shipped: an import of one from
  // production code fails the build instead of growing the plugin.
  const testCode = Object.keys((JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, unknown> }).inputs).filter((input) => /\.test(-support)?\.ts$/.test(input));
  if (testCode.length > 0) throw new Error(`the ${name} bundle would ship test code: ${testCode.join(", ")}`);

  const seaConfig = join(work, `${name}.sea.json`);
  const blob = join(work, `${name}.sea.blob`);
  writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  const node = realpathSync(bin("node"));
  quiet(node, ["--experimental-sea-config", seaConfig]);

  const exe = join(work, name);
  copyFileSync(node, exe);
  quiet(bin("postject"), [exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);
  chmodSync(exe, 0o755);
  renameSync(exe, join(out, name));
  renameSync(bundle, join(out, `${name}.cjs`));
  const size = (statSync(join(out, `${name}.cjs`)).size / 1024).toFixed(0);
  process.stdout.write(`built ${join(out, name)} (plugin code ${size} KiB, bundled)\n`);
}

// vpc-cni, and egress-cni, the plugin chained after it for the pods' other address family.
buildExecutable("vpc-cni", "src/plugin/main.ts");
buildExecutable("egress-cni", "src/egress-cni/main.ts");
rmSync(work, { recursive: true, force: true });
