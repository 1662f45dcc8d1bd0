// vpcsim: the command line of the local AWS VPC emulator. Each command is small: it validates its
// input, then talks to the run's daemon over the admin socket, or (up/down) starts and stops it.
// The commands live in cli/, one file per idea; the demo in demo/.

import { HELP } from "./cli/help.ts";
import { UsageError } from "./cli/args.ts";
import { up } from "./cli/up.ts";
import { down } from "./cli/run-lifecycle.ts";
import { execInInstance, launch, status, terminate } from "./cli/instances.ts";
import { faults } from "./cli/faults.ts";
import { calls } from "./cli/calls.ts";
import { kubeconfig, kubectl } from "./cli/kube.ts";
import { apply, deleteManifests } from "./cli/manifests.ts";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (!(command in HELP) || command === "main") throw new UsageError(`unknown command '${command}'; see vpcsim --help`);
  if (command !== "kubectl" && (rest.includes("--help") || rest.includes("-h"))) {
    const dashDash = rest.indexOf("--");
    const helpAt = rest.findIndex((a) => a === "--help" || a === "-h");
    if (dashDash === -1 || helpAt < dashDash) {
      console.log(HELP[command]);
      return 0;
    }
  }
  if (process.getuid?.() !== 0) {
    throw new Error("vpcsim needs root: it creates network namespaces, veths and nftables rules. Run it as root (e.g. sudo ./bin/vpcsim ...)");
  }
  switch (command) {
    case "up":
      return up(rest);
    case "status":
      return status(rest);
    case "exec":
      return execInInstance(rest);
    case "launch":
      return launch(rest);
    case "terminate":
      return terminate(rest);
    case "faults":
      return faults(rest);
    case "calls":
      return calls(rest);
    case "kubeconfig":
      return kubeconfig(rest);
    case "kubectl":
      return kubectl(rest);
    case "demo":
      return (await import("./demo/demo-command.ts")).demo(rest);
    case "apply":
      return apply(rest);
    case "delete":
      return deleteManifests(rest);
    case "down":
      return down(rest);
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`vpcsim: ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
