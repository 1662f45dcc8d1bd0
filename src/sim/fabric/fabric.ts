// The fabric: vpcsim's datapath. It turns EC2 state (instances, ENI attachments, assigned
// addresses and prefixes, source/destination check, public addresses) into kernel networking
// inside network namespaces of this run:
//
//   <prefix><instance-id>  one per instance; eth<N> is the ENI at device index N
//   <prefix>router         the VPC router; one veth per attached ENI, services on its lo
//   <prefix>igw            the internet gateway (stateless 1:1 NAT)
//   <prefix>ext            an "internet" host, 203.0.113.10, running echo-server.ts
//
// The router delivers by assignment, as the VPC does: every private address and prefix EC2
// assigned to an ENI is routed to that ENI's MAC (a permanent neighbour entry for the ENI's primary
// address, every other destination "via" it), unassigned VPC addresses hit a blackhole, and an
// nftables source check drops what an ENI sends from an address it does not own. Nothing here ever
// touches the root namespace: every link is created inside a namespace of the run, with its peer
// moved straight into another one.

import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import {
  CommandError,
  KeyedSerializer,
  NftCommitter,
  createLimiter,
  ipBatch,
  netnsPathOf,
  nftApply,
  run,
  runInNetns,
  sysctlSet,
} from "./exec.ts";
import { cleanupByPrefix, deleteLinks, deleteNetns, listNetnsWithPrefix, pidsInNetns, terminatePids } from "./cleanup.ts";
import { canonicalIpv4, cidrContains, formatCidr, kernelForm, parseCidr, parseIpv4, subnetGateway, type Cidr } from "./ipv4.ts";
import { ENI_LINK_PREFIX, IGW_TABLE, ROUTER_TABLE, elementStatement, igwRuleset, routerRuleset } from "./rulesets.ts";

/** The VPC router namespace of the run with this prefix (the CLI creates it to start the daemon inside). */
export function routerNetnsName(prefix: string): string {
  return `${prefix}router`;
}

/** Where vpcsim's EC2 API listens (on the router's lo). */
export const EC2_ENDPOINT_ADDRESS = "192.0.2.10";
/** Reserved for the Kubernetes API stand-in. */
export const KUBERNETES_ENDPOINT_ADDRESS = "192.0.2.20";
export const IMDS_ADDRESS = "169.254.169.254";
/** The external host behind the internet gateway; its echo server answers on TCP 80 (HTTP) and 7. */
export const EXTERNAL_HOST_ADDRESS = "203.0.113.10";
const EXTERNAL_GATEWAY_ADDRESS = "203.0.113.1";

/** The addresses vpcsim's servers listen on inside the router namespace, and the external host. */
export const SERVICE_ADDRESSES = {
  ec2: EC2_ENDPOINT_ADDRESS,
  kubernetes: KUBERNETES_ENDPOINT_ADDRESS,
  imds: IMDS_ADDRESS,
  externalHost: EXTERNAL_HOST_ADDRESS,
} as const;
const EXTERNAL_PREFIX_LENGTH = 24;

// The router↔gateway transfer link. Link-local on purpose: 100.64.0.0/10, the usual choice, is
// also what EKS custom networking adds as a secondary VPC CIDR, and the two would collide.
const TRANSFER_ROUTER_ADDRESS = "169.254.252.1";
const TRANSFER_IGW_ADDRESS = "169.254.252.2";
const TRANSFER_PREFIX_LENGTH = 30;

const ROUTER_IGW_LINK = "igw"; // in the router, toward the gateway (must not start with ENI_LINK_PREFIX)
const IGW_ROUTER_LINK = "rtr"; // in the gateway, toward the router
const IGW_EXTERNAL_LINK = "ext"; // in the gateway, toward the external host
const EXTERNAL_LINK = "eth0"; // in the external host

const DEFAULT_MTU = 9001; // EC2's jumbo frames inside a VPC
const INTERNET_MTU = 1500; // beyond the gateway, so path MTU discovery behaves as on AWS
const COMMAND_TIMEOUT_MS = 30_000;

export interface FabricOptions {
  /** Per-run prefix of every namespace, e.g. "vs-ab12-": lower-case letters, digits, dashes, ending in "-". */
  prefix: string;
  /** The VPC's IPv4 CIDRs (primary first); more can be added with addVpcCidr. */
  vpcCidrs: readonly string[];
  /** MTU of ENIs and the router's links (default 9001). */
  mtu?: number;
  /** How many instance namespaces are set up at once (default 8). */
  concurrency?: number;
  /** Start the external host's echo server (default true). */
  echoServer?: boolean;
}

