// The vpcsim daemon of one run. It runs inside the run's VPC-router namespace (started there by
// `vpcsim up` with nsenter --net) and holds the EC2 model; it serves the EC2 API and IMDS on the
// fabric's service addresses, keeps the kernel fabric in step with EC2, and answers the CLI on a
// unix admin socket in the run directory. On SIGTERM, SIGINT or POST /shutdown it tears the fabric
// down and removes the run directory.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Ec2Model } from "./ec2/model.ts";
import { loadInstanceTypes } from "./ec2/instance-types.ts";
import type { AttachTimings, Clock, WorldEvent } from "./ec2/types.ts";
import { Ec2Error } from "./ec2/types.ts";
import { CredentialStore } from "./ec2/credentials.ts";
import { Throttle } from "./ec2/throttle.ts";
import { Faults, type FaultSpec } from "./ec2/faults.ts";
import { CallLog } from "./ec2/call-log.ts";
import { createEc2Handler } from "./ec2/server.ts";
import { ImdsView } from "./imds/imds-view.ts";
import { createImdsHandler, type RoleCredentials } from "./imds/imds-server.ts";
import { Fabric, SERVICE_ADDRESSES } from "./fabric/fabric.ts";
import { FabricSync } from "./fabric-sync.ts";
import { makeProfile, type ProfileName } from "./profiles.ts";
import { buildStatus } from "./status.ts";
import type { Topology } from "./topology.ts";
import { buildWorld, findSubnet, launchInstance } from "./world.ts";
import { prepareKubeService, type KubeService } from "./kube/daemon-service.ts";

const ACCOUNT_ID = "111122223333";
const CREDENTIAL_TTL_MS = 6 * 3600_000;
const ROTATE_BEFORE_MS = 15 * 60_000; // EC2 hands out new role credentials well before expiry

function log(level: "info" | "error", message: string, fields: Record<string, unknown> = {}) {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + "\n");
}

