// vpcsim: the command line of the local AWS VPC emulator. Each command is small: it validates its
// input, then talks to the run's daemon over the admin socket, or (up/down) starts and stops it.

import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, existsSync, closeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { adminRequest } from "./admin-client.ts";
import { checkRunName, listRuns, livePid, resolveRunName, runPaths, NAMESPACE_PREFIX, type RunPaths } from "./run-dir.ts";
import { formatStatus, type RunStatus } from "./status.ts";
import { defaultTopology, topologyFromFlags, validateTopology, type Topology } from "./topology.ts";
import { isProfileName, PROFILE_NAMES } from "./profiles.ts";
import { loadInstanceTypes } from "./ec2/instance-types.ts";
import { cleanupByPrefix, routerNetnsName } from "./fabric/fabric.ts";
import { kubeconfigPath, leadingRun, runKubectl, startKubeForwarder, stopKubeAccess, writeAdminKubeconfig } from "./cli-kube.ts";

const HELP: Record<string, string> = {
  main: `vpcsim: a local AWS VPC (EC2 API, instance metadata, kernel datapath) for developing and testing vpc-cni.

Usage: vpcsim COMMAND [options]

Commands:
  up         create a VPC with subnets and instances, and start the emulator
  status     show the run's VPC, subnets, instances, ENIs and addresses
  exec       run a command inside an instance, with the AWS endpoint environment set
  launch     add an instance to a running VPC
  terminate  terminate an instance
  faults     inject or clear faults (throttling, 5xx, timeouts, slow attaches, address exhaustion)
  calls      show the EC2 call log
  kubeconfig print the path of the run's kubeconfig (its Kubernetes API, as kubernetes-admin)
  kubectl    run kubectl against the run's Kubernetes API
  down       tear a run down (--all: every run, and whatever crashed runs left behind)

Every command takes --help. vpcsim needs root: it creates network namespaces.
Runs are named (--run NAME, or $VPCSIM_RUN); with one run up, commands find it themselves.`,
  up: `Usage: vpcsim up [--run NAME] [--profile instant|realistic] [--topology FILE | topology flags] [--kubelets] [--json]

Creates the VPC, its subnets and instances, starts the emulator and prints the run's state.

  --run NAME          name of the run (1-12 lower-case letters/digits; default: default)
  --profile P         instant (default: EC2 acts at once) or realistic (ENI attach takes seconds,
                      IMDS lags, API latencies, EC2 throttling buckets on)
  --topology FILE     the topology as JSON (see README); or build it with flags:
  --region R          default us-east-1
  --vpc-cidr CIDR     default 10.0.0.0/16
  --ipv6              dual stack: the VPC gets an Amazon-provided IPv6 /56, every subnet a /64 of
                      it (the Nth subnet the /64 numbered N-1), every instance's primary ENI an
                      IPv6 address (eth0 has it, with the default route via the router's link-local)
  --subnet NAME=ZONE,CIDR[,ipv6]           repeatable, e.g. a=us-east-1a,10.0.0.0/20; ",ipv6"
                                           makes that one subnet (and the VPC) dual-stack
  --instance NAME=TYPE,SUBNET[,public]     repeatable, e.g. node-a=m5.large,a,public
  --kubelets          make every instance a Kubernetes node: a kubelet per instance (in its
                      namespace, registered as its private DNS name) and the scheduler; pods
                      need a CNI on the nodes (the agent writes its conflist) to start
  --json              print the state as JSON

Without topology flags: subnets a (us-east-1a, 10.0.0.0/20) and b (us-east-1b, 10.0.16.0/20),
instances node-a (m5.large in a, public address) and node-b (m5.large in b).
Inside instances: the EC2 API at http://192.0.2.10, IMDS at http://169.254.169.254, external
hosts whose echo servers (TCP 80 HTTP, TCP 7) answer with the address they saw: 203.0.113.10
(through the internet gateway's 1:1 NAT) and 2001:db8:ffff::10 (through the egress-only gateway).`,
  status: `Usage: vpcsim status [--run NAME] [--json]

Shows the run's VPC, subnets (with free addresses), instances and their ENIs and addresses.`,
  exec: `Usage: vpcsim exec [--run NAME] INSTANCE -- COMMAND [ARGS...]

Runs COMMAND inside the instance's network namespace (INSTANCE is its Name tag or instance id),
with AWS_REGION and AWS_ENDPOINT_URL_EC2 set and your AWS credentials, profiles and endpoint
settings removed (other AWS_* configuration, such as AWS_VPC_K8S_CNI_*, passes), so an AWS SDK
program runs unchanged and takes the instance role's credentials from IMDS. Signals sent to
vpcsim exec are passed on to COMMAND; it exits with the command's exit code.`,
  launch: `Usage: vpcsim launch [--run NAME] NAME --type TYPE --subnet SUBNET [--public]

Launches an instance (a new network namespace booted like an EC2 AMI) in a running VPC.
SUBNET is a subnet's name from the topology or its subnet id. In a dual-stack subnet the
instance is dual-stack: its primary ENI gets an IPv6 address, on eth0 from boot.`,
  terminate: `Usage: vpcsim terminate [--run NAME] INSTANCE

Terminates an instance: ENIs with DeleteOnTermination are deleted, others become available.`,
  faults: `Usage: vpcsim faults [--run NAME] SUBCOMMAND

  list                                     the faults in force
  add --action A --kind K [--probability P] [--count N] [--ms N] [--status S]
                                           K: throttle (RequestLimitExceeded), error (5xx; --status
                                           500 or 503), timeout (hold --ms, then drop the connection),
                                           latency (add --ms). A is an EC2 action or * for all.
                                           --probability 0..1 (default 1), --count: only the next N
  slow-attach --ms N [--detach-ms N]       ENI attach (and detach) take N ms from now on
  exhaust --subnet S [--count N]           hide N (default: all) free addresses of subnet S, as if
                                           other tenants used them; --count 0 lifts it
  throttling on|off [--scale X]            EC2's token buckets on or off; --scale multiplies them
  deny ACTION...                           UnauthorizedOperation for these actions (none: lift)
  clear                                    remove every fault and return to the profile's timings`,
  calls: `Usage: vpcsim calls [--run NAME] [--action A] [--outcome O] [--last N] [--counts] [--json]

The EC2 call log: every request with time, caller, action, outcome and latency.
--counts prints the number of calls per action and outcome instead.`,
  kubeconfig: `Usage: vpcsim kubeconfig [--run NAME]

Prints the path of the run's kubeconfig: its Kubernetes API server (through a forwarder on
127.0.0.1) as kubernetes-admin (group system:masters). Use it with any client:
  KUBECONFIG=$(vpcsim kubeconfig) kubectl get namespaces`,
  kubectl: `Usage: vpcsim kubectl [--run NAME] KUBECTL-ARGS...

Runs kubectl with the run's kubeconfig (see vpcsim kubeconfig), e.g. vpcsim kubectl get pods -A.
The kubectl is $VPCSIM_KUBECTL if set, else the first kubectl on PATH, else the Debian kubectl
that scripts/setup unpacks into .tools/. Exits with kubectl's exit code.`,
  down: `Usage: vpcsim down [--run NAME] | --all

Stops the run's emulator and removes everything it created: namespaces, veths, processes (the
Kubernetes API forwarder included) and its directory under /run/vpcsim. --all does that for every run and also removes any namespace named
vs-* and any run directory that a crashed run left behind.`,
};

