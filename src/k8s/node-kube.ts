// The node agent's whole Kubernetes side behind one face: where its access comes from, aws-node's
// start-up rule for the API server (wait for it when a feature needs it, else go on after 30 s and keep
// checking), the informers on its Node, its pods and (with custom networking) the ENIConfigs, the
// events on its own pod, and its node's CNINode features. Everything answers from the informers'
// caches, so nothing here blocks pod start-up while the API server is away; before the first answer
// the answers say "unknown" and the agent uses what it knows without Kubernetes.

import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { OPTIONAL_POLICY, REQUIRED_POLICY, recheckApiServer, waitForApiServer, type ApiServerWaitPolicy } from "./api-server-wait.ts";
import { addCniNodeFeature, type AddFeatureResult } from "./cninode.ts";
import { KubeClient } from "./client.ts";
import { nodeEniConfigChoice, nodeEniConfigName, type EniConfigChoice, type EniConfigKeys } from "./eniconfig-name.ts";
import { EventRecorder } from "./event-recorder.ts";
import type { Informer, InformerLog } from "./informer.ts";
import { loadKubeAccess } from "./kube-access.ts";
import { eniConfigInformer, nodeInformer, podsOnNodeInformer } from "./node-informers.ts";
import type { CniNodeFeature, EniConfig } from "./resources.ts";

/** aws-node's event component (the events' source and reporting controller). */
export const EVENT_COMPONENT = "aws-node";
const UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable";

export interface NodeKubeOptions {
  /** Where KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT and CLUSTER_ENDPOINT are read from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** MY_NODE_NAME */
  readonly nodeName: string;
  /** MY_POD_NAMESPACE and MY_POD_NAME: the pod the agent's events are about. */
  readonly pod: { readonly namespace: string; readonly name: string };
  /** ENABLE_POD_ENI, custom networking or ANNOTATE_POD_IP: start-up waits for the API server. */
  readonly requireApiServer: boolean;
  /** Custom networking: follow the ENIConfigs. */
  readonly watchEniConfigs: boolean;
  readonly eniConfigKeys: EniConfigKeys;
  readonly userAgent: string;
  readonly log: InformerLog;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Overrides the start-up rule's timing (tests). */
  readonly waitPolicy?: ApiServerWaitPolicy;
  readonly recheckMs?: number;
  /** Stops a start-up wait (SIGTERM). */
  readonly signal?: AbortSignal;
}

export type NodeKubeState =
  /** No Kubernetes access is configured: the agent runs on its own. */
  | "not-configured"
  /** Configured, not answered yet: the background check goes on. */
  | "waiting"
  /** The informers run (through later outages too: they keep their caches). */
  | "connected";

export class NodeKube {
  readonly #options: NodeKubeOptions;
  readonly #client: KubeClient | null;
  readonly events: EventRecorder;
  #state: NodeKubeState;
  #node: Informer<V1Node> | undefined;
  #pods: Informer<V1Pod> | undefined;
  #eniConfigs: Informer<EniConfig> | undefined;
  #stopRecheck: (() => void) | undefined;
  readonly #connectedListeners: (() => void)[] = [];

