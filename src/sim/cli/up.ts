// `vpcsim up`: the topology from a file or flags, checked; the run directory; the daemon started
// with the host's Kubernetes access alongside; the run's state printed.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { adminRequest } from "../admin-client.ts";
import { checkRunName, livePid, runPaths } from "../run-dir.ts";
import { formatStatus, type RunStatus } from "../status.ts";
import { defaultTopology, topologyFromFlags, validateTopology, type Topology } from "../topology.ts";
import { isProfileName, PROFILE_NAMES } from "../profiles.ts";
import { loadInstanceTypes } from "../ec2/instance-types.ts";
import { startKubeForwarder, writeAdminKubeconfig } from "./kube-access.ts";
import { parse, RUN_OPTION, UsageError } from "./args.ts";
import { startDaemon, teardownRun } from "./run-lifecycle.ts";

export async function up(args: string[]): Promise<number> {
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
