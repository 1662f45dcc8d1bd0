// Runs a node's Runtime in a child process inside a test network namespace (as the kubelet runs in
// its node's namespace), driven by JSON lines on stdin: {"id":1,"method":"runPodSandbox","args":[...]}
// answers {"id":1,"ok":true,"value":...} or {"id":1,"ok":false,"error":{"name","kind","message"}}.

import { createInterface } from "node:readline";
import { Runtime, type RuntimeOptions } from "./runtime.ts";

const options = JSON.parse(process.argv[2]!) as RuntimeOptions;
const runtime = new Runtime(options);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const { id, method, args } = JSON.parse(line) as { id: number; method: string; args: unknown[] };
  void (async () => {
    try {
      let value: unknown;
      if (method === "pullAndCreate") {
        const [sandboxId, config] = args as [string, Parameters<Runtime["createContainer"]>[1]];
        value = runtime.createContainer(sandboxId, config, runtime.pullImage(config.image).image);
      } else if (method === "imageBin") {
        value = runtime.pullImage(args[0] as string).image.binDir;
      } else {
        value = await (runtime as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
      }
      process.stdout.write(JSON.stringify({ id, ok: true, value: value ?? null }) + "\n");
    } catch (err) {
      const e = err as Error & { kind?: string };
      process.stdout.write(JSON.stringify({ id, ok: false, error: { name: e.name, kind: e.kind, message: e.message } }) + "\n");
    }
  })();
});
lines.on("close", () => process.exit(0));
