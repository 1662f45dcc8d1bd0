// The fabric: vpcsim's datapath. It turns EC2 state (instances, ENI attachments, assigned
// addresses and prefixes, source/destination check, public addresses) into kernel networking
// inside network namespaces of this run:
//
//   <prefix><instance-id>  one per instance; eth<N> is the ENI at device index N (instance-namespaces.ts)
//   <prefix>router         the VPC router (vpc-router.ts): services on its lo, and a port per attached
//                          ENI (eni-port.ts): its veth (eni-links.ts), delivery by assignment
//                          (eni-delivery.ts) and the source/destination check (source-dest-check.ts)
//   <prefix>igw            the internet gateway, stateless 1:1 NAT for IPv4 (internet-gateway.ts), and
//                          the egress-only internet gateway for IPv6 (egress-only-gateway.ts)
//   <prefix>ext            an IPv4 "internet" host, 203.0.113.10, running echo-server.ts (external-host.ts)
//   <prefix>ext6           an IPv6 "internet" host, 2001:db8:ffff::10, running the same
//
// This class is the fabric's one face: it checks every request, keeps which ENI is plugged where,
// runs the changes of one instance or ENI one after another (different ones in parallel), and lets
// destroy() wait for what is under way. Nothing here ever touches the root namespace: every link is
// created inside a namespace of the run, with its peer moved straight into another one.

import { existsSync } from "node:fs";
import { KeyedSerializer, addNetns, createLimiter, netnsPathOf, nftCounters } from "./exec.ts";
import { cleanupByPrefix, listNetnsWithPrefix } from "./cleanup.ts";
import { canonicalIpv4, cidrContains, formatCidr, parseCidr, parseIpv4, subnetGateway, type Cidr } from "./ipv4.ts";
import { canonicalIpv6, formatCidr6, isIpv6Text, parseCidr6Strict } from "./ipv6.ts";
import { DEFAULT_MTU, subnetRouterLinkLocal } from "./addresses.ts";
import { EniLinkNames } from "./eni-links.ts";
import { destinationsOf, type EniAddresses } from "./eni-delivery.ts";
import { EniPort } from "./eni-port.ts";
import { ROUTER_TABLE } from "./source-dest-check.ts";
import { VpcRouter } from "./vpc-router.ts";
import { IGW_TABLE, InternetGateway } from "./internet-gateway.ts";
import { EIGW_TABLE, EgressOnlyGateway } from "./egress-only-gateway.ts";
import { ExternalHost } from "./external-host.ts";
import { bootPrimaryInterface, createInstanceNamespace, deleteInstanceNamespace, stopInstanceProcesses } from "./instance-namespaces.ts";

export { routerNetnsName } from "./vpc-router.ts";
export {
  EC2_ENDPOINT_ADDRESS,
  EXTERNAL_HOST_ADDRESS,
  EXTERNAL6_HOST_ADDRESS,
  IMDS_ADDRESS,
  KUBERNETES_ENDPOINT_ADDRESS,
  SERVICE_ADDRESSES,
  subnetRouterLinkLocal,
} from "./addresses.ts";
export { cleanupByPrefix } from "./cleanup.ts";

export interface FabricOptions {
  /** Per-run prefix of every namespace, e.g. "vs-ab12-": lower-case letters, digits, dashes, ending in "-". */
  prefix: string;
  /** The VPC's CIDRs, IPv4 (primary first) and IPv6; more can be added with addVpcCidr. */
  vpcCidrs: readonly string[];
  /** MTU of ENIs and the router's links (default 9001). */
  mtu?: number;
  /** How many instance namespaces are set up at once (default 8). */
  concurrency?: number;
  /** Start the external hosts' echo servers (default true). */
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
  /** IPv6 addresses and /80 prefixes; on a primary ENI the addresses are also eth0's at boot. */
  ipv6Addresses?: readonly string[];
  ipv6Prefixes?: readonly string[];
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
  /** IPv6 packets from outside that no connection from inside asked for, dropped at the egress-only gateway. */
  unsolicitedInbound: number;
}

/** The addresses setEniAddresses takes: everything EC2 has assigned to the ENI but its primary address. */
export type AssignedAddresses = Omit<EniAddresses, "primaryIp"> & { privateIps: readonly string[]; ipv4Prefixes: readonly string[] };

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

/** A VPC CIDR of either family in canonical text; a malformed one throws. */
function canonicalVpcCidr(text: string): string {
  return isIpv6Text(text) ? formatCidr6(parseCidr6Strict(text)) : formatCidr(parseCidr(text));
}

