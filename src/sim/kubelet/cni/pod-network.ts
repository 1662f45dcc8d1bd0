// A pod sandbox's network as containerd 1.7's CRI sets it up through go-cni: two networks, the
// loopback one ("cni-loopback", interface lo) and the conf dir's default network (interface eth0),
// attached concurrently; CNI_ARGS from the pod's metadata with IgnoreUnknown (a Go map: no fixed
// order); capability arguments for pod annotations, host ports, bandwidth and DNS; the pod's
// addresses are those the results give eth0, IPv4 first. Remove detaches both networks in order and
// tolerates "not found". As go-cni 1.1.10+ does, a 1.1.0 default network is asked STATUS before
// ADD and for the node's network status.

import { GoStruct } from "./go-json.ts";
import { CNI_NOT_INITIALIZED, ConfLoadError, loadDefaultNetwork, loopbackNetwork, type NetworkConfList } from "./conf.ts";
import { Libcni, type GcAttachment, type LibcniOptions, type RuntimeConf } from "./libcni.ts";
import { parseQuantity } from "./quantity.ts";
import { addressesByInterface, selectPodIps, type CniResult } from "./result.ts";
import type { PluginError } from "./invoke.ts";

export const DEFAULT_IFNAME = "eth0";
const LOOPBACK_IFNAME = "lo";
const POD_ANNOTATIONS_CAPABILITY = "io.kubernetes.cri.pod-annotations";
const MAX_UINT32 = 4294967295;

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string; // TCP, UDP, SCTP as in the pod spec
  hostIP: string;
}

export interface SandboxNetworkSpec {
  id: string;
  netns: string;
  namespace: string;
  name: string;
  uid: string;
  annotations: Readonly<Record<string, string>>;
  portMappings: readonly PortMapping[];
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

export interface NetworkStatus {
  ready: boolean;
  /** containerd's reason and message for the NetworkReady condition. */
  reason: string;
  message: string;
}

export interface SetupResult {
  ips: string[];
  results: CniResult[];
}

export class PodNetwork {
  readonly #confDir: string;
  readonly #libcni: Libcni;

  constructor(confDir: string, options: LibcniOptions) {
    this.#confDir = confDir;
    this.#libcni = new Libcni(options);
  }

  get libcni(): Libcni {
    return this.#libcni;
  }

  /** The networks go-cni would hold now: loopback and the default one, or why there is none. */
  networks(): { loopback: NetworkConfList; main: NetworkConfList } {
    const { list } = loadDefaultNetwork(this.#confDir);
    return { loopback: loopbackNetwork(), main: list };
  }

  /** The runtime's NetworkReady condition, as the kubelet reads it from containerd's status. */
  async status(): Promise<NetworkStatus> {
    try {
      await this.#ready();
      return { ready: true, reason: "", message: "" };
    } catch (err) {
      return { ready: false, reason: "NetworkPluginNotReady", message: `Network plugin returns error: ${(err as Error).message}` };
    }
  }

  async #ready(): Promise<{ loopback: NetworkConfList; main: NetworkConfList }> {
    let nets: ReturnType<PodNetwork["networks"]>;
    try {
      nets = this.networks();
    } catch (err) {
      // go-cni resets its networks on a failed load: whatever the cause, it is not initialized.
      if (err instanceof ConfLoadError) throw new Error(CNI_NOT_INITIALIZED, { cause: err });
      throw err;
    }
    await this.#libcni.statusNetworkList(nets.main);
    return nets;
  }

  /** Setup: ADD of both networks; the pod's addresses. On failure the caller tears down (Remove). */
  async setup(spec: SandboxNetworkSpec): Promise<SetupResult> {
    const { loopback, main } = await this.#ready();
    let capabilityArgs: Record<string, unknown>;
    try {
      capabilityArgs = capabilityArgsOf(spec);
    } catch (err) {
      throw new Error(`get cni namespace options: ${(err as Error).message}`);
    }
    const attach = (list: NetworkConfList, ifName: string) => this.#libcni.addNetworkList(list, runtimeConf(spec, ifName, capabilityArgs));
    const settled = await Promise.allSettled([attach(loopback, LOOPBACK_IFNAME), attach(main, DEFAULT_IFNAME)]);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const results = settled.map((s) => (s as PromiseFulfilledResult<CniResult>).value);
    const addresses = addressesByInterface(results, DEFAULT_IFNAME).get(DEFAULT_IFNAME) ?? [];
    if (addresses.length === 0) throw new Error(`failed to find network info for sandbox "${spec.id}"`);
    return { ips: selectPodIps(addresses), results };
  }