async function main() {
  const { values } = parseArgs({ options: { "run-dir": { type: "string" } }, strict: true });
  const dir = values["run-dir"];
  if (!dir) throw new Error("--run-dir is required");
  const name = dir.split("/").filter(Boolean).pop()!;
  const topology = JSON.parse(readFileSync(join(dir, "topology.json"), "utf8")) as Topology;
  const settings = JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")) as { profile: ProfileName; kubernetesNodes?: boolean; manifests?: string[] };
  writeFileSync(join(dir, "daemon.pid"), String(process.pid));
  const prefix = `vs-${name}-`;
  const profile = makeProfile(settings.profile);

  // Admin socket first, so `vpcsim up` can see start-up progress and failures.
  const admin = new AdminState();
  const adminServer = createServer((req, res) => void handleAdmin(admin, req, res));
  await listen(adminServer, join(dir, "admin.sock"));
  chmodSync(join(dir, "admin.sock"), 0o600);

  const clock: Clock = {
    now: () => Date.now(),
    after: (ms, fn) => {
      if (ms <= 0) queueMicrotask(fn);
      else setTimeout(fn, ms).unref();
    },
  };
  // Attach/detach durations: the profile's, unless a slow-attach fault overrides them.
  const overrides: { attachMs?: number; detachMs?: number } = {};
  const timings: AttachTimings = {
    get attachMs() {
      return overrides.attachMs ?? profile.attachMs();
    },
    get detachMs() {
      return overrides.detachMs ?? profile.detachMs();
    },
  };

  const listeners: ((e: WorldEvent) => void)[] = [];
  const model = new Ec2Model({
    clock,
    timings,
    instanceTypes: loadInstanceTypes(),
    accountId: ACCOUNT_ID,
    region: topology.region,
    onEvent: (e) => {
      for (const l of listeners) l(e);
    },
  });

  // The Kubernetes API's CA and store are made while the fabric comes up.
  const kubePrepared = prepareKubeService({ runDir: dir, runName: name, serviceAddress: SERVICE_ADDRESSES.kubernetes, log });
  const fabric = await Fabric.create({ prefix, vpcCidrs: [topology.vpcCidr, ...(topology.secondaryCidrs ?? [])] });
  admin.shutdown = async () => {
    log("info", "shutting down");
    await new Promise<void>((r) => adminServer.close(() => r()));
    await fabric.destroy();
    rmSync(dir, { recursive: true, force: true });
  };

  const sync = new FabricSync({ api: model, fabric, log });
  const view = new ImdsView({ api: model, account: { accountId: ACCOUNT_ID, region: topology.region }, clock, lagMs: () => profile.imdsLagMs() });
  listeners.push((e) => view.onEvent(e), (e) => sync.onEvent(e));

  for (const s of topology.subnets) {
    // Subnets are known before the world is built so their gateways exist when instances boot.
    await fabric.addSubnet({ cidr: s.cidr });
  }
  buildWorld(model, topology);
  await sync.settled();
  const bootFailures = sync.takeFailures();
  if (bootFailures.length > 0) throw new Error(bootFailures.join("; "));

  const credentials = new CredentialStore();
  const adminKey = credentials.issueLongTerm("vpcsim-admin");
  writeFileSync(join(dir, "credentials.json"), JSON.stringify({ accessKeyId: adminKey.accessKeyId, secretAccessKey: adminKey.secretAccessKey }, null, 2), { mode: 0o600 });
  const roleCredentials = new Map<string, RoleCredentials>();
  const credentialsFor = (instanceId: string): RoleCredentials => {
    const cached = roleCredentials.get(instanceId);
    if (cached && cached.expiration.getTime() - Date.now() > ROTATE_BEFORE_MS) return cached;
    const fresh = credentials.issue(instanceId, CREDENTIAL_TTL_MS);
    roleCredentials.set(instanceId, fresh);
    return fresh;
  };

  const throttle = new Throttle({ enabled: profile.throttling });
  const faults = new Faults();
  const callLog = new CallLog();
  const ec2Handler = createEc2Handler({
    api: model,
    credentials,
    throttle,
    faults,
    callLog,
    region: topology.region,
    latencyMs: (action) => profile.apiLatencyMs(action),
    onError: (err, action) => log("error", `EC2 ${action}: ${(err as Error).stack ?? String(err)}`),
  });

  const instanceBySource = (ip: string): string | undefined => {
    for (const eni of model.networkInterfaces()) {
      if (eni.attachment?.status === "attached" && eni.privateIps.some((p) => p.address === ip)) return eni.attachment.instanceId;
    }
    return undefined;
  };
  const imdsHandler = createImdsHandler({ view, resolveInstance: instanceBySource, credentialsFor });

  const kube = await kubePrepared.listen(await kubePrepared.ready);
  // kube-controller-manager's workload controllers and garbage collector, on the control plane's client.
  const { ControllerManager } = await import("./cluster/controller-manager.ts");
  const controllers = new ControllerManager(kube.server.client, (message) => log("error", message));
  await controllers.start();
  if (settings.manifests && settings.manifests.length > 0) {
    // `vpcsim up --nodes`: deploy/ applied before the kubelets register, so aws-node is there for them.
    const { applyClusterManifests } = await import("./cluster/cluster-manifests.ts");
    const applied = await applyClusterManifests(kube.server.client, settings.manifests);
    log("info", "applied the cluster's manifests", { objects: applied.map((a) => `${a.kind}/${a.name} ${a.action}`) });
  }
  const ec2Server = createServer(ec2Handler);
  const ec2UnixServer = createServer(ec2Handler);
  const imdsServer = createServer(imdsHandler);
  await listen(ec2Server, { host: SERVICE_ADDRESSES.ec2, port: 80 });
  await listen(ec2UnixServer, join(dir, "ec2.sock"));
  chmodSync(join(dir, "ec2.sock"), 0o600);
  await listen(imdsServer, { host: SERVICE_ADDRESSES.imds, port: 80 });

  const closeServers = async () => {
    await Promise.all([ec2Server, ec2UnixServer, imdsServer].map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
    controllers.stop();
    await kube.close();
  };
  // Kubernetes nodes (a kubelet per instance, the scheduler) only when asked for: plain runs stay cheap.
  let nodes: import("./kubelet/cluster-nodes.ts").ClusterNodes | undefined;
  const teardownFabric = admin.shutdown;
  admin.shutdown = async () => {
    // Kubelets first: their containers die while the namespaces and the API server are still there.
    await nodes?.close().catch((err: Error) => log("error", `stopping the kubelets: ${err.message}`));
    await closeServers();
    await teardownFabric();
  };
  if (settings.kubernetesNodes === true) {
    const { ClusterNodes } = await import("./kubelet/cluster-nodes.ts");
    nodes = new ClusterNodes({ runName: name, runDir: dir, server: kube.server, apiUrl: `https://${SERVICE_ADDRESSES.kubernetes}`, model, region: topology.region, ec2Endpoint: `http://${SERVICE_ADDRESSES.ec2}`, netnsOf: (id) => fabric.netnsName(id), log });
    await nodes.start();
  }

  admin.context = {
    status: () =>
      buildStatus(model, {
        name,
        profile: profile.name,
        region: topology.region,
        accountId: ACCOUNT_ID,
        netnsOf: (id) => fabric.netnsName(id),
        endpoints: {
          ec2: `http://${SERVICE_ADDRESSES.ec2}`,
          imds: `http://${SERVICE_ADDRESSES.imds}`,
          kubernetes: `https://${SERVICE_ADDRESSES.kubernetes}`,
          externalHost: SERVICE_ADDRESSES.externalHost,
          externalHost6: SERVICE_ADDRESSES.externalHost6,
        },
      }),
    launch: async (body) => {
      // Failures of earlier fabric work are not this launch's (they are in the daemon log).
      await sync.settled();
      sync.takeFailures();
      const instance = launchInstance(model, body);
      await sync.settled();
      const failures = sync.takeFailures();
      if (failures.length > 0) {
        // An instance without its namespace must not stay "running" in EC2.
        model.terminateInstance(instance.instanceId);
        await sync.settled();
        throw new Error(failures.join("; "));
      }
      await nodes?.startInstance(instance);
      const eni = model.networkInterface(instance.primaryNetworkInterfaceId);
      return { id: instance.instanceId, privateIp: eni?.privateIps[0]?.address ?? "", publicIp: instance.publicIpAddress ?? null, ipv6: eni?.ipv6Addresses[0] ?? null };
    },
    terminate: async (id) => {
      await nodes?.terminateInstance(id);
      model.terminateInstance(id);
      await sync.settled();
      roleCredentials.delete(id);
    },
    faults,
    callLog,
    setAttachTimings: (attachMs, detachMs) => {
      overrides.attachMs = attachMs;
      overrides.detachMs = detachMs;
    },
    exhaust: (subnetRef, count) => {
      const subnet = findSubnet(model, subnetRef);
      if (!subnet) throw new Ec2Error("InvalidSubnetID.NotFound", `no subnet '${subnetRef}'`);
      const current = model.subnet(subnet.subnetId)!;
      model.setSubnetReservation(subnet.subnetId, 0);
      const free = model.subnet(subnet.subnetId)!.availableIpAddressCount;
      model.setSubnetReservation(subnet.subnetId, Math.min(count ?? free, free));
      return { subnet: current.subnetId, available: model.subnet(subnet.subnetId)!.availableIpAddressCount };
    },
    clearFaults: () => {
      faults.clear();
      throttle.configure({ enabled: profile.throttling, scale: 1 });
      ec2Deny.clear();
      delete overrides.attachMs;
      delete overrides.detachMs;
      for (const s of model.subnets()) model.setSubnetReservation(s.subnetId, 0);
    },
    throttle,
    deny: (actions) => {
      ec2Deny.clear();
      for (const a of actions) ec2Deny.add(a);
    },
    kube,
  };
  const ec2Deny = ec2Handler.denyActions;
  admin.ready = true;
  log("info", "vpcsim is up", { run: name, profile: profile.name, instances: model.instances().length });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", `received ${signal}`);
    try {
      await admin.shutdown?.();
    } finally {
      process.exit(0);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

interface AdminContext {
  status: () => unknown;
  launch: (body: { name: string; type: string; subnet: string; public?: boolean }) => Promise<unknown>;
  terminate: (id: string) => Promise<void>;
  faults: Faults;
  callLog: CallLog;
  throttle: Throttle;
  setAttachTimings: (attachMs: number | undefined, detachMs: number | undefined) => void;
  exhaust: (subnet: string, count: number | undefined) => unknown;
  clearFaults: () => void;
  deny: (actions: string[]) => void;
  kube: KubeService;
}

class AdminState {
  ready = false;
  error: string | undefined;
  context: AdminContext | undefined;
  shutdown: (() => Promise<void>) | undefined;
}

async function handleAdmin(admin: AdminState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body ?? null);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  try {
    const url = new URL(req.url ?? "/", "http://admin");
    const route = `${req.method} ${url.pathname}`;
    const body = await readJson(req);
    if (route === "GET /ready") return send(200, { ready: admin.ready, error: admin.error });
    if (route === "POST /shutdown") {
      send(200, { stopping: true });
      try {
        await admin.shutdown?.();
      } catch (err) {
        // The answer is sent; `vpcsim down` clears what is left by the run's prefix.
        log("error", `shutdown: ${(err as Error).message}`);
      }
      process.exit(0);
    }
    const ctx = admin.context;
    if (!ctx) return send(503, { error: admin.error ?? "vpcsim is still starting" });
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    switch (route) {
      case "GET /status":
        return send(200, ctx.status());
      case "POST /instances": {
        const b = body as { name?: unknown; type?: unknown; subnet?: unknown; public?: unknown };
        if (typeof b?.name !== "string" || typeof b.type !== "string" || typeof b.subnet !== "string") {
          return send(400, { error: "name, type and subnet are required strings" });
        }
        return send(201, await ctx.launch({ name: b.name, type: b.type, subnet: b.subnet, public: b.public === true }));
      }
      case "GET /calls":
        return send(200, ctx.callLog.query({ action: q("action"), outcome: q("outcome"), last: q("last") ? Number(q("last")) : undefined }));
      case "GET /calls/counts":
        return send(200, ctx.callLog.counts({ action: q("action"), outcome: q("outcome") }));
      case "GET /faults":
        return send(200, ctx.faults.list());
      case "POST /faults": {
        // The CLI speaks HTTP statuses (--status 500|503); the fault table speaks EC2 error codes.
        const { status, ...spec } = (body ?? {}) as FaultSpec & { status?: number };
        if (status !== undefined && status !== 500 && status !== 503) return send(400, { error: "status must be 500 (InternalError) or 503 (Unavailable)" });
        return send(201, ctx.faults.add({ ...spec, ...(status === undefined ? {} : { code: status === 503 ? "Unavailable" : "InternalError" }) }));
      }
      case "DELETE /faults":
        ctx.clearFaults();
        return send(200, { cleared: true });
      case "POST /faults/attach": {
        const b = body as { attachMs?: unknown; detachMs?: unknown };
        const ms = (v: unknown) => v === undefined || (typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 3_600_000);
        if (!ms(b?.attachMs) || !ms(b?.detachMs)) return send(400, { error: "attachMs and detachMs must be milliseconds from 0 to 3600000" });
        ctx.setAttachTimings(b.attachMs as number | undefined, b.detachMs as number | undefined);
        return send(200, { attachMs: b.attachMs, detachMs: b.detachMs });
      }
      case "POST /faults/exhaust": {
        const b = body as { subnet?: unknown; count?: unknown };
        if (typeof b?.subnet !== "string") return send(400, { error: "subnet is required" });
        if (b.count !== undefined && !(typeof b.count === "number" && Number.isInteger(b.count) && b.count >= 0)) return send(400, { error: "count must be a whole number of at least 0" });
        return send(200, ctx.exhaust(b.subnet, typeof b.count === "number" ? b.count : undefined));
      }
      case "POST /faults/throttling": {
        const b = body as { enabled?: unknown; scale?: unknown };
        ctx.throttle.configure({ enabled: b.enabled === true, ...(typeof b.scale === "number" ? { scale: b.scale } : {}) });
        return send(200, { enabled: b.enabled === true });
      }
      case "POST /kube/kubeconfig": {
        const b = body as { server?: unknown };
        if (typeof b?.server !== "string" || !/^https:\/\/127\.0\.0\.1:\d+$/.test(b.server)) return send(400, { error: "server must be https://127.0.0.1:PORT" });
        return send(200, { path: ctx.kube.writeAdminKubeconfig(b.server) });
      }
      case "POST /kube/apply":
      case "POST /kube/delete": {
        const { applyManifestObjects, deleteManifestObjects, objectsOf } = await import("./cluster/manifest-commands.ts");
        const { ADMIN_USER } = await import("./kube/server.ts");
        let objects;
        try {
          objects = objectsOf(body);
        } catch (err) {
          return send(400, { error: (err as Error).message });
        }
        const client = ctx.kube.server.clientAs(ADMIN_USER);
        const cascade = (body as { cascade?: unknown }).cascade;
        if (cascade !== undefined && cascade !== "background" && cascade !== "foreground" && cascade !== "orphan") return send(400, { error: "cascade must be background, foreground or orphan" });
        return send(200, route === "POST /kube/apply" ? await applyManifestObjects(client, objects) : await deleteManifestObjects(client, objects, cascade));
      }
      case "POST /faults/deny": {
        const b = body as { actions?: unknown };
        if (!Array.isArray(b?.actions) || !b.actions.every((a) => typeof a === "string")) return send(400, { error: "actions must be a list of action names" });
        ctx.deny(b.actions as string[]);
        return send(200, { denied: b.actions });
      }
    }
    const terminate = /^DELETE \/instances\/(i-[0-9a-f]+)$/.exec(route);
    if (terminate) {
      await ctx.terminate(terminate[1]!);
      return send(200, { terminated: terminate[1] });
    }
    return send(404, { error: `no such admin call: ${route}` });
  } catch (err) {
    const e = err as Error;
    return send(e instanceof Ec2Error || e instanceof SyntaxError ? 400 : 500, { error: e instanceof Ec2Error ? `${e.code}: ${e.message}` : e.message });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) req.destroy(new Error("admin request body over 1 MiB"));
      else chunks.push(c);
    });
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text === "" ? undefined : JSON.parse(text));
      } catch (err) {
        reject(err);
      }
    });
    req.on("error", reject);
  });
}

function listen(server: Server, target: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (typeof target === "string") server.listen(target, () => resolve());
    else server.listen(target.port, target.host, () => resolve());
  });
}

main().catch((err: Error) => {
  log("error", `start-up failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