export class Fabric {
  readonly prefix: string;
  readonly mtu: number;
  /** The VPC router namespace's name; vpcsim's servers run there. */
  readonly routerNetns: string;
  /** Path for `nsenter --net=…` (the daemon, IMDS and EC2 API servers run in the router namespace). */
  readonly routerNetnsPath: string;
  readonly igwNetns: string;
  /** The IPv4 external host's namespace (203.0.113.10). */
  readonly externalNetns: string;
  /** The IPv6 external host's namespace (2001:db8:ffff::10). */
  readonly external6Netns: string;

  readonly #router: VpcRouter;
  readonly #igw: InternetGateway;
  readonly #eigw: EgressOnlyGateway;
  readonly #external: ExternalHost;
  readonly #external6: ExternalHost;
  readonly #vpcCidrs: Cidr[] = [];
  readonly #vpcCidrs6: string[] = [];
  readonly #instances = new Map<string, InstanceRecord>();
  readonly #enis = new Map<string, EniPort>();
  readonly #links = new EniLinkNames();
  readonly #serial = new KeyedSerializer();
  readonly #limit: <T>(task: () => Promise<T>) => Promise<T>;
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
    this.#router = new VpcRouter(this.prefix);
    this.#igw = new InternetGateway(this.prefix);
    this.#eigw = new EgressOnlyGateway(this.#igw.netns);
    this.#external = new ExternalHost(this.prefix, "ipv4");
    this.#external6 = new ExternalHost(this.prefix, "ipv6");
    this.routerNetns = this.#router.netns;
    this.routerNetnsPath = this.#router.netnsPath;
    this.igwNetns = this.#igw.netns;
    this.externalNetns = this.#external.netns;
    this.external6Netns = this.#external6.netns;
    this.#limit = createLimiter(options.concurrency ?? 8);
  }

  /**
   * Builds the router, the gateways and the external hosts of a new run (and starts the echo
   * servers). Fails if namespaces with this prefix exist already; on failure nothing is left.
   */
  static async create(options: FabricOptions): Promise<Fabric> {
    if (!existsSync("/proc/sys/net/ipv6")) {
      throw new Error("this kernel has no IPv6 (booted with ipv6.disable=1?): vpcsim's fabric is dual-stack and needs it, even for IPv4-only VPCs");
    }
    const fabric = new Fabric(options);
    const cidrs = options.vpcCidrs.map(canonicalVpcCidr);
    if (!cidrs.some((cidr) => !isIpv6Text(cidr))) throw new Error("a VPC needs at least one IPv4 CIDR");
    // The router namespace may exist already, empty: vpcsim's daemon is started inside it and
    // builds the fabric from there. Any other namespace of the prefix means a run is still up.
    const existing = await listNetnsWithPrefix(fabric.prefix);
    const adoptRouter = existing.includes(fabric.routerNetns) && (await fabric.#router.isEmpty());
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

  /** The VPC CIDRs routed, IPv4 ones first. */
  get vpcCidrs(): string[] {
    return [...this.#vpcCidrs.map(formatCidr), ...this.#vpcCidrs6];
  }

  /** Instance ids with a namespace, in creation order. */
  get instanceIds(): string[] {
    return [...this.#instances.keys()];
  }

  async #build(cidrs: string[], withEchoServers: boolean, adoptRouter: boolean): Promise<void> {
    const hosts = [this.#external, this.#external6];
    const created = [...(adoptRouter ? [] : [this.routerNetns]), this.igwNetns, ...hosts.map((host) => host.netns)];
    await Promise.all(created.map((netns) => addNetns(netns)));
    // The echo servers need only their namespaces; they start while the links are being built.
    const echoes = Promise.all(withEchoServers ? hosts.map((host) => host.startEchoServer()) : []);
    await Promise.all([this.#router.setSysctls(), this.#igw.setSysctls(), ...hosts.map((host) => host.setSysctls())]);
    await this.#router.buildLinks({ mtu: this.mtu, igwNetns: this.igwNetns });
    await this.#igw.buildLinks({ externalNetns: this.externalNetns });
    await this.#eigw.buildLinks({ external6Netns: this.external6Netns });
    await Promise.all([...hosts.map((host) => host.buildLinks()), this.#router.loadRuleset(), this.#igw.loadRuleset(), this.#eigw.loadRuleset()]);
    for (const cidr of cidrs) await this.addVpcCidr(cidr);
    await echoes;
  }

  /**
   * Routes a VPC CIDR, IPv4 or IPv6: unassigned addresses in it are dropped in the router, never
   * sent to a gateway, and the gateways send what comes back for it to the router. Idempotent.
   */
  addVpcCidr(cidrText: string): Promise<void> {
    return this.#track(this.#addVpcCidr(cidrText));
  }

  /** Stops routing a VPC CIDR (disassociated): the reverse of addVpcCidr. Idempotent. */
  removeVpcCidr(cidrText: string): Promise<void> {
    return this.#track(this.#removeVpcCidr(cidrText));
  }

  async #removeVpcCidr(cidrText: string): Promise<void> {
    this.#checkLive();
    const text = canonicalVpcCidr(cidrText);
    await this.#serial.run("vpc", async () => {
      await this.#router.unBlackhole(text);
      if (isIpv6Text(text)) {
        await this.#eigw.unrouteVpc(text);
        const at = this.#vpcCidrs6.indexOf(text);
        if (at >= 0) this.#vpcCidrs6.splice(at, 1);
      } else {
        await this.#igw.unrouteVpc(text);
        const at = this.#vpcCidrs.findIndex((known) => formatCidr(known) === text);
        if (at >= 0) this.#vpcCidrs.splice(at, 1);
      }
    });
  }

  async #addVpcCidr(cidrText: string): Promise<void> {
    this.#checkLive();
    const text = canonicalVpcCidr(cidrText);
    await this.#serial.run("vpc", async () => {
      await this.#router.blackhole(text);
      if (isIpv6Text(text)) {
        await this.#eigw.routeToVpc(text);
        if (!this.#vpcCidrs6.includes(text)) this.#vpcCidrs6.push(text);
      } else {
        await this.#igw.routeToVpc(text);
        if (!this.#vpcCidrs.some((known) => formatCidr(known) === text)) this.#vpcCidrs.push(parseCidr(text));
      }
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
      throw new Error(`subnet ${subnet.cidr} is outside the VPC's IPv4 CIDRs (${this.#vpcCidrs.map(formatCidr).join(", ")})`);
    }
    const gateway = subnet.gateway !== undefined ? canonicalIpv4(subnet.gateway) : subnetGateway(cidr);
    if (!cidrContains(cidr, parseIpv4(gateway))) throw new Error(`gateway ${gateway} is outside subnet ${subnet.cidr}`);
    await this.#router.addGateway(gateway);
  }

  /**
   * Creates the instance's namespace as an EC2 AMI boots: lo up, eth0 = the primary ENI (its MAC,
   * the fabric MTU, up, the primary address and its IPv6 addresses as /128s), default routes via the
   * subnet router (IPv6: its link-local address), and a route to IMDS on eth0. Calling it again for
   * an existing instance with the same primary ENI does nothing.
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
        await createInstanceNamespace(netns);
        const record: InstanceRecord = { instanceId, netns, enis: new Map() };
        this.#instances.set(instanceId, record);
        try {
          await this.#attach(record, 0, primaryEni);
          await bootPrimaryInterface(netns, {
            primaryIp: canonicalIpv4(primaryEni.primaryIp),
            prefixLength: subnet.prefixLength,
            gateway,
            ipv6Addresses: (primaryEni.ipv6Addresses ?? []).map(canonicalIpv6),
            ipv6Gateway: subnetRouterLinkLocal(formatCidr(subnet)),
          });
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
    const destinations = destinationsOf({ ...spec, primaryIp });
    const sourceDestCheck = spec.sourceDestCheck ?? true;
    await this.#serial.run(`eni:${spec.eniId}`, async () => {
      const current = this.#enis.get(spec.eniId);
      if (current !== undefined) {
        if (current.instanceId === instance.instanceId && current.deviceIndex === deviceIndex) {
          await this.#deliver(current, destinations);
          await current.setSourceDestCheck(sourceDestCheck);
          return;
        }
        throw new Error(`${spec.eniId} is attached to ${current.instanceId} as eth${current.deviceIndex}; detach it first`);
      }
      const occupant = instance.enis.get(deviceIndex);
      if (occupant !== undefined) throw new Error(`${instance.instanceId} has ${occupant} at device index ${deviceIndex} already`);
      await this.addSubnet({ cidr: spec.subnetCidr, ...(spec.gateway !== undefined ? { gateway: spec.gateway } : {}) });
      const link = this.#links.nameFor(spec.eniId);
      this.#links.claim(link, spec.eniId);
      instance.enis.set(deviceIndex, spec.eniId);
      try {
        const port = await EniPort.plug(this.#router, {
          eniId: spec.eniId,
          link,
          mac,
          primaryIp,
          subnetCidr: formatCidr(subnet),
          mtu: this.mtu,
          instanceId: instance.instanceId,
          instanceNetns: instance.netns,
          deviceIndex,
          destinations,
          sourceDestCheck,
        });
        this.#enis.set(spec.eniId, port);
      } catch (error) {
        this.#links.release(link);
        instance.enis.delete(deviceIndex);
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
      const eni = this.#enis.get(request.eniId);
      if (eni === undefined) return;
      await this.#removeEni(eni);
    });
  }

  async #removeEni(eni: EniPort): Promise<void> {
    await eni.unplug();
    this.#enis.delete(eni.eniId);
    this.#links.release(eni.link);
    const instance = this.#instances.get(eni.instanceId);
    if (instance !== undefined && instance.enis.get(eni.deviceIndex) === eni.eniId) instance.enis.delete(eni.deviceIndex);
  }

  /**
   * Sets the full set of private addresses, IPv4 prefixes, IPv6 addresses and IPv6 prefixes EC2 has
   * assigned to an ENI (its primary address is always kept). The router's routes and the source
   * check follow, the check in one transaction. An ENI that is not attached (or whose instance is
   * gone) is ignored: the addresses are passed again with attachEni. Only the router changes: what
   * the instance configures on its own interfaces is its software's business, as on EC2.
   */
  setEniAddresses(request: { eniId: string } & AssignedAddresses): Promise<void> {
    return this.#track(this.#setEniAddresses(request));
  }

  async #setEniAddresses(request: { eniId: string } & AssignedAddresses): Promise<void> {
    checkId("network interface", request.eniId);
    await this.#serial.run(`eni:${request.eniId}`, async () => {
      const eni = this.#enis.get(request.eniId);
      if (eni === undefined) return;
      await this.#deliver(eni, destinationsOf({ ...request, primaryIp: eni.primaryIp }));
    });
  }

  async #deliver(eni: EniPort, desired: ReadonlySet<string>): Promise<void> {
    // A port whose link vanished with its instance's namespace is forgotten.
    if (!(await eni.deliver(desired))) await this.#removeEni(eni).catch(() => {});
  }

  /** EC2's source/destination check for one ENI (on by default). Unknown ENIs are ignored. */
  setSourceDestCheck(request: { eniId: string; enabled: boolean }): Promise<void> {
    return this.#track(this.#setSourceDestCheck(request));
  }

  async #setSourceDestCheck(request: { eniId: string; enabled: boolean }): Promise<void> {
    checkId("network interface", request.eniId);
    await this.#serial.run(`eni:${request.eniId}`, async () => {
      await this.#enis.get(request.eniId)?.setSourceDestCheck(request.enabled);
    });
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
    await this.#serial.run("public", () => this.#igw.setPublicAddress(privateIp, publicIp));
  }

  /** Public address mappings, private → public. */
  get publicAddresses(): ReadonlyMap<string, string> {
    return this.#igw.publicAddresses;
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
        await stopInstanceProcesses(netns);
        await deleteInstanceNamespace(netns);
      }
    });
  }

  async #forgetInstance(record: InstanceRecord): Promise<void> {
    await stopInstanceProcesses(record.netns);
    await Promise.all(
      [...record.enis.values()].map((eniId) =>
        this.#serial.run(`eni:${eniId}`, async () => {
          const eni = this.#enis.get(eniId);
          if (eni !== undefined) await this.#removeEni(eni);
        }),
      ),
    );
    await deleteInstanceNamespace(record.netns);
    this.#instances.delete(record.instanceId);
  }

  /** The drop counters of the source check and the gateways. */
  async counters(): Promise<FabricCounters> {
    const [router, igw, eigw] = await Promise.all([
      nftCounters(this.routerNetns, ROUTER_TABLE),
      nftCounters(this.igwNetns, IGW_TABLE),
      nftCounters(this.igwNetns, EIGW_TABLE),
    ]);
    return {
      spoofedSources: router.get("spoofed_sources") ?? 0,
      unmappedOutbound: igw.get("unmapped_outbound") ?? 0,
      unmappedInbound: igw.get("unmapped_inbound") ?? 0,
      unsolicitedInbound: eigw.get("unsolicited_inbound") ?? 0,
    };
  }

  /**
   * Removes everything of the run: the echo servers, every process in the run's namespaces (except
   * the calling process), every namespace with the prefix. Idempotent.
   */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await Promise.allSettled([...this.#inflight]);
    await Promise.all([this.#external.stopEchoServer(), this.#external6.stopEchoServer()]);
    await cleanupByPrefix(this.prefix);
    this.#instances.clear();
    this.#enis.clear();
    this.#links.clear();
    this.#igw.forget();
    this.#router.forget();
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
}