  /** Remove: DEL of both networks, in order; "not found" counts as done. */
  async remove(spec: SandboxNetworkSpec): Promise<void> {
    let nets: ReturnType<PodNetwork["networks"]>;
    try {
      nets = this.networks();
    } catch (err) {
      throw new Error(CNI_NOT_INITIALIZED, { cause: err });
    }
    const capabilityArgs = capabilityArgsOf(spec);
    for (const [list, ifName] of [[nets.loopback, LOOPBACK_IFNAME], [nets.main, DEFAULT_IFNAME]] as const) {
      try {
        await this.#libcni.delNetworkList(list, runtimeConf(spec, ifName, capabilityArgs));
      } catch (err) {
        const text = (err as Error).message;
        if ((spec.netns === "" && text.includes("no such file or directory")) || text.includes("not found")) continue;
        throw err;
      }
    }
  }

  /** CHECK of the default network against its cached result. */
  async check(spec: SandboxNetworkSpec): Promise<void> {
    const { main } = await this.#ready();
    await this.#libcni.checkNetworkList(main, runtimeConf(spec, DEFAULT_IFNAME, capabilityArgsOf(spec)));
  }

  /** GC of both networks: every attachment not of a live sandbox is deleted. */
  async gc(liveSandboxIds: readonly string[]): Promise<void> {
    const { loopback, main } = this.networks();
    const valid = (ifName: string): GcAttachment[] => liveSandboxIds.map((containerId) => ({ containerId, ifName }));
    const errors: string[] = [];
    for (const [list, ifName] of [[loopback, LOOPBACK_IFNAME], [main, DEFAULT_IFNAME]] as const) {
      try {
        await this.#libcni.gcNetworkList(list, valid(ifName));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new Error(errors.join("\n"));
  }
}

/** The plugin's own error code, when the failure came from a plugin's error object. */
export function pluginErrorCode(err: unknown): number | undefined {
  let e: unknown = err;
  while (e instanceof Error) {
    if (e.name === "PluginError") return (e as PluginError).code;
    e = e.cause;
  }
  return undefined;
}

function runtimeConf(spec: SandboxNetworkSpec, ifName: string, capabilityArgs: Record<string, unknown>): RuntimeConf {
  return { containerId: spec.id, netns: spec.netns, ifName, args: cniLabels(spec), capabilityArgs };
}

/** toCNILabels: a Go map, so the pairs come in no particular order (each call its own). */
function cniLabels(spec: SandboxNetworkSpec): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ["K8S_POD_NAMESPACE", spec.namespace],
    ["K8S_POD_NAME", spec.name],
    ["K8S_POD_INFRA_CONTAINER_ID", spec.id],
    ["K8S_POD_UID", spec.uid],
    ["IgnoreUnknown", "1"],
  ];
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
  }
  return pairs;
}

/** cniNamespaceOpts: the capability arguments containerd offers (plugins get the ones they declare). */
export function capabilityArgsOf(spec: SandboxNetworkSpec): Record<string, unknown> {
  const args: Record<string, unknown> = { [POD_ANNOTATIONS_CAPABILITY]: { ...spec.annotations } };
  const ports = spec.portMappings
    .filter((p) => p.hostPort > 0)
    .map((p) => new GoStruct([["HostPort", p.hostPort], ["ContainerPort", p.containerPort], ["Protocol", p.protocol.toLowerCase()], ["HostIP", p.hostIP]]));
  if (ports.length > 0) args["portMappings"] = ports;
  const bandwidth = bandwidthOf(spec.annotations);
  if (bandwidth) args["bandwidth"] = bandwidth;
  if (spec.dns) args["dns"] = new GoStruct([["Servers", spec.dns.servers], ["Searches", spec.dns.searches], ["Options", spec.dns.options]]);
  return args;
}

/** toCNIBandWidth from kubernetes.io/ingress-bandwidth and egress-bandwidth (bits per second). */
function bandwidthOf(annotations: Readonly<Record<string, string>>): GoStruct | undefined {
  const read = (key: string): number | undefined => {
    const text = annotations[key];
    if (text === undefined) return undefined;
    let value: number;
    try {
      value = Math.ceil(parseQuantity(text));
    } catch (err) {
      throw new Error(`reading pod bandwidth annotations: ${(err as Error).message}`);
    }
    if (value < 1e3) throw new Error(`reading pod bandwidth annotations: resource is unreasonably small (< 1kbit)`);
    if (value > 1e15) throw new Error(`reading pod bandwidth annotations: resource is unreasonably large (> 1Pbit)`);
    return value;
  };
  const ingress = read("kubernetes.io/ingress-bandwidth");
  const egress = read("kubernetes.io/egress-bandwidth");
  if (ingress === undefined && egress === undefined) return undefined;
  return new GoStruct([
    ["IngressRate", ingress ?? 0],
    ["IngressBurst", ingress === undefined ? 0 : MAX_UINT32],
    ["EgressRate", egress ?? 0],
    ["EgressBurst", egress === undefined ? 0 : MAX_UINT32],
  ]);
}
