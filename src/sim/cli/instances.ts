// The commands about a run's instances: status, exec (a command inside one), launch, terminate.

import { spawn } from "node:child_process";
import { adminRequest } from "../admin-client.ts";
import { formatStatus, type RunStatus } from "../status.ts";
import type { RunPaths } from "../run-dir.ts";
import { childExit, parse, requireUp, RUN_OPTION, UsageError } from "./args.ts";

export async function status(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION, json: { type: "boolean", default: false } });
  const paths = requireUp(values.run);
  const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
  console.log(values.json ? JSON.stringify(state, null, 2) : formatStatus(state));
  return 0;
}

export async function findInstance(paths: RunPaths, ref: string) {
  const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
  const found = state.instances.find((i) => i.id === ref || i.name === ref);
  if (!found) {
    const known = state.instances.map((i) => i.name || i.id).join(", ") || "none";
    throw new UsageError(`no running instance '${ref}' in run '${paths.name}' (instances: ${known})`);
  }
  return { state, instance: found };
}

export const SDK_IDENTITY_VARIABLES =
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|PROFILE|DEFAULT_PROFILE|CONFIG_FILE|SHARED_CREDENTIALS_FILE|CREDENTIAL_EXPIRATION|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*|EC2_METADATA_.*|ENDPOINT_URL.*|REGION|DEFAULT_REGION|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT|IGNORE_CONFIGURED_ENDPOINT_URLS)$/;

export async function execInInstance(args: string[]): Promise<number> {
  const dashDash = args.indexOf("--");
  if (dashDash === -1) throw new UsageError("exec needs the command after --, e.g. vpcsim exec node-a -- ip addr");
  const { values, positionals } = parse(args.slice(0, dashDash), { ...RUN_OPTION }, true);
  const command = args.slice(dashDash + 1);
  if (positionals.length !== 1 || command.length === 0) throw new UsageError("usage: vpcsim exec INSTANCE -- COMMAND [ARGS...]");
  const paths = requireUp(values.run);
  const { state, instance } = await findInstance(paths, positionals[0]!);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The instance has its own identity: the caller's AWS credentials, profiles and endpoints must not
  // leak into it. Other AWS_* variables (aws-node's AWS_VPC_K8S_CNI_*, say) are configuration and pass.
  for (const key of Object.keys(env)) if (SDK_IDENTITY_VARIABLES.test(key)) delete env[key];
  Object.assign(env, {
    AWS_REGION: state.region,
    AWS_DEFAULT_REGION: state.region,
    AWS_ENDPOINT_URL_EC2: state.endpoints.ec2,
  });
  const child = spawn("ip", ["netns", "exec", instance.netns, ...command], { stdio: "inherit", env });
  // Like any wrapper a supervisor talks to: signals go to the command, and its fate is ours.
  return childExit(child);
}

export async function launch(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...RUN_OPTION, type: { type: "string" }, subnet: { type: "string" }, public: { type: "boolean", default: false } }, true);
  if (positionals.length !== 1 || !values.type || !values.subnet) throw new UsageError("usage: vpcsim launch NAME --type TYPE --subnet SUBNET [--public]");
  const paths = requireUp(values.run);
  const created = await adminRequest<{ id: string; privateIp: string; publicIp: string | null; ipv6: string | null }>(paths.adminSocket, "POST", "/instances", {
    name: positionals[0],
    type: values.type,
    subnet: values.subnet,
    public: values.public,
  });
  console.log(`${created.id} ${positionals[0]} ${[created.privateIp, created.publicIp, created.ipv6].filter((a) => a !== null).join(" ")}`);
  return 0;
}

export async function terminate(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...RUN_OPTION }, true);
  if (positionals.length !== 1) throw new UsageError("usage: vpcsim terminate INSTANCE");
  const paths = requireUp(values.run);
  const { instance } = await findInstance(paths, positionals[0]!);
  await adminRequest(paths.adminSocket, "DELETE", `/instances/${instance.id}`);
  console.log(`${instance.id} terminated`);
  return 0;
}