/** An ENI as the fabric needs it; EC2's NetworkInterface carries all of it. */
export interface EniSpec {
  eniId: string;
  mac: string;
  primaryIp: string;
  subnetCidr: string;
  /** The subnet's router address; defaults to the first address of subnetCidr. */
  gateway?: string;
  /** All private addresses (the primary may be included or not; it is always delivered). */
  privateIps?: readonly string[];
  ipv4Prefixes?: readonly string[];
  /** EC2's default is true. */
  sourceDestCheck?: boolean;
}

export interface FabricCounters {
  /** Packets the router dropped for a source address their ENI does not own. */
  spoofedSources: number;
  /** Packets from private addresses without a public one, dropped at the internet gateway. */
  unmappedOutbound: number;
  /** Packets from outside to addresses that are not mapped public ones. */
  unmappedInbound: number;
}

interface EniRecord {
  eniId: string;
  link: string; // router-side veth
  mac: string;
  primaryIp: string;
  instanceId: string;
  deviceIndex: number;
  /** Destinations in the nft set, exactly (nft transactions are all-or-nothing). */
  elements: Set<string>;
  /** Destinations routed to this ENI, as far as known; see routesUncertain. */
  routes: Set<string>;
  /** A route batch failed part-way: the routes must be rebuilt from scratch on the next change. */
  routesUncertain: boolean;
  sourceDestCheck: boolean;
}

interface InstanceRecord {
  instanceId: string;
  netns: string;
  /** deviceIndex → eniId */
  enis: Map<number, string>;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;
const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const PREFIX_PATTERN = /^[a-z][a-z0-9-]{1,22}-$/;

function checkId(kind: string, id: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`invalid ${kind} id ${JSON.stringify(id)}`);
}

function checkMac(mac: string): string {
  const lower = mac.toLowerCase();
  if (!MAC_PATTERN.test(lower)) throw new Error(`invalid MAC address ${JSON.stringify(mac)}`);
  // A multicast MAC (low bit of the first octet) cannot be a unicast NIC's address.
  if ((parseInt(lower.slice(0, 2), 16) & 1) === 1) throw new Error(`MAC address ${mac} is multicast`);
  return lower;
}

function checkDeviceIndex(deviceIndex: number): void {
  if (!Number.isInteger(deviceIndex) || deviceIndex < 0 || deviceIndex > 99) {
    throw new Error(`invalid device index ${deviceIndex}`);
  }
}

/** A destination as stored: "a.b.c.d" for one address, "a.b.c.d/n" for a prefix. */
function destinationOf(text: string): string {
  if (!text.includes("/")) return canonicalIpv4(text);
  return kernelForm(parseCidr(text));
}

function routeTarget(destination: string): string {
  return destination.includes("/") ? destination : `${destination}/32`;
}

function difference<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): T[] {
  return [...a].filter((item) => !b.has(item));
}

function isMissingDevice(error: unknown): boolean {
  return error instanceof CommandError && /Cannot find device|does not exist|No such device/.test(error.stderr);
}

export class Fabric {
  readonly prefix: string;
  readonly mtu: number;
  /** The VPC router namespace's name; vpcsim's servers run there. */
  readonly routerNetns: string;
  /** Path for `nsenter --net=…` (the daemon, IMDS and EC2 API servers run in the router namespace). */
  readonly routerNetnsPath: string;
  readonly igwNetns: string;
  /** The external host's namespace (203.0.113.10). */
  readonly externalNetns: string;

  readonly #vpcCidrs: Cidr[] = [];
  readonly #gateways = new Set<string>();
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #enis = new Map<string, EniRecord>();
  readonly #links = new Map<string, string>(); // router-side link → eniId
  readonly #publicByPrivate = new Map<string, string>();
  readonly #serial = new KeyedSerializer();
  readonly #limit: <T>(task: () => Promise<T>) => Promise<T>;
  readonly #routerNft: NftCommitter;
  readonly #igwNft: NftCommitter;
  #echo: { child: ChildProcess; exited: Promise<void> } | undefined;
  #destroyed = false;
  /** Operations under way; destroy() lets them finish first, so none recreates anything after it. */
  readonly #inflight = new Set<Promise<unknown>>();

