// Reading deploy/ as kubectl and the API server would, and the production code as its permissions
// are derived from it: the Kubernetes objects of every deploy/*.yaml, the IAM policy, and the EC2
// actions and Kubernetes calls found in the source by parsing it.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { parseAllDocuments } from "yaml";

export const ROOT = resolve(import.meta.dirname, "..");
export const DEPLOY = join(ROOT, "deploy");

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [key: string]: unknown };

export interface ManifestDocument {
  readonly file: string;
  readonly index: number;
  readonly object: KubeObject;
}

/** Every object of deploy/*.yaml (what `kubectl apply -f deploy/` applies: no subfolders). */
export function manifestDocuments(): ManifestDocument[] {
  const out: ManifestDocument[] = [];
  for (const name of readdirSync(DEPLOY).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = join(DEPLOY, name);
    const docs = parseAllDocuments(readFileSync(file, "utf8"));
    docs.forEach((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`${name} document ${index}: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object = doc.toJS({ maxAliasCount: 0 }) as KubeObject | null;
      if (object !== null) out.push({ file: name, index, object });
    });
  }
  return out;
}

export function findObject(kind: string, name: string): KubeObject {
  const found = manifestDocuments().find((d) => d.object.kind === kind && d.object.metadata?.name === name);
  if (!found) throw new Error(`deploy/ has no ${kind} ${name}`);
  return found.object;
}

/** The kubernetes-models module of an object's apiVersion and kind (Kubernetes 1.34's schemas). */
export function modelModule(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/**
 * Unknown fields: the JSON schemas allow them (kubectl apply refuses them), so each object is also
 * type-checked as an object literal of its model's interface, where TypeScript's excess-property
 * check names every field Kubernetes does not have. Returns the diagnostics, one line each.
 */
export function unknownFieldDiagnostics(docs: readonly ManifestDocument[]): string[] {
  const virtual = join(ROOT, "test", "__deploy-manifests-check.ts");
  // One line per object, so a diagnostic's line says which object it is about.
  const lines = docs.map((d, i) => `import type { I${d.object.kind} as T${i} } from "${modelModule(d.object.apiVersion, d.object.kind)}";`);
  const first = lines.length;
  docs.forEach((d, i) => lines.push(`export const doc${i}: T${i} = ${JSON.stringify(d.object)};`));
  const origin = (line: number) => {
    const d = docs[line - first];
    return d === undefined ? "?" : `${d.file} document ${d.index} (${d.object.kind} ${d.object.metadata?.name})`;
  };
  const text = lines.join("\n") + "\n";
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => (resolve(f) === virtual ? text : read(f));
  host.fileExists = (f) => resolve(f) === virtual || exists(f);
  host.getSourceFile = (f, v, onError, create) => (resolve(f) === virtual ? ts.createSourceFile(f, text, v, true) : getSource(f, v, onError, create));
  const program = ts.createProgram([virtual], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file && d.start !== undefined && resolve(d.file.fileName) === virtual) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `${origin(line)}: ${message}`;
    }
    return message;
  });
}

// ---------------------------------------------------------------------------------------------------
// The production code, parsed.

/** src/**.ts that ships: not vpcsim, not tests or their helpers. */
export function productionFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (relative(ROOT, path) !== join("src", "sim")) walk(path);
      } else if (entry.name.endsWith(".ts") && !isTestFile(entry.name)) {
        out.push(path);
      }
    }
  };
  walk(join(ROOT, "src"));
  return out.sort();
}

function isTestFile(name: string): boolean {
  return /\.test\.ts$|\.test-support\.ts$|\.fixture\.ts$|^(test-support|testing|fixtures|test-netns)\.ts$/.test(name);
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
}

function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  node.forEachChild((child) => visit(child, fn));
}

export interface Ec2Use {
  readonly action: string;
  readonly file: string;
}

/** The EC2 actions production code sends: every `new <Action>Command(` of an @aws-sdk/client-ec2 import. */
export function ec2ActionsInCode(files = productionFiles()): Ec2Use[] {
  const uses: Ec2Use[] = [];
  for (const file of files) {
    const source = parse(file);
    const commands = new Map<string, string>(); // local name -> imported name
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || (statement.moduleSpecifier as ts.StringLiteral).text !== "@aws-sdk/client-ec2") continue;
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          const imported = (el.propertyName ?? el.name).text;
          if (imported.endsWith("Command")) commands.set(el.name.text, imported);
        }
      }
      if (bindings && ts.isNamespaceImport(bindings)) throw new Error(`${relative(ROOT, file)}: import the EC2 commands by name, so the IAM check can see them`);
    }
    visit(source, (n) => {
      if (ts.isNewExpression(n) && ts.isIdentifier(n.expression)) {
        const imported = commands.get(n.expression.text);
        if (imported) uses.push({ action: imported.replace(/Command$/, ""), file: relative(ROOT, file) });
      }
    });
  }
  return uses;
}

/** Every `KUBE_API_CALLS.<name>` production code refers to, outside the declarations themselves. */
export function kubeCallsInCode(files = productionFiles()): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const file of files) {
    if (file.endsWith(join("src", "k8s", "api-calls.ts"))) continue;
    visit(parse(file), (n) => {
      if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "KUBE_API_CALLS") {
        const list = uses.get(n.name.text) ?? [];
        list.push(relative(ROOT, file));
        uses.set(n.name.text, list);
      }
    });
  }
  return uses;
}

/** Production files outside src/k8s that import the Kubernetes client (they would bypass the declared calls). */
export function kubeClientImportsOutsideK8s(files = productionFiles()): string[] {
  return files
    .filter((f) => !relative(ROOT, f).startsWith(join("src", "k8s") + "/"))
    .filter((f) => parse(f).statements.some((s) => ts.isImportDeclaration(s) && (s.moduleSpecifier as ts.StringLiteral).text.startsWith("@kubernetes/client-node")))
    .map((f) => relative(ROOT, f));
}
