// Builds the node agent as an esbuild bundle of only what it imports (dist/agent/): the entry points
// the checkout and the image run, and chunks for what loads late (the Kubernetes client, the SDK's
// credential providers). Bundling is what lets the EC2 SDK's modular client shed the commands the
// agent never sends, and it spares Node.js resolving and compiling thousands of module files, which is
// most of the agent's start-up memory when it runs from source (docs/PERFORMANCE.md has the figures).
//   dist/agent/vpc-cni-agent.mjs        src/agent/main.ts (bin/vpc-cni-agent runs it)
//   dist/agent/vpc-cni-agent-image.mjs  src/image/agent-entry.ts's runAgentInImage (the image's /app/vpc-cni-agent)
//   dist/agent/vpc-cni-init.mjs         src/image/init.ts's runInit (the image's /app/vpc-cni-init)
// Every file is written flat into dist/agent/, two levels below the checkout (or /app in the image), so
// the paths production code finds beside itself (data/instance-types.tsv, dist/vpc-cni) resolve as
// they do from src/. The build goes to a staging directory whose files are renamed into place: agents
// starting while it runs see the old bundle or the new one, never half of one.
//
// Usage: node scripts/build-agent.ts [--out DIR] [--quiet]     (npm run build builds it with the plugin)

import { build, type Plugin } from "esbuild";
import ts from "typescript";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");

/** The executables' entry modules: each calls the program it names (src/ runs them by import.meta.main). */
export const AGENT_ENTRIES: Record<string, string> = {
  "vpc-cni-agent": `import ${JSON.stringify(join(ROOT, "src/agent/main.ts"))};`,
  "vpc-cni-agent-image": `import { runAgentInImage } from ${JSON.stringify(join(ROOT, "src/image/agent-entry.ts"))};\nawait runAgentInImage();`,
  "vpc-cni-init": `import { runInit } from ${JSON.stringify(join(ROOT, "src/image/init.ts"))};\nprocess.exitCode = await runInit(process.argv.slice(2), process.env, process.stdout, process.stderr);`,
};

/** Entry points as virtual modules, so no file in src/ exists only for the bundler. */
const entries: Plugin = {
  name: "vpc-cni-entries",
  setup(b) {
    b.onResolve({ filter: /^entry:/ }, (args) => ({ path: args.path.slice("entry:".length), namespace: "entry" }));
    b.onLoad({ filter: /.*/, namespace: "entry" }, (args) => ({ contents: AGENT_ENTRIES[args.path]!, loader: "ts", resolveDir: ROOT }));
  },
};

/**
 * node:http and node:https through require(), never as ES module imports: importing them as ES modules
 * makes Node.js build their module namespace, which reads every export, lazy ones included, and so
 * loads and compiles Node.js's built-in undici (`fetch`) that the agent never uses: 13 MiB of RSS
 * (measured: `import { request } from "node:http"` 58.6 MiB, require("node:http") 45.2 MiB).
 */