  private constructor(options: FabricOptions) {
    if (!PREFIX_PATTERN.test(options.prefix)) {
      throw new Error(`invalid prefix ${JSON.stringify(options.prefix)}: expected lower-case letters, digits and dashes, ending in "-" (e.g. "vs-ab12-")`);
    }
    this.prefix = options.prefix;
    this.mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu < 576 || this.mtu > 65535) throw new Error(`invalid MTU ${this.mtu}`);
    this.routerNetns = routerNetnsName(this.prefix);
    this.routerNetnsPath = netnsPathOf(this.routerNetns);
    this.igwNetns = `${this.prefix}igw`;
    this.externalNetns = `${this.prefix}ext`;
    this.#limit = createLimiter(options.concurrency ?? 8);
    this.#routerNft = new NftCommitter(this.routerNetns);
    this.#igwNft = new NftCommitter(this.igwNetns);
  }

  /**
   * Builds the router, internet gateway and external host of a new run (and starts the echo
   * server). Fails if namespaces with this prefix exist already; on failure nothing is left.
   */
  static async create(options: FabricOptions): Promise<Fabric> {
    const fabric = new Fabric(options);
    const cidrs = options.vpcCidrs.map((text) => parseCidr(text));
    if (cidrs.length === 0) throw new Error("a VPC needs at least one CIDR");
    // The router namespace may exist already, empty: vpcsim's daemon is started inside it and
    // builds the fabric from there. Any other namespace of the prefix means a run is still up.
    const existing = await listNetnsWithPrefix(fabric.prefix);
    const adoptRouter = existing.includes(fabric.routerNetns) && (await fabric.#routerIsEmpty());
    const others = existing.filter((name) => !(adoptRouter && name === fabric.routerNetns));
    if (others.length > 0) {
      throw new Error(`namespaces with prefix ${fabric.prefix} exist already (${others.join(", ")}); run \`vpcsim down\` first`);
    }
    try {
      await fabric.#build(cidrs, options.echoServer !== false, adoptRouter);
    } catch (error) {
      await fabric.destroy().catch(() => {});
      throw error;
    }
    return fabric;
  }

  netnsName(instanceId: string): string {
    checkId("instance", instanceId);
    return `${this.prefix}${instanceId}`;
  }

  netnsPath(instanceId: string): string {
    return netnsPathOf(this.netnsName(instanceId));
  }

  get vpcCidrs(): string[] {
    return this.#vpcCidrs.map(formatCidr);
  }

  /** Instance ids with a namespace, in creation order. */
  get instanceIds(): string[] {
    return [...this.#instances.keys()];
  }

  /** True if the router namespace has nothing in it but a loopback link (nobody has built it yet). */
  async #routerIsEmpty(): Promise<boolean> {
    const { stdout } = await run("ip", ["-n", this.routerNetns, "-o", "link", "show"], { timeoutMs: COMMAND_TIMEOUT_MS });
    return stdout.trim().split("\n").every((line) => / lo: /.test(line));
  }

  async #build(cidrs: Cidr[], withEchoServer: boolean, adoptRouter: boolean): Promise<void> {
    const created = adoptRouter ? [this.igwNetns, this.externalNetns] : [this.routerNetns, this.igwNetns, this.externalNetns];
    await Promise.all(created.map((netns) => this.#addNetns(netns)));
    // The echo server needs only its namespace; it starts while the links are being built.
    const echo = withEchoServer ? this.#startEchoServer() : Promise.resolve();
    const noIpv6 = { "net.ipv6.conf.all.disable_ipv6": 1, "net.ipv6.conf.default.disable_ipv6": 1 };
    const forwarding = {
      "net.ipv4.ip_forward": 1,
      // A new namespace inherits the host's IPv4 settings; a host with rp_filter set would make the
      // router drop asymmetric traffic (replies leaving a secondary ENI) that the VPC delivers.
      "net.ipv4.conf.all.rp_filter": 0,
      "net.ipv4.conf.default.rp_filter": 0,
      "net.ipv4.conf.all.send_redirects": 0,
      "net.ipv4.conf.default.send_redirects": 0,
      ...noIpv6,
    };
    await Promise.all([
      sysctlSet(this.routerNetns, {
        ...forwarding,
        // The router answers ARP for its own addresses (gateways, services) on every ENI link…
        "net.ipv4.conf.all.arp_ignore": 0,
        // …and, by proxy, for any address it routes to another link: the addresses EC2 assigned.
        // Set as the default so every ENI link created later has it.
        "net.ipv4.conf.default.proxy_arp": 1,
      }),
      sysctlSet(this.igwNetns, forwarding),
      sysctlSet(this.externalNetns, noIpv6),
    ]);
    const router: string[] = [
      "link set lo up",
      `addr replace ${EC2_ENDPOINT_ADDRESS}/32 dev lo`,
      `addr replace ${KUBERNETES_ENDPOINT_ADDRESS}/32 dev lo`,
      `addr replace ${IMDS_ADDRESS}/32 dev lo`,
      `link add ${ROUTER_IGW_LINK} mtu ${this.mtu} type veth peer name ${IGW_ROUTER_LINK} netns ${this.igwNetns} mtu ${this.mtu}`,
      `link set ${ROUTER_IGW_LINK} up`,
      `addr add ${TRANSFER_ROUTER_ADDRESS}/${TRANSFER_PREFIX_LENGTH} dev ${ROUTER_IGW_LINK}`,
      `route add default via ${TRANSFER_IGW_ADDRESS} dev ${ROUTER_IGW_LINK}`,
    ];
    const igw: string[] = [
      "link set lo up",
      `link set ${IGW_ROUTER_LINK} up`,
      `addr add ${TRANSFER_IGW_ADDRESS}/${TRANSFER_PREFIX_LENGTH} dev ${IGW_ROUTER_LINK}`,
      `link add ${IGW_EXTERNAL_LINK} mtu ${INTERNET_MTU} type veth peer name ${EXTERNAL_LINK} netns ${this.externalNetns} mtu ${INTERNET_MTU}`,
      `link set ${IGW_EXTERNAL_LINK} up`,
      `addr add ${EXTERNAL_GATEWAY_ADDRESS}/${EXTERNAL_PREFIX_LENGTH} dev ${IGW_EXTERNAL_LINK}`,
    ];
    await ipBatch(this.routerNetns, router);
    await ipBatch(this.igwNetns, igw);
    await Promise.all([
      ipBatch(this.externalNetns, [
        "link set lo up",
        `link set ${EXTERNAL_LINK} up`,
        `addr add ${EXTERNAL_HOST_ADDRESS}/${EXTERNAL_PREFIX_LENGTH} dev ${EXTERNAL_LINK}`,
        `route add default via ${EXTERNAL_GATEWAY_ADDRESS} dev ${EXTERNAL_LINK}`,
      ]),
      nftApply(this.routerNetns, routerRuleset()),
      nftApply(this.igwNetns, igwRuleset(IGW_ROUTER_LINK, IGW_EXTERNAL_LINK, EXTERNAL_GATEWAY_ADDRESS)),
    ]);
    for (const cidr of cidrs) await this.addVpcCidr(formatCidr(cidr));
    await echo;
  }

  async #addNetns(netns: string): Promise<void> {
    await run("ip", ["netns", "add", netns], { timeoutMs: COMMAND_TIMEOUT_MS });
  }

  async #startEchoServer(): Promise<void> {
    const script = fileURLToPath(new URL("./echo-server.ts", import.meta.url));
    const child = spawn("nsenter", [`--net=${netnsPathOf(this.externalNetns)}`, process.execPath, script], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.#echo = { child, exited };
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`echo server did not start within 15 s: ${stderr.trim()}`)), 15_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`echo server: ${error.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`echo server exited (${signal ?? `exit ${code}`}) before it was ready: ${stderr.trim()}`));
      });
    });
    // It must not keep its owner's event loop alive, and it dies with its owner (stdin closes).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();
  }

  /** Routes a VPC CIDR: unassigned addresses in it are dropped in the router, never sent to the gateway. */
  addVpcCidr(cidrText: string): Promise<void> {
    return this.#track(this.#addVpcCidr(cidrText));
  }

  async #addVpcCidr(cidrText: string): Promise<void> {
    this.#checkLive();
    const cidr = parseCidr(cidrText);
    const text = formatCidr(cidr);
    await this.#serial.run("vpc", async () => {
      await ipBatch(this.routerNetns, [`route replace blackhole ${text}`]);
      await ipBatch(this.igwNetns, [`route replace ${text} via ${TRANSFER_ROUTER_ADDRESS} dev ${IGW_ROUTER_LINK}`]);
      if (!this.#vpcCidrs.some((known) => formatCidr(known) === text)) this.#vpcCidrs.push(cidr);
    });
  }

  /** Puts the subnet's router address on the router, so instances in it reach their gateway. Idempotent. */
  addSubnet(subnet: { cidr: string; gateway?: string }): Promise<void> {
    return this.#track(this.#addSubnet(subnet));
  }

  async #addSubnet(subnet: { cidr: string; gateway?: string }): Promise<void> {
    this.#checkLive();
    const cidr = parseCidr(subnet.cidr);
    if (!this.#vpcCidrs.some((vpc) => vpc.prefixLength <= cidr.prefixLength && cidrContains(vpc, cidr.network))) {
      throw new Error(`subnet ${subnet.cidr} is outside the VPC's CIDRs (${this.vpcCidrs.join(", ")})`);
    }
    const gateway = subnet.gateway !== undefined ? canonicalIpv4(subnet.gateway) : subnetGateway(cidr);
    if (!cidrContains(cidr, parseIpv4(gateway))) throw new Error(`gateway ${gateway} is outside subnet ${subnet.cidr}`);
    if (this.#gateways.has(gateway)) return;
    await ipBatch(this.routerNetns, [`addr replace ${gateway}/32 dev lo`]);
    this.#gateways.add(gateway);
  }

  /**
   * Creates the instance's namespace as an EC2 AMI boots: lo up, eth0 = the primary ENI (its MAC,
   * the fabric MTU, up, the primary address), default route via the subnet router, and a route to
   * IMDS on eth0. Calling it again for an existing instance with the same primary ENI does nothing.
   */
  addInstance(request: { instanceId: string; primaryEni: EniSpec }): Promise<void> {
    return this.#track(this.#addInstance(request));
  }

  async #addInstance(request: { instanceId: string; primaryEni: EniSpec }): Promise<void> {
    const { instanceId, primaryEni } = request;
    const netns = this.netnsName(instanceId);
    checkId("network interface", primaryEni.eniId);
    this.#checkLive();
    await this.#serial.run(`instance:${instanceId}`, () =>
      this.#limit(async () => {
        this.#checkLive();
        const existing = this.#instances.get(instanceId);
        if (existing !== undefined) {
          if (existing.enis.get(0) === primaryEni.eniId) return;
          throw new Error(`instance ${instanceId} exists already with another primary ENI (${existing.enis.get(0)})`);
        }
        const subnet = parseCidr(primaryEni.subnetCidr);
        const gateway = primaryEni.gateway !== undefined ? canonicalIpv4(primaryEni.gateway) : subnetGateway(subnet);
        await this.addSubnet({ cidr: primaryEni.subnetCidr, gateway });
        await this.#addNetns(netns);
        // Boot with an AMI's settings, not whatever a new namespace gets from this host: strict
        // reverse-path filtering, as Amazon Linux ships it (node software loosens it on eth0, as
        // the reference agent does; tests then catch software that forgets).
        await sysctlSet(netns, { "net.ipv4.conf.all.rp_filter": 1, "net.ipv4.conf.default.rp_filter": 1 });
        const record: InstanceRecord = { instanceId, netns, enis: new Map() };
        this.#instances.set(instanceId, record);
        try {
          await this.#attach(record, 0, primaryEni);
          const primaryIp = canonicalIpv4(primaryEni.primaryIp);
          await ipBatch(netns, [
            "link set lo up",
            "link set eth0 up",
            `addr add ${primaryIp}/${subnet.prefixLength} brd + dev eth0`,
            `route add default via ${gateway} dev eth0`,
            `route add ${IMDS_ADDRESS} dev eth0`,
          ]);
        } catch (error) {
          // Leave nothing half-built: the namespace goes, and with it the veth and its routes.
          await this.#forgetInstance(record).catch(() => {});
          throw error;
        }
      }),
    );
  }

  /**
   * Hot-plugs an ENI into a running instance as eth<deviceIndex>, left down (configuring it is the
   * node software's job, as on EC2). Its addresses and prefixes are delivered from now on.
   * Re-attaching an ENI where it is already attached re-applies its addresses and check.
   */
  attachEni(request: EniSpec & { instanceId: string; deviceIndex: number }): Promise<void> {
    return this.#track(this.#attachEni(request));
  }

  async #attachEni(request: EniSpec & { instanceId: string; deviceIndex: number }): Promise<void> {
    checkId("instance", request.instanceId);
    this.#checkLive();
    const instance = this.#instances.get(request.instanceId);
    if (instance === undefined) throw new Error(`no instance ${request.instanceId} in the fabric`);
    await this.#attach(instance, request.deviceIndex, request);
  }

  async #attach(instance: InstanceRecord, deviceIndex: number, spec: EniSpec): Promise<void> {
    checkId("network interface", spec.eniId);
    checkDeviceIndex(deviceIndex);
    const mac = checkMac(spec.mac);
    const primaryIp = canonicalIpv4(spec.primaryIp);
    const subnet = parseCidr(spec.subnetCidr);
    if (!cidrContains(subnet, parseIpv4(primaryIp))) throw new Error(`${primaryIp} is outside subnet ${spec.subnetCidr}`);
    const destinations = this.#destinations(primaryIp, spec.privateIps ?? [], spec.ipv4Prefixes ?? []);
    const sourceDestCheck = spec.sourceDestCheck ?? true;
    await this.#serial.run(`eni:${spec.eniId}`, async () => {
      const current = this.#enis.get(spec.eniId);
      if (current !== undefined) {
        if (current.instanceId === instance.instanceId && current.deviceIndex === deviceIndex) {
          await this.#applyAddresses(current, destinations);
          await this.#applySourceDestCheck(current, sourceDestCheck);
          return;
        }
        throw new Error(`${spec.eniId} is attached to ${current.instanceId} as eth${current.deviceIndex}; detach it first`);
      }
      const occupant = instance.enis.get(deviceIndex);
      if (occupant !== undefined) throw new Error(`${instance.instanceId} has ${occupant} at device index ${deviceIndex} already`);
      await this.addSubnet({ cidr: spec.subnetCidr, ...(spec.gateway !== undefined ? { gateway: spec.gateway } : {}) });
      const link = this.#linkNameFor(spec.eniId);
      const record: EniRecord = {
        eniId: spec.eniId,
        link,
        mac,
        primaryIp,
        instanceId: instance.instanceId,
        deviceIndex,
        elements: new Set(),
        routes: new Set(),
        routesUncertain: false,
        sourceDestCheck: true,
      };
      this.#links.set(link, spec.eniId);
      instance.enis.set(deviceIndex, spec.eniId);
      try {
        await ipBatch(this.routerNetns, [
          `link add ${link} mtu ${this.mtu} type veth peer name eth${deviceIndex} netns ${instance.netns} address ${mac} mtu ${this.mtu}`,
          // Answer proxied ARP at once; the kernel's default holds replies back up to 0.8 s.
          `ntable change name arp_cache dev ${link} proxy_delay 0`,
          `link set ${link} up`,
          `neigh replace ${primaryIp} lladdr ${mac} dev ${link} nud permanent`,
          ...[...destinations].map((destination) => this.#routeLine(record, destination)),
        ]);
        for (const destination of destinations) record.routes.add(destination);
        this.#enis.set(spec.eniId, record);
        await this.#routerNft.apply(
          elementStatement("add", ROUTER_TABLE, "eni_sources", [...destinations].map((d) => `"${link}" . ${d}`)) +
            (sourceDestCheck ? "" : elementStatement("add", ROUTER_TABLE, "unchecked_enis", [`"${link}"`])),
        );
        for (const destination of destinations) record.elements.add(destination);
        record.sourceDestCheck = sourceDestCheck;
      } catch (error) {
        this.#enis.delete(spec.eniId);
        this.#links.delete(link);
        instance.enis.delete(deviceIndex);
        await deleteLinks(this.routerNetns, [link]).catch(() => {});
        throw error;
      }
    });
  }

  /** Unplugs an ENI: its veth pair goes, and with it every route to it. Unknown ENIs are ignored. */
  detachEni(request: { eniId: string }): Promise<void> {
    return this.#track(this.#detachEni(request));
  }

  async #detachEni(request: { eniId: string }): Promise<void> {
    checkId("network interface", request.eniId);
    await this.#serial.run(`eni:${request.eniId}`, async () => {
      const record = this.#enis.get(request.eniId);
      if (record === undefined) return;
      await this.#removeEni(record);
    });
  }

  async #removeEni(record: EniRecord): Promise<void> {
    // Stop accepting its sources first, then remove the link (which takes its routes along).
    await this.#routerNft.apply(
      elementStatement("delete", ROUTER_TABLE, "eni_sources", [...record.elements].map((d) => `"${record.link}" . ${d}`)) +
        (record.sourceDestCheck ? "" : elementStatement("delete", ROUTER_TABLE, "unchecked_enis", [`"${record.link}"`])),
    );
    record.elements.clear();
    await deleteLinks(this.routerNetns, [record.link]);
    this.#enis.delete(record.eniId);
    this.#links.delete(record.link);
    const instance = this.#instances.get(record.instanceId);
    if (instance !== undefined && instance.enis.get(record.deviceIndex) === record.eniId) instance.enis.delete(record.deviceIndex);
  }

  /**
   * Sets the full set of private addresses and IPv4 prefixes EC2 has assigned to an ENI (its
   * primary address is always kept). The router's routes and the source check follow, the check in
   * one transaction. An ENI that is not attached (or whose instance is gone) is ignored: the
   * addresses are passed again with attachEni.
   */
  setEniAddresses(request: { eniId: string; privateIps: readonly string[]; ipv4Prefixes: readonly string[] }): Promise<void> {
    return this.#track(this.#setEniAddresses(request));
  }

  async #setEniAddresses(request: { eniId: string; privateIps: readonly string[]; ipv4Prefixes: readonly string[] }): Promise<void> {
    checkId("network interface", request.eniId);
    await this.#serial.run(`eni:${request.eniId}`, async () => {
      const record = this.#enis.get(request.eniId);
      if (record === undefined) return;
      await this.#applyAddresses(record, this.#destinations(record.primaryIp, request.privateIps, request.ipv4Prefixes));
    });
  }

  #destinations(primaryIp: string, privateIps: readonly string[], prefixes: readonly string[]): Set<string> {
    const destinations = new Set<string>([primaryIp]);
    for (const address of privateIps) destinations.add(canonicalIpv4(address));
    for (const prefix of prefixes) destinations.add(destinationOf(prefix));
    return destinations;
  }

  #routeLine(record: EniRecord, destination: string): string {
    // Only the primary address is resolved on the link (a permanent neighbour entry); everything
    // else goes "via" it, so the router never ARPs toward an instance and needs one neighbour
    // entry per ENI however many addresses it has.
    if (destination === record.primaryIp) return `route replace ${destination}/32 dev ${record.link}`;
    return `route replace ${routeTarget(destination)} via ${record.primaryIp} dev ${record.link} onlink`;
  }

  async #applyAddresses(record: EniRecord, desired: ReadonlySet<string>): Promise<void> {
    const removeElements = difference(record.elements, desired);
    const addElements = difference(desired, record.elements);
    try {
      // Sources first when removing (an address stops being usable before it stops being
      // delivered); for additions the order does not matter.
      await this.#routerNft.apply(
        elementStatement("delete", ROUTER_TABLE, "eni_sources", removeElements.map((d) => `"${record.link}" . ${d}`)) +
          elementStatement("add", ROUTER_TABLE, "eni_sources", addElements.map((d) => `"${record.link}" . ${d}`)),
      );
      for (const destination of removeElements) record.elements.delete(destination);
      for (const destination of addElements) record.elements.add(destination);

      const lines: string[] = [];
      if (record.routesUncertain) {
        // After a partial failure the kernel's state is unknown: rebuild this ENI's routes whole.
        lines.push(`route flush dev ${record.link}`, `neigh replace ${record.primaryIp} lladdr ${record.mac} dev ${record.link} nud permanent`);
        for (const destination of desired) lines.push(this.#routeLine(record, destination));
      } else {
        for (const destination of difference(record.routes, desired)) lines.push(`route del ${routeTarget(destination)} dev ${record.link}`);
        for (const destination of difference(desired, record.routes)) lines.push(this.#routeLine(record, destination));
      }
      if (lines.length === 0) return;
      record.routesUncertain = true;
      await ipBatch(this.routerNetns, lines);
      record.routes = new Set(desired);
      record.routesUncertain = false;
    } catch (error) {
      if (isMissingDevice(error) && !(await this.#routerLinkExists(record.link))) {
        // The instance namespace vanished under us (its veth pair went with it): forget the ENI.
        await this.#removeEni(record).catch(() => {});
        return;
      }
      throw error;
    }
  }

  async #routerLinkExists(link: string): Promise<boolean> {
    try {
      await run("ip", ["-n", this.routerNetns, "link", "show", "dev", link], { timeoutMs: COMMAND_TIMEOUT_MS });
      return true;
    } catch {
      return false;
    }
  }

  /** EC2's source/destination check for one ENI (on by default). Unknown ENIs are ignored. */
  setSourceDestCheck(request: { eniId: string; enabled: boolean }): Promise<void> {
    return this.#track(this.#setSourceDestCheck(request));
  }

  async #setSourceDestCheck(request: { eniId: string; enabled: boolean }): Promise<void> {
    checkId("network interface", request.eniId);
    await this.#serial.run(`eni:${request.eniId}`, async () => {
      const record = this.#enis.get(request.eniId);
      if (record === undefined) return;
      await this.#applySourceDestCheck(record, request.enabled);
    });
  }

  async #applySourceDestCheck(record: EniRecord, enabled: boolean): Promise<void> {
    if (record.sourceDestCheck === enabled) return;
    await this.#routerNft.apply(elementStatement(enabled ? "delete" : "add", ROUTER_TABLE, "unchecked_enis", [`"${record.link}"`]));
    record.sourceDestCheck = enabled;
  }

  /**
   * Maps a public address 1:1 to a private one at the internet gateway (undefined removes the
   * mapping). A public address moves if it was mapped to another private address (as an Elastic
   * IP re-association does).
   */
  setPublicAddress(request: { privateIp: string; publicIp: string | undefined }): Promise<void> {
    return this.#track(this.#setPublicAddress(request));
  }

  async #setPublicAddress(request: { privateIp: string; publicIp: string | undefined }): Promise<void> {
    const privateIp = canonicalIpv4(request.privateIp);
    const publicIp = request.publicIp === undefined ? undefined : canonicalIpv4(request.publicIp);
    this.#checkLive();
    await this.#serial.run("public", async () => {
      if (this.#publicByPrivate.get(privateIp) === publicIp) return;
      const unmap = new Map<string, string>(); // private → public
      const old = this.#publicByPrivate.get(privateIp);
      if (old !== undefined) unmap.set(privateIp, old);
      if (publicIp !== undefined) {
        for (const [otherPrivate, otherPublic] of this.#publicByPrivate) {
          if (otherPublic === publicIp) unmap.set(otherPrivate, otherPublic);
        }
      }
      let script =
        elementStatement("delete", IGW_TABLE, "private_to_public", [...unmap.keys()]) +
        elementStatement("delete", IGW_TABLE, "public_to_private", [...unmap.values()]);
      if (publicIp !== undefined) {
        script +=
          elementStatement("add", IGW_TABLE, "private_to_public", [`${privateIp} : ${publicIp}`]) +
          elementStatement("add", IGW_TABLE, "public_to_private", [`${publicIp} : ${privateIp}`]);
      }
      await this.#igwNft.apply(script);
      for (const key of unmap.keys()) this.#publicByPrivate.delete(key);
      if (publicIp !== undefined) this.#publicByPrivate.set(privateIp, publicIp);
    });
  }

  /** Public address mappings, private → public. */
  get publicAddresses(): ReadonlyMap<string, string> {
    return new Map(this.#publicByPrivate);
  }

  /**
   * Terminates an instance's networking: processes inside its namespace are stopped, its ENIs
   * unplugged (their routes and source entries go) and the namespace deleted. Public mappings are
   * EC2's to change (setPublicAddress). Safe to repeat; also removes a leftover namespace.
   */
  removeInstance(request: { instanceId: string }): Promise<void> {
    return this.#track(this.#removeInstance(request));
  }

  async #removeInstance(request: { instanceId: string }): Promise<void> {
    const netns = this.netnsName(request.instanceId);
    await this.#serial.run(`instance:${request.instanceId}`, async () => {
      const record = this.#instances.get(request.instanceId);
      if (record !== undefined) await this.#forgetInstance(record);
      else {
        await terminatePids(await pidsInNetns([netns]));
        await deleteNetns([netns]);
      }
    });
  }

  async #forgetInstance(record: InstanceRecord): Promise<void> {
    await terminatePids(await pidsInNetns([record.netns]));
    await Promise.all(
      [...record.enis.values()].map((eniId) =>
        this.#serial.run(`eni:${eniId}`, async () => {
          const eni = this.#enis.get(eniId);
          if (eni !== undefined) await this.#removeEni(eni);
        }),
      ),
    );
    await deleteNetns([record.netns]);
    this.#instances.delete(record.instanceId);
  }

  /** The drop counters of the source check and the internet gateway. */
  async counters(): Promise<FabricCounters> {
    const read = async (netns: string, table: string): Promise<Map<string, number>> => {
      const { stdout } = await runInNetns(netns, "nft", ["-j", "list", "counters", "table", "ip", table], { timeoutMs: COMMAND_TIMEOUT_MS });
      const packets = new Map<string, number>();
      const parsed = JSON.parse(stdout) as { nftables?: Array<{ counter?: { name: string; packets: number } }> };
      for (const entry of parsed.nftables ?? []) {
        if (entry.counter !== undefined) packets.set(entry.counter.name, entry.counter.packets);
      }
      return packets;
    };
    const [router, igw] = await Promise.all([read(this.routerNetns, ROUTER_TABLE), read(this.igwNetns, IGW_TABLE)]);
    return {
      spoofedSources: router.get("spoofed_sources") ?? 0,
      unmappedOutbound: igw.get("unmapped_outbound") ?? 0,
      unmappedInbound: igw.get("unmapped_inbound") ?? 0,
    };
  }

  /**
   * Removes everything of the run: the echo server, every process in the run's namespaces (except
   * the calling process), every namespace with the prefix. Idempotent.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await Promise.allSettled([...this.#inflight]);
    const echo = this.#echo;
    if (echo !== undefined) {
      this.#echo = undefined;
      // Hold the event loop open until it has really gone.
      echo.child.ref();
      if (echo.child.exitCode === null && echo.child.signalCode === null) {
        echo.child.kill("SIGTERM");
        const timer = setTimeout(() => echo.child.kill("SIGKILL"), 2000);
        await echo.exited;
        clearTimeout(timer);
      }
      echo.child.stdin?.destroy();
    }
    await cleanupByPrefix(this.prefix);
    this.#instances.clear();
    this.#enis.clear();
    this.#links.clear();
    this.#publicByPrivate.clear();
    this.#gateways.clear();
  }

  #checkLive(): void {
    if (this.#destroyed) throw new Error(`the fabric of run ${this.prefix} has been destroyed`);
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#inflight.add(operation);
    const forget = (): void => {
      this.#inflight.delete(operation);
    };
    operation.then(forget, forget);
    return operation;
  }

  /**
   * The router-side link of an ENI: "v" + the id's last 14 hex digits (15 characters, the kernel's
   * limit), so an operator can tell which ENI a link serves. Two ENIs whose ids end alike fall back
   * to a hash of the id.
   */
  #linkNameFor(eniId: string): string {
    const tail = eniId.replace(/^eni-/, "").toLowerCase().replace(/[^a-z0-9]/g, "").slice(-14);
    let name = `${ENI_LINK_PREFIX}${tail}`;
    const owner = this.#links.get(name);
    if (tail.length < 4 || (owner !== undefined && owner !== eniId)) {
      name = `${ENI_LINK_PREFIX}${createHash("sha256").update(eniId).digest("hex").slice(0, 14)}`;
      const hashedOwner = this.#links.get(name);
      if (hashedOwner !== undefined && hashedOwner !== eniId) throw new Error(`link name collision between ${eniId} and ${hashedOwner}`);
    }
    return name;
  }
}

export { cleanupByPrefix } from "./cleanup.ts";