class UsageError extends Error {}

const RUN_OPTION = { run: { type: "string" } } as const;

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
    case "down":
      return down(rest);
  }
  return 2;
}

function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function up(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...RUN_OPTION,
    profile: { type: "string", default: "instant" },
    topology: { type: "string" },
    region: { type: "string" },
    "vpc-cidr": { type: "string" },
    ipv6: { type: "boolean", default: false },
    subnet: { type: "string", multiple: true, default: [] },
    instance: { type: "string", multiple: true, default: [] },
    kubelets: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  const name = values.run ?? process.env.VPCSIM_RUN ?? "default";
  const nameProblem = checkRunName(name);
  if (nameProblem) throw new UsageError(nameProblem);
  if (!isProfileName(values.profile)) throw new UsageError(`--profile '${values.profile}': choose one of ${PROFILE_NAMES.join(", ")}`);

  let topology: Topology;
  if (values.topology !== undefined) {
    if (values.subnet.length > 0 || values.instance.length > 0 || values["vpc-cidr"] || values.region || values.ipv6) {
      throw new UsageError("--topology FILE and topology flags (--region, --vpc-cidr, --ipv6, --subnet, --instance) exclude each other");
    }
    let text: string;
    try {
      text = readFileSync(values.topology, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --topology ${values.topology}: ${(err as Error).message}`);
    }
    try {
      // region and instances may be left out; everything else must be there.
      topology = { region: defaultTopology().region, instances: [], ...(JSON.parse(text) as Partial<Topology>) } as Topology;
    } catch (err) {
      throw new UsageError(`--topology ${values.topology} is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      topology = topologyFromFlags({ region: values.region, vpcCidr: values["vpc-cidr"], ipv6: values.ipv6, subnets: values.subnet, instances: values.instance });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const types = loadInstanceTypes();
  const problems = validateTopology(topology, (t) => types.has(t));
  if (problems.length > 0) throw new UsageError(`the topology is not valid:\n  ${problems.join("\n  ")}`);

  const paths = runPaths(name);
  if (livePid(paths) !== undefined) throw new Error(`run '${name}' is already up; take it down first with: vpcsim down --run ${name}`);
  // A directory without a live daemon is what a crash left: clear it before reusing the name.
  await teardownRun(paths);

  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  writeFileSync(paths.topologyFile, JSON.stringify(topology, null, 2));
  writeFileSync(paths.settingsFile, JSON.stringify({ profile: values.profile, ...(values.kubelets ? { kubernetesNodes: true } : {}) }, null, 2));
  try {
    // The host's way in to the Kubernetes API starts alongside the daemon, so `up` is no slower for it.
    let forwarder: Promise<number> | undefined;
    await startDaemon(paths, (daemonPid) => (forwarder = startKubeForwarder(paths, daemonPid)));
    await writeAdminKubeconfig(paths, await forwarder!);
    const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
    const run = name === "default" ? "" : ` --run ${name}`;
    console.log(
      values.json
        ? JSON.stringify(state, null, 2)
        : `${formatStatus(state)}\n\nvpcsim run '${name}' is up. Try: vpcsim exec ${state.instances[0]?.name ?? "INSTANCE"} -- ip addr; vpcsim kubectl${run} get namespaces; vpcsim down${run}\nKubernetes API kubeconfig: ${paths.kubeconfig}`,
    );
    return 0;
  } catch (err) {
    await teardownRun(paths);
    throw err;
  }
}

/** Starts the daemon and waits until it is ready; `alongside` is started meanwhile with the daemon's PID. */
async function startDaemon(paths: RunPaths, alongside: (daemonPid: number) => Promise<unknown>): Promise<void> {
  // The daemon runs inside the VPC-router namespace (so its EC2 and IMDS servers listen on the
  // fabric's service addresses) but in the machine's mount namespace (so the namespaces it creates
  // are visible to everyone): hence nsenter --net, not `ip netns exec`.
  const router = routerNetnsName(paths.prefix);
  await run("ip", ["netns", "add", router]);
  const log = openSync(paths.logFile, "a", 0o600);
  const daemon = spawn(
    "nsenter",
    [`--net=/run/netns/${router}`, "--", process.execPath, join(import.meta.dirname, "daemon.ts"), "--run-dir", paths.dir],
    { detached: true, stdio: ["ignore", log, log] },
  );
  closeSync(log);
  daemon.unref();
  // nsenter execs the daemon: its PID is the daemon's. Its failure is the caller's to report.
  alongside(daemon.pid!).catch(() => {});
  const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
  let done = false;
  exited.then(() => (done = true));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (done) throw new Error(`the vpcsim daemon exited during start-up:\n${tail(paths.logFile)}`);
    if (existsSync(paths.adminSocket)) {
      try {
        const ready = await adminRequest<{ ready: boolean; error?: string }>(paths.adminSocket, "GET", "/ready", undefined, 5000);
        if (ready.error) throw new Error(`the vpcsim daemon failed to start: ${ready.error}`);
        if (ready.ready) return;
      } catch (err) {
        if ((err as Error).message.startsWith("the vpcsim daemon failed")) throw err;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the vpcsim daemon did not become ready within 120 s:\n${tail(paths.logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "(no daemon log)";
  }
}

function requireUp(explicitRun: string | undefined): RunPaths {
  const paths = runPaths(resolveRunName(explicitRun));
  if (livePid(paths) === undefined) {
    throw new Error(`no vpcsim run '${paths.name}' is up (start one with: vpcsim up${paths.name === "default" ? "" : ` --run ${paths.name}`})`);
  }
  return paths;
}

async function status(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION, json: { type: "boolean", default: false } });
  const paths = requireUp(values.run);
  const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
  console.log(values.json ? JSON.stringify(state, null, 2) : formatStatus(state));
  return 0;
}

async function findInstance(paths: RunPaths, ref: string) {
  const state = await adminRequest<RunStatus>(paths.adminSocket, "GET", "/status");
  const found = state.instances.find((i) => i.id === ref || i.name === ref);
  if (!found) {
    const known = state.instances.map((i) => i.name || i.id).join(", ") || "none";
    throw new UsageError(`no running instance '${ref}' in run '${paths.name}' (instances: ${known})`);
  }
  return { state, instance: found };
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

const SDK_IDENTITY_VARIABLES =
  /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SECURITY_TOKEN|PROFILE|DEFAULT_PROFILE|CONFIG_FILE|SHARED_CREDENTIALS_FILE|CREDENTIAL_EXPIRATION|ROLE_ARN|ROLE_SESSION_NAME|WEB_IDENTITY_TOKEN_FILE|CONTAINER_.*|EC2_METADATA_.*|ENDPOINT_URL.*|REGION|DEFAULT_REGION|USE_FIPS_ENDPOINT|USE_DUALSTACK_ENDPOINT|IGNORE_CONFIGURED_ENDPOINT_URLS)$/;

async function execInInstance(args: string[]): Promise<number> {
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
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 15) : 1)));
  });
}

