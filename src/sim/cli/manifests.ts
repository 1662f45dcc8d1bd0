// `vpcsim apply -f FILE|DIR|-` and `vpcsim delete -f ...`: manifests read here (multi-document
// YAML or JSON, a List's items, a directory's *.yaml/*.yml/*.json), applied or deleted by the
// daemon with the in-process apply (see src/sim/cluster/manifest-commands.ts). Lines as kubectl
// prints them; exit 1 if any object failed.

import { readFileSync } from "node:fs";
import { adminRequest } from "../admin-client.ts";
import { loadManifests, parseManifests } from "../kube/apply.ts";
import type { KObject } from "../kube/objects.ts";
import { parse, requireUp, RUN_OPTION, UsageError } from "./args.ts";

function readObjects(files: string[]): KObject[] {
  if (files.length === 0) throw new UsageError("-f FILE is required (a file, a directory, or - for standard input)");
  const objects: KObject[] = [];
  for (const file of files) {
    try {
      objects.push(...(file === "-" ? parseManifests(readFileSync(0, "utf8"), "<stdin>") : loadManifests(file)));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new UsageError(e.code === "ENOENT" ? `the path "${file}" does not exist` : e.message);
    }
  }
  if (objects.length === 0) throw new UsageError(`no objects passed (${files.join(", ")} holds no Kubernetes object)`);
  return objects;
}

async function send(command: "apply" | "delete", args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...RUN_OPTION,
    filename: { type: "string", short: "f", multiple: true, default: [] },
    ...(command === "delete" ? { cascade: { type: "string", default: "background" } } : {}),
  });
  const cascade = (values as { cascade?: string }).cascade;
  if (cascade !== undefined && !["background", "foreground", "orphan"].includes(cascade)) throw new UsageError(`--cascade '${cascade}': background, foreground or orphan`);
  const objects = readObjects(values.filename);
  const paths = requireUp(values.run);
  const result = await adminRequest<{ lines: string[]; errors: string[] }>(paths.adminSocket, "POST", `/kube/${command}`, { objects, ...(cascade ? { cascade } : {}) }, 120_000);
  for (const line of result.lines) console.log(line);
  for (const line of result.errors) console.error(line);
  return result.errors.length > 0 ? 1 : 0;
}

export const apply = (args: string[]) => send("apply", args);
export const deleteManifests = (args: string[]) => send("delete", args);