  private constructor(options: NodeKubeOptions, client: KubeClient | null) {
    this.#options = options;
    this.#client = client;
    this.#state = client === null ? "not-configured" : "waiting";
    this.events = new EventRecorder({
      sink: client,
      source: { component: EVENT_COMPONENT, host: options.nodeName },
      involved: () => ({ apiVersion: "v1", kind: "Pod", namespace: options.pod.namespace, name: options.pod.name, uid: this.ownPod()?.metadata?.uid ?? "" }),
      log: options.log,
      ...(options.now ? { now: options.now } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
  }

  /**
   * Loads the access and applies the start-up rule: returns once the API server answered (its
   * informers started), or, when the agent may go on without it, after the deadline (a background
   * check starts the informers when it answers). A configured but broken access throws.
   */
  static async connect(options: NodeKubeOptions): Promise<NodeKube> {
    const { log } = options;
    const access = loadKubeAccess(options.env);
    if (!access.ok && access.configured) throw new Error(`Kubernetes access: ${access.reason}`);
    // Without its node's name the agent cannot tell which Node is its own (the DaemonSet sets it from
    // spec.nodeName): outside a pod, e.g. run by hand with a developer's KUBECONFIG, it runs on its own.
    const without = !access.ok ? access.reason : options.nodeName === "" ? "MY_NODE_NAME is not set (the DaemonSet sets it from spec.nodeName)" : undefined;
    if (!access.ok || without !== undefined) {
      if (options.requireApiServer) throw new Error(`Kubernetes access: ${without}, but security groups for pods, custom networking or ANNOTATE_POD_IP need the API server`);
      log("info", `running without the Kubernetes API: ${without}`);
      return new NodeKube(options, null);
    }
    const client = new KubeClient(access.config, { userAgent: options.userAgent });
    const kube = new NodeKube(options, client);
    log("info", `Kubernetes API at ${access.server} through ${access.describe}`);
    const deps = { now: options.now ?? Date.now, sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref())), log };
    const policy = options.waitPolicy ?? (options.requireApiServer ? REQUIRED_POLICY : OPTIONAL_POLICY);
    const got = await waitForApiServer(client, policy, { ...deps, ...(options.signal ? { signal: options.signal } : {}) });
    if (got.reachable) {
      kube.#startInformers();
    } else if (!options.signal?.aborted) {
      log("warn", `going on without the Kubernetes API (max pods from the instance type, no events) and checking again every ${(options.recheckMs ?? 5_000) / 1000} s: ${got.lastError}`);
      kube.#stopRecheck = recheckApiServer(client, () => kube.#startInformers(), deps, options.recheckMs);
    }
    return kube;
  }

  get state(): NodeKubeState {
    return this.#state;
  }

  /** Called once the informers have started (at once if they have). */
  onConnected(listener: () => void): void {
    if (this.#state === "connected") listener();
    else this.#connectedListeners.push(listener);
  }

  /** Resolves true once the Node has been read, false after timeoutMs or without access. */
  async waitForNode(timeoutMs: number): Promise<boolean> {
    if (this.#client === null) return false;
    const end = Date.now() + timeoutMs;
    while (this.#node === undefined) {
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 50).unref());
    }
    return this.#node.waitForSync(Math.max(0, end - Date.now()));
  }

  node(): V1Node | undefined {
    return this.#node?.get(this.#options.nodeName);
  }

  /** The kubelet's max pods (status.capacity.pods), as aws-node caps its pool; undefined while unknown. */
  maxPods(): number | undefined {
    const text = this.node()?.status?.capacity?.["pods"];
    const n = text === undefined ? NaN : Number(text);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }

  /** Cordoned (node.kubernetes.io/unschedulable:NoSchedule); false while unknown. */
  unschedulable(): boolean {
    return (this.node()?.spec?.taints ?? []).some((t) => t.key === UNSCHEDULABLE_TAINT && t.effect === "NoSchedule");
  }

  /** The ENIConfig this node uses (labels and annotations); null while the node is unknown. */
  eniConfigName(): string | null {
    const node = this.node();
    return node === undefined ? null : nodeEniConfigName(node, this.#options.eniConfigKeys);
  }

  /** The ENIConfig name with where it came from; null while the node is unknown. */
  eniConfigChoice(): EniConfigChoice | null {
    const node = this.node();
    return node === undefined ? null : nodeEniConfigChoice(node, this.#options.eniConfigKeys);
  }

  /** Whether the ENIConfigs have been listed once (before that, a missing one may just be unseen). */
  eniConfigsSynced(): boolean {
    return this.#eniConfigs?.synced ?? false;
  }

  eniConfig(name: string): EniConfig | undefined {
    return this.#eniConfigs?.get(name);
  }

  /** The pods the kubelet runs on this node, as last seen. */
  pods(): readonly V1Pod[] {
    return this.#pods?.list() ?? [];
  }

  ownPod(): V1Pod | undefined {
    return this.#pods?.get(this.#options.pod.name, this.#options.pod.namespace);
  }

  /** aws-node's MissingIAMPermissions event, for an EC2 UnauthorizedOperation on `api`. */
  recordMissingPermission(api: string): void {
    const action = `ec2:${api}`;
    this.events.record({
      type: "Warning",
      reason: "MissingIAMPermissions",
      action,
      message: `Unauthorized operation: failed to call ${action} due to missing permissions. Attach the IAM policy in deploy/iam/vpc-cni-policy.json to the node's role`,
    });
  }

  /** The subnet ran out of addresses (EC2's InsufficientFreeAddressesInSubnet or InsufficientCidrBlocks). */
  recordAddressExhaustion(code: string, detail: string, pauseMs: number): void {
    this.events.record({ type: "Warning", reason: code, action: "ec2:AssignPrivateIpAddresses", message: `EC2 has no addresses for this node: ${detail}; pool growth pauses for ${Math.round(pauseMs / 1000)} s` });
  }

  /** Why the node gets no new ENI (custom networking's ENIConfig or the tagged subnets): a warning on the agent's pod. */
  recordPlacementProblem(reason: string, message: string): void {
    this.events.record({ type: "Warning", reason, action: "ec2:CreateNetworkInterface", message });
  }

  /** Adds a feature to this node's CNINode (merge patch with the optimistic lock). */
  addCniNodeFeature(feature: CniNodeFeature): Promise<AddFeatureResult> {
    if (this.#client === null) return Promise.reject(new Error(`no Kubernetes access: cannot add ${feature.name} to the CNINode`));
    return addCniNodeFeature(this.#client, this.#options.nodeName, feature);
  }

  async stop(): Promise<void> {
    this.#stopRecheck?.();
    await this.events.close();
    await Promise.all([this.#node?.stop(), this.#pods?.stop(), this.#eniConfigs?.stop()]);
  }

  #startInformers(): void {
    if (this.#client === null || this.#state === "connected") return;
    const { nodeName, log } = this.#options;
    this.#node = nodeInformer(this.#client, nodeName, log);
    this.#pods = podsOnNodeInformer(this.#client, nodeName, log);
    if (this.#options.watchEniConfigs) this.#eniConfigs = eniConfigInformer(this.#client, log);
    for (const informer of [this.#node, this.#pods, this.#eniConfigs]) informer?.start();
    this.#state = "connected";
    for (const listener of this.#connectedListeners.splice(0)) listener();
  }
}
