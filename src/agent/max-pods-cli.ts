// `vpc-cni-agent max-pods`: prints the max pods of an instance type, for kubelet's --max-pods.
// Exit codes: 0 with the number on stdout; 1 when it cannot be computed (unknown type, unknown vCPUs);
// 2 for a usage error.

import { parseArgs } from "node:util";
import { maxPods } from "./max-pods.ts";

export const MAX_PODS_USAGE = `Usage: vpc-cni-agent max-pods --instance-type TYPE [options]

Prints the maximum number of pods for an instance type: ENIs x (IPv4 per ENI - 1) + 2, or with
prefix delegation ENIs x ((IPv4 per ENI - 1) x 16) + 2 (Nitro and bare metal only), capped at the
recommended 110 (up to 30 vCPUs) or 250 (more than 30 vCPUs). With --ipv6 (ENABLE_IPv6), one /80
prefix serves every pod, so the recommended cap alone is the answer (Nitro and bare metal only).

Options:
  --instance-type TYPE   EC2 instance type, e.g. m5.large (required)
  --prefix-delegation    ENABLE_PREFIX_DELEGATION is on
  --custom-networking    AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG is on (the primary ENI gets no pods)
  --ipv6                 ENABLE_IPv6 is on (implies prefix delegation; not with --custom-networking)
  --max-eni N            MAX_ENI: use at most N ENIs
  --cpus N               the instance's vCPUs (otherwise estimated from the type's name)
  --show-max-allowed     print the uncapped maximum
  -h, --help             print this help
`;

export type Output = { write(text: string): unknown };

/** Runs the subcommand with its arguments (after "max-pods"); returns the exit code. */
export function runMaxPodsCli(args: readonly string[], stdout: Output, stderr: Output): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        "instance-type": { type: "string" },
        "prefix-delegation": { type: "boolean" },
        "custom-networking": { type: "boolean" },
        ipv6: { type: "boolean" },
        "show-max-allowed": { type: "boolean" },
        "max-eni": { type: "string" },
        cpus: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return usageError(stderr, (error as Error).message);
  }
  const options = parsed.values;
  if (options.help) {
    stdout.write(MAX_PODS_USAGE);
    return 0;
  }
  const instanceType = options["instance-type"];
  if (instanceType === undefined || instanceType === "") return usageError(stderr, "--instance-type is required");
  const cpus = positiveInteger(options.cpus);
  if (cpus === null) return usageError(stderr, `--cpus takes a whole number ≥ 1, not ${JSON.stringify(options.cpus)}`);
  const maxEni = positiveInteger(options["max-eni"]);
  if (maxEni === null) return usageError(stderr, `--max-eni takes a whole number ≥ 1, not ${JSON.stringify(options["max-eni"])}`);

  if (options.ipv6 && options["custom-networking"]) return usageError(stderr, "--ipv6 and --custom-networking exclude each other (custom networking is IPv4 only)");
  const result = maxPods({
    instanceType,
    ipv6: options.ipv6 === true,
    prefixDelegation: options["prefix-delegation"] === true || options.ipv6 === true,
    customNetworking: options["custom-networking"] === true,
    showMaxAllowed: options["show-max-allowed"] === true,
    ...(cpus === undefined ? {} : { cpus }),
    ...(maxEni === undefined ? {} : { maxEni }),
  });
  if (!result.ok) {
    stderr.write(`vpc-cni-agent max-pods: ${result.error}\n`);
    return 1;
  }
  for (const note of result.notes) stderr.write(`vpc-cni-agent max-pods: note: ${note}\n`);
  stdout.write(`${result.maxPods}\n`);
  return 0;
}

/** undefined when absent, null when not a whole number ≥ 1. */
function positiveInteger(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? Number(text) : null;
}

function usageError(stderr: Output, message: string): number {
  stderr.write(`vpc-cni-agent max-pods: ${message}\nRun "vpc-cni-agent max-pods --help" for usage.\n`);
  return 2;
}

if (import.meta.main) {
  process.exitCode = runMaxPodsCli(process.argv.slice(2), process.stdout, process.stderr);
}