async function launch(args: string[]): Promise<number> {
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

async function terminate(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...RUN_OPTION }, true);
  if (positionals.length !== 1) throw new UsageError("usage: vpcsim terminate INSTANCE");
  const paths = requireUp(values.run);
  const { instance } = await findInstance(paths, positionals[0]!);
  await adminRequest(paths.adminSocket, "DELETE", `/instances/${instance.id}`);
  console.log(`${instance.id} terminated`);
  return 0;
}

function badStatus(text: string): never {
  throw new UsageError(`--status '${text}': 500 (InternalError) or 503 (Unavailable)`);
}

async function faults(args: string[]): Promise<number> {
  // --run may come before the subcommand (as the help shows) or after it.
  const runAt = args.findIndex((a) => a === "--run" || a.startsWith("--run="));
  const runArgs = runAt === 0 ? args.splice(0, args[0]!.includes("=") ? 1 : 2) : [];
  const [sub, ...afterSub] = args;
  const rest = [...runArgs, ...afterSub];
  const send = async (values: { run?: string }, method: string, path: string, body?: unknown) => {
    const paths = requireUp(values.run);
    return adminRequest(paths.adminSocket, method, path, body);
  };
  const number = (name: string, text: string | undefined, min: number, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} '${text}': a number from ${min} to ${max}`);
    return n;
  };
  switch (sub) {
    case "list": {
      const { values } = parse(rest, { ...RUN_OPTION, json: { type: "boolean", default: false } });
      const list = await send(values, "GET", "/faults");
      console.log(JSON.stringify(list, null, 2));
      return 0;
    }
    case "add": {
      const { values } = parse(rest, {
        ...RUN_OPTION,
        action: { type: "string", default: "*" },
        kind: { type: "string" },
        probability: { type: "string" },
        count: { type: "string" },
        ms: { type: "string" },
        status: { type: "string" },
      });
      if (!values.kind || !["throttle", "error", "timeout", "latency"].includes(values.kind)) {
        throw new UsageError("--kind: one of throttle, error, timeout, latency");
      }
      const body = {
        action: values.action,
        kind: values.kind,
        probability: number("probability", values.probability, 0, 1),
        count: number("count", values.count, 1, 1e9),
        ms: number("ms", values.ms, 0, 3_600_000),
        status: values.status === undefined ? undefined : values.status === "500" ? 500 : values.status === "503" ? 503 : badStatus(values.status),
      };
      console.log(JSON.stringify(await send(values, "POST", "/faults", body), null, 2));
      return 0;
    }
    case "slow-attach": {
      const { values } = parse(rest, { ...RUN_OPTION, ms: { type: "string" }, "detach-ms": { type: "string" } });
      const attachMs = number("ms", values.ms, 0, 3_600_000);
      if (attachMs === undefined) throw new UsageError("slow-attach needs --ms N");
      await send(values, "POST", "/faults/attach", { attachMs, detachMs: number("detach-ms", values["detach-ms"], 0, 3_600_000) });
      return 0;
    }
    case "exhaust": {
      const { values } = parse(rest, { ...RUN_OPTION, subnet: { type: "string" }, count: { type: "string" } });
      if (!values.subnet) throw new UsageError("exhaust needs --subnet S");
      console.log(JSON.stringify(await send(values, "POST", "/faults/exhaust", { subnet: values.subnet, count: number("count", values.count, 0, 1e9) }), null, 2));
      return 0;
    }
    case "throttling": {
      const { values, positionals } = parse(rest, { ...RUN_OPTION, scale: { type: "string" } }, true);
      if (positionals.length !== 1 || !["on", "off"].includes(positionals[0]!)) throw new UsageError("usage: vpcsim faults throttling on|off [--scale X]");
      await send(values, "POST", "/faults/throttling", { enabled: positionals[0] === "on", scale: number("scale", values.scale, 0.001, 1000) });
      return 0;
    }
    case "deny": {
      const { values, positionals } = parse(rest, { ...RUN_OPTION }, true);
      await send(values, "POST", "/faults/deny", { actions: positionals });
      return 0;
    }
    case "clear": {
      const { values } = parse(rest, { ...RUN_OPTION });
      await send(values, "DELETE", "/faults");
      return 0;
    }
    default:
      throw new UsageError(`faults: unknown subcommand '${sub ?? ""}'; see vpcsim faults --help`);
  }
}

interface CallEntry {
  time: number;
  action: string;
  principal?: string;
  outcome: string;
  status: number;
  latencyMs: number;
}

interface ActionCounts {
  total: number;
  ok: number;
  errors: Record<string, number>;
}

async function calls(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...RUN_OPTION,
    action: { type: "string" },
    outcome: { type: "string" },
    last: { type: "string", default: "50" },
    counts: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  const last = Number(values.last);
  if (!Number.isInteger(last) || last < 1) throw new UsageError(`--last '${values.last}': a whole number of at least 1`);
  const paths = requireUp(values.run);
  const query = new URLSearchParams();
  if (values.action) query.set("action", values.action);
  if (values.outcome) query.set("outcome", values.outcome);
  if (values.counts) {
    const counts = await adminRequest<Record<string, ActionCounts>>(paths.adminSocket, "GET", `/calls/counts?${query}`);
    if (values.json) console.log(JSON.stringify(counts, null, 2));
    else {
      for (const [action, c] of Object.entries(counts)) {
        const errors = Object.entries(c.errors).map(([code, n]) => `${code}=${n}`);
        console.log(`${action.padEnd(36)} total=${c.total} ok=${c.ok}${errors.length ? ` ${errors.join(" ")}` : ""}`);
      }
    }
    return 0;
  }
  query.set("last", String(last));
  const entries = await adminRequest<CallEntry[]>(paths.adminSocket, "GET", `/calls?${query}`);
  if (values.json) console.log(JSON.stringify(entries, null, 2));
  else {
    for (const e of entries) {
      const when = new Date(e.time).toISOString();
      console.log(`${when}  ${(e.principal ?? "-").padEnd(20)} ${(e.action || "-").padEnd(34)} ${e.outcome.padEnd(34)} ${String(e.status).padEnd(4)} ${e.latencyMs.toFixed(1)} ms`);
    }
  }
  return 0;
}

async function kubeconfig(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION });
  console.log(kubeconfigPath(requireUp(values.run)));
  return 0;
}

async function kubectl(args: string[]): Promise<number> {
  // Only a leading --run NAME is ours; everything else is kubectl's (`kubectl run` included).
  const { run, rest } = leadingRun(args);
  const child = runKubectl(requireUp(run), rest);
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 15) : 1)));
  });
}

async function down(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION, all: { type: "boolean", default: false } });
  if (values.all) {
    if (values.run) throw new UsageError("--all and --run exclude each other");
    for (const name of listRuns()) await teardownRun(runPaths(name));
    await cleanupByPrefix(NAMESPACE_PREFIX);
    console.log("every vpcsim run is down");
    return 0;
  }
  const paths = runPaths(resolveRunName(values.run));
  if (!existsSync(paths.dir) && livePid(paths) === undefined) {
    console.log(`no vpcsim run '${paths.name}' is up`);
    return 0;
  }
  await teardownRun(paths);
  console.log(`vpcsim run '${paths.name}' is down`);
  return 0;
}

/** Stops a run's daemon (which tears its fabric down), then removes whatever is still there. */
async function teardownRun(paths: RunPaths): Promise<void> {
  // First the host's way in (its state file goes with the run directory).
  await stopKubeAccess(paths);
  const pid = livePid(paths);
  if (pid !== undefined) {
    try {
      await adminRequest(paths.adminSocket, "POST", "/shutdown", undefined, 60_000);
    } catch {
      // A daemon that cannot answer is stopped by signal below.
    }
    if (!(await waitForExit(pid, 30_000))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // it exited just now
      }
      await waitForExit(pid, 5_000);
    }
  }
  await cleanupByPrefix(paths.prefix);
  rmSync(paths.dir, { recursive: true, force: true });
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr.trim()}`))));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`vpcsim: ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
