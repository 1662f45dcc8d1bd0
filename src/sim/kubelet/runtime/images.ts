// The images vpcsim's nodes can run, mapped to programs on this machine (there is no registry and
// no image filesystem here). An image is known by its repository's last path component, whatever
// the registry and tag: users retag images for their registries. Each image says which of its paths
// are real programs (its "files") and its ENTRYPOINT and CMD; `pull` lays a node's copy out under
// the node's root (a bin dir of busybox applets and links to the files) as a real node's image store.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import { execFileSync } from "node:child_process";

export const BUSYBOX = "/bin/busybox";
const CHECKOUT = resolve(import.meta.dirname, "../../../..");
const IMAGES_DIR = resolve(import.meta.dirname, "../images");
/** The PATH of Docker's and containerd's default image config. */
export const DEFAULT_IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const APPLET_DIRS = ["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

export interface ImageSpec {
  /** The repository name it is known by (last path component). */
  repository: string;
  entrypoint: readonly string[];
  cmd: readonly string[];
  /** Image path -> program on this machine. */
  files: Readonly<Record<string, string>>;
  /** Whether busybox's applets are the image's /bin, /usr/bin, ... (busybox-based images). */
  busybox: boolean;
}

export interface ImageReference {
  /** As written in the pod spec. */
  text: string;
  registry: string;
  repository: string; // full path without registry
  name: string; // last component
  tag: string;
  digest: string;
}

/** Splits an image reference as the container runtimes' reference parser does (docker.io defaults). */
export function parseImageReference(text: string): ImageReference {
  const grammar = /^(?:([a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;
  const m = grammar.exec(text);
  if (m === null) throw new Error(`invalid reference format: "${text}"`);
  let registry = m[1] ?? "";
  let repository = m[2]!;
  // "foo/bar": foo is a registry only if it looks like a host (has a dot or a port, or is localhost).
  if (registry !== "" && !/[.:]/.test(registry) && registry !== "localhost") {
    repository = `${registry}/${repository}`;
    registry = "";
  }
  if (registry === "") {
    registry = "docker.io";
    if (!repository.includes("/")) repository = `library/${repository}`;
  }
  return { text, registry, repository, name: repository.split("/").pop()!, tag: m[3] ?? (m[4] ? "" : "latest"), digest: m[4] ?? "" };
}

function checkoutPrograms(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of existsSync(join(CHECKOUT, "bin")) ? readdirSync(join(CHECKOUT, "bin")) : []) files[`/app/${name}`] = join(CHECKOUT, "bin", name);
  return files;
}

/** The images vpcsim knows, by repository name. */
export function imageCatalogue(): Map<string, ImageSpec> {
  const specs: ImageSpec[] = [
    { repository: "agnhost", entrypoint: ["/agnhost"], cmd: [], files: { "/agnhost": join(IMAGES_DIR, "agnhost", "agnhost") }, busybox: true },
    { repository: "busybox", entrypoint: [], cmd: ["sh"], files: {}, busybox: true },
    { repository: "pause", entrypoint: ["/pause"], cmd: [], files: { "/pause": join(IMAGES_DIR, "pause", "pause") }, busybox: true },
    // This checkout's own image (deploy/image): /app/<name> is bin/<name>.
    { repository: "vpc-cni", entrypoint: [], cmd: [], files: checkoutPrograms(), busybox: false },
  ];
  return new Map(specs.map((s) => [s.repository, s]));
}

export class ImageNotFound extends Error {}

export function lookupImage(text: string, catalogue = imageCatalogue()): { ref: ImageReference; spec: ImageSpec } {
  const ref = parseImageReference(text);
  const spec = catalogue.get(ref.name);
  if (!spec) {
    const known = [...catalogue.keys()].join(", ");
    throw new ImageNotFound(
      `failed to pull and unpack image "${ref.registry}/${ref.repository}:${ref.tag || ref.digest}": failed to resolve reference "${text}": ${text}: not found (vpcsim runs images named ${known})`,
    );
  }
  return { ref, spec };
}

let applets: string[] | undefined;
function busyboxApplets(): string[] {
  applets ??= execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  return applets;
}

/** A node's copy of an image: its bin dir (put first on the container's PATH) and its files. */
export interface PulledImage {
  spec: ImageSpec;
  root: string;
  binDir: string | undefined;
  /** Resolves an image path to the program to exec, or undefined if the image has no such file. */
  program(imagePath: string): string | undefined;
}

/** Lays the image out under root (idempotent; concurrent pulls of one image do not collide). */
export function pullImage(spec: ImageSpec, imagesDir: string): PulledImage {
  const root = join(imagesDir, spec.repository);
  const binDir = spec.busybox ? join(root, "bin") : undefined;
  if (binDir && !existsSync(binDir)) {
    const staging = `${binDir}.${process.pid}.${Date.now()}`;
    mkdirSync(staging, { recursive: true });
    for (const applet of busyboxApplets()) symlinkSync(BUSYBOX, join(staging, applet));
    for (const [imagePath, program] of Object.entries(spec.files)) {
      const name = imagePath.split("/").pop()!;
      rmSync(join(staging, name), { force: true });
      symlinkSync(program, join(staging, name));
    }
    try {
      renameSync(staging, binDir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another pull won the race
    }
  }
  const appletSet = spec.busybox ? new Set(busyboxApplets()) : new Set<string>();
  return {
    spec,
    root,
    binDir,
    program(imagePath) {
      if (Object.hasOwn(spec.files, imagePath)) return binDir ? join(binDir, imagePath.split("/").pop()!) : spec.files[imagePath];
      const at = imagePath.lastIndexOf("/");
      const dir = imagePath.slice(0, at) || "/";
      const name = imagePath.slice(at + 1);
      if (binDir && APPLET_DIRS.includes(dir) && appletSet.has(name)) return join(binDir, name);
      return undefined;
    },
  };
}

/**
 * The program for argv[0] as the runtime resolves it in the image: an absolute path must be one of
 * the image's files; a bare name is searched along the container's PATH. Throws runc's message.
 */
export function resolveProgram(image: PulledImage, argv0: string, pathEnv: string): string {
  if (argv0.includes("/")) {
    const program = image.program(argv0.startsWith("/") ? argv0 : `/${argv0}`);
    if (program === undefined) throw new Error(`exec: "${argv0}": stat ${argv0}: no such file or directory`);
    return program;
  }
  for (const dir of pathEnv.split(":")) {
    if (dir === "") continue;
    const program = image.program(`${dir.replace(/\/$/, "")}/${argv0}`);
    if (program !== undefined) return program;
  }
  throw new Error(`exec: "${argv0}": executable file not found in $PATH`);
}