const builtinsByRequire: Plugin = {
  name: "vpc-cni-builtins-by-require",
  setup(b) {
    // The module's own require() of the built-in is left to esbuild (external, at run time).
    b.onResolve({ filter: /^(node:)?https?$/ }, (args) => (args.namespace === "builtin-by-require" ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ""), namespace: "builtin-by-require" }));
    b.onLoad({ filter: /.*/, namespace: "builtin-by-require" }, (args) => ({ contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`, loader: "js" }));
  },
};

/** Chunks an agent still running may load late (they are named by their content) stay this long. */
const OLD_CHUNK_MS = 3_600_000;

/**
 * Moves the new files in one by one, chunks before the entries that import them; an agent running
 * from the previous build keeps the chunks it may still import, until they are an hour old.
 */
function install(staging: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const fresh = readdirSync(staging);
  const last = new Set([...Object.keys(AGENT_ENTRIES).map((n) => `${n}.mjs`), "meta.json"]);
  for (const f of [...fresh.filter((f) => !last.has(f)), ...fresh.filter((f) => last.has(f))]) renameSync(join(staging, f), join(dir, f));
  for (const f of readdirSync(dir)) {
    if (!fresh.includes(f) && Date.now() - statSync(join(dir, f)).mtimeMs > OLD_CHUNK_MS) rmSync(join(dir, f), { force: true });
  }
}

/**
 * The EC2 SDK's schemas (one module, the shapes of all ~750 EC2 operations: 1 MB of code, most of the
 * agent's memory once evaluated) are array literals whose object members have computed keys, which
 * esbuild must assume may run code, so it keeps every one. Each top-level array or object literal is
 * side-effect free (strings, numbers, arrays, objects keyed by string constants, arrows), so the
 * build marks each one /* @__PURE__ *\/ and esbuild keeps only those reachable from the commands the
 * agent imports. The package itself is not changed, only this bundle's copy of it loses what no
 * command of ours references.
 */
const pureSdkSchemas: Plugin = {
  name: "vpc-cni-pure-sdk-schemas",
  setup(b) {
    b.onLoad({ filter: /[\\/]@aws-sdk[\\/]client-ec2[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ }, async (args) => {
      const text = readFileSync(args.path, "utf8");
      return { contents: markPureLiterals(ts, text, args.path), loader: "js" };
    });
  },
};

/** Wraps each top-level `var|let|const X = [..] | {..}` initializer in a pure IIFE; exported for its test. */
export function markPureLiterals(tsc: typeof ts, text: string, fileName: string): string {
  const file = tsc.createSourceFile(fileName, text, tsc.ScriptTarget.ESNext, false, tsc.ScriptKind.JS);
  const edits: { at: number; insert: string }[] = [];
  for (const statement of file.statements) {
    if (!tsc.isVariableStatement(statement)) continue;
    for (const d of statement.declarationList.declarations) {
      const init = d.initializer;
      if (init === undefined || !(tsc.isArrayLiteralExpression(init) || tsc.isObjectLiteralExpression(init))) continue;
      edits.push({ at: init.getStart(file), insert: "/* @__PURE__ */ (() => (" }, { at: init.end, insert: "))()" });
    }
  }
  if (edits.length === 0) throw new Error(`${fileName}: no schema literals found: has the SDK's layout changed?`);
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.at);
  return out;
}

export async function buildAgent(outDir: string): Promise<{ dir: string; files: number; bytes: number }> {
  const dir = resolve(outDir);
  mkdirSync(resolve(dir, ".."), { recursive: true });
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const result = await build({
      entryPoints: Object.keys(AGENT_ENTRIES).map((name) => ({ in: `entry:${name}`, out: name })),
      plugins: [entries, pureSdkSchemas, builtinsByRequire],
      bundle: true,
      splitting: true,
      platform: "node",
      format: "esm",
      target: "node24",
      // The SDK's ES modules (dist-es), which esbuild can tree-shake; dist-cjs is one file per package.
      mainFields: ["module", "main"],
      outdir: staging,
      outExtension: { ".js": ".mjs" },
      chunkNames: "[name]-[hash]",
      minifySyntax: true,
      minifyWhitespace: true,
      legalComments: "none",
      metafile: true,
      logLevel: "warning",
      // src/ runs modules as programs when `import.meta.main`; inside a bundle every module would see
      // the bundle's own (true), so the entries above call the programs instead.
      define: { "import.meta.main": "false" },
      // CommonJS dependencies (pino, prom-client) require Node's built-ins at run time.
      banner: { js: 'import { createRequire as __vpcCniCreateRequire } from "node:module"; const require = __vpcCniCreateRequire(import.meta.url);' },
    });
    // Tests and their helpers are never shipped: importing one from production code fails the build.
    const testCode = Object.keys(result.metafile.inputs).filter((input) => /\.test(-support)?\.ts$|(^|\/)src\/sim\//.test(input));
    if (testCode.length > 0) throw new Error(`the agent bundle would ship test or emulator code: ${testCode.join(", ")}`);
    writeFileSync(join(staging, "meta.json"), JSON.stringify(result.metafile));
    install(staging, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const files = Object.keys(JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")).outputs as object).map((f) => basename(f));
  return { dir, files: files.length, bytes: files.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string", default: join(ROOT, "dist", "agent") }, quiet: { type: "boolean", default: false } } });
  const built = await buildAgent(values.out);
  for (const path of ["../../data/instance-types.tsv"]) {
    if (!existsSync(resolve(built.dir, path))) throw new Error(`${resolve(built.dir, path)} is missing: the bundle must sit two levels below the checkout`);
  }
  if (!values.quiet) process.stdout.write(`built ${built.dir} (${built.files} files, ${(built.bytes / 1024).toFixed(0)} KiB, bundled)\n`);
}
