// vpcsim's Kubernetes API server: the store, the served kinds, admission, authentication and
// authorization, the controllers that belong with them (namespaces, service accounts), and HTTPS
// listeners (TCP addresses and unix sockets) with a certificate from the run's CA. `start` makes
// everything but the listeners (so the CA can be made while the fabric comes up); `listen` opens
// them. In-process users take `client` (the control plane's identity) or `clientAs(user)`.

import { createServer, type Server } from "node:https";
import { rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { RevisionStore, type HistoryWindow } from "./store/revision-store.ts";
import { Registry } from "./registry/registry.ts";
import { KubeApi } from "./api/kube-api.ts";
import { KubeClient } from "./api/client.ts";
import type { WatchSettings } from "./api/watch.ts";
import { AdmissionChain } from "./admission/plugin.ts";
import { namespaceLifecycle } from "./admission/namespace-lifecycle.ts";
import { serviceAccountAdmission } from "./admission/service-account.ts";
import { defaultTolerationSeconds, priorityAdmission } from "./admission/pod-defaults.ts";
import { nodeRestriction } from "./admission/node-restriction.ts";
import { Authenticator } from "./auth/authenticator.ts";
import { ClusterAuthorizer } from "./auth/authorizer.ts";
import { NodeAuthorizer } from "./auth/node-authorizer.ts";
import { RbacAuthorizer } from "./auth/rbac.ts";
import { bootstrapPolicy } from "./auth/bootstrap-policy.ts";
import { ServiceAccountTokens } from "./auth/service-account-tokens.ts";
import { CONTROL_PLANE, nodeUsername, type UserInfo } from "./auth/user.ts";
import { builtInTypes } from "./kinds/built-in.ts";
import { SYSTEM_PRIORITY_CLASSES } from "./kinds/cluster-config.ts";
import { kubernetesService, serviceAllocation } from "./kinds/services.ts";
import { NODE_LEASE_NAMESPACE } from "./auth/node-authorizer.ts";
import { NamespaceController } from "./controllers/namespace-controller.ts";
import { ServiceAccountController } from "./controllers/service-account-controller.ts";
import { CrdController } from "./crd/crd-controller.ts";
import { CertificateAuthority } from "./tls/certificate-authority.ts";
import { createHandler } from "./http/handler.ts";
import { kubeconfigText, writeKubeconfig } from "./kubeconfig.ts";
import { KubeError } from "./status.ts";
import type { KObject } from "./objects.ts";

export const ADMIN_USER: UserInfo = { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };
export const SERVING_DNS_NAMES = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"];
export const INITIAL_NAMESPACES = ["default", "kube-system", "kube-public", NODE_LEASE_NAMESPACE];

export type ListenTarget = { host: string; port: number } | { path: string };

export interface KubeApiServerOptions {
  /** Directory for the CA and keys (created 0700). */
  dir: string;
  clusterName: string;
  /** Addresses the serving certificate is for, besides 127.0.0.1. */
  ips?: string[];
  /** host:port clients are told to use (/api's serverAddressByClientCIDRs). */
  serverAddress?: string;
  /** Where the `default/kubernetes` service's endpoints point (the address instances reach). */
  advertise?: { ip: string; port: number };
  history?: Partial<HistoryWindow>;
  watch?: Partial<WatchSettings>;
  maxWatchBacklogBytes?: number;
  now?: () => number;
  log?: (level: "info" | "error", message: string) => void;
}

export class KubeApiServer {
  readonly store: RevisionStore;
  readonly registry: Registry;
  readonly api: KubeApi;
  readonly admission: AdmissionChain;
  readonly tokens: ServiceAccountTokens;
  readonly authenticator: Authenticator;
  readonly authorizer: ClusterAuthorizer;
  readonly ca: CertificateAuthority;
  /** The control plane's client: not authorized, everything else as for a request. */
  readonly client: KubeClient;
  readonly clusterName: string;
  /** The bearer token of kubernetes-admin (system:masters). */
  readonly adminToken: string;
  private readonly servers: Server[] = [];
  private readonly controllers: { stop(): void }[] = [];
  private readonly options: KubeApiServerOptions;
  private readonly serving: { key: string; cert: string };

  private constructor(options: KubeApiServerOptions, ca: CertificateAuthority, serving: { key: string; cert: string }) {
    this.options = options;
    this.clusterName = options.clusterName;
    this.ca = ca;
    this.serving = serving;
    const now = options.now ?? Date.now;
    this.store = new RevisionStore({ ...(options.history ? { history: options.history } : {}), now });
    this.registry = new Registry();
    this.admission = new AdmissionChain([namespaceLifecycle, serviceAccountAdmission, priorityAdmission, defaultTolerationSeconds, serviceAllocation, nodeRestriction]);
    this.api = new KubeApi({ store: this.store, registry: this.registry, admission: this.admission, now, ...(options.watch ? { watch: options.watch } : {}) });
    this.tokens = new ServiceAccountTokens();
    this.authenticator = new Authenticator(this.tokens, this.api.reader);
    this.authorizer = new ClusterAuthorizer(new NodeAuthorizer(this.api.reader), new RbacAuthorizer(this.api.reader));
    for (const type of builtInTypes({ tokens: this.tokens, authorizer: this.authorizer, authenticator: this.authenticator })) this.registry.add(type);
    this.client = new KubeClient(this.api, CONTROL_PLANE);
    this.adminToken = this.authenticator.issueStaticToken(ADMIN_USER);
  }

  /** Makes the CA and serving certificate, the store and the bootstrap objects; starts the controllers. */
  static async start(options: KubeApiServerOptions): Promise<KubeApiServer> {
    const ca = await CertificateAuthority.create(options.dir, `vpcsim-ca-${options.clusterName}`);
    const serving = await ca.signServing({ name: "apiserver", commonName: "kube-apiserver", dnsNames: SERVING_DNS_NAMES, ips: [...new Set(["127.0.0.1", ...(options.ips ?? [])])] });
    rmSync(join(options.dir, "apiserver.csr"), { force: true });
    const server = new KubeApiServer(options, ca, { key: serving.keyPem, cert: serving.certPem });
    await server.bootstrap();
    return server;
  }

  private async bootstrap(): Promise<void> {
    const objects: KObject[] = [
      ...INITIAL_NAMESPACES.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
      ...bootstrapPolicy(),
      ...SYSTEM_PRIORITY_CLASSES,
      ...kubernetesService(this.options.advertise?.ip ?? "127.0.0.1", this.options.advertise?.port ?? 443),
    ];
    for (const object of objects) {
      try {
        await this.client.create(structuredClone(object));
      } catch (err) {
        if (!(err instanceof KubeError && err.code === 409)) throw err;
      }
    }
    const log = (message: string) => this.options.log?.("error", message);
    const crds = new CrdController(this.api, this.client, log);
    this.admission.add(crds.admission);
    crds.start();
    const namespaces = new NamespaceController(this.client, log);
    const accounts = new ServiceAccountController(this.client, this.ca.certPem, this.tokens, log);
    this.controllers.push(crds, namespaces, accounts);
    await namespaces.start();
    await accounts.start();
  }

  /** Opens an HTTPS listener; for TCP port 0 the chosen port is in `addresses`. */
  async listen(target: ListenTarget): Promise<void> {
    const handler = createHandler({
      api: this.api,
      registry: this.registry,
      authenticator: this.authenticator,
      authorizer: this.authorizer,
      now: this.api.now,
      serverAddress: this.options.serverAddress ?? this.firstAddress() ?? "127.0.0.1:443",
      ...(this.options.maxWatchBacklogBytes !== undefined ? { maxWatchBacklogBytes: this.options.maxWatchBacklogBytes } : {}),
      onError: (err, req) => this.options.log?.("error", `${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`),
    });
    const server = createServer({ key: this.serving.key, cert: this.serving.cert, minVersion: "TLSv1.2" }, handler);
    // Watches are long requests: no request timeout (the watch's own timeout ends them).
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if ("path" in target) server.listen(target.path, () => resolve());
      else server.listen(target.port, target.host, () => resolve());
    });
    this.servers.push(server);
  }

  /** The TCP addresses listened on (host:port). */
  get addresses(): string[] {
    return this.servers.map((s) => s.address()).filter((a): a is AddressInfo => typeof a === "object" && a !== null).map((a) => `${a.address}:${a.port}`);
  }

  private firstAddress(): string | undefined {
    return this.addresses[0];
  }

  /** A client acting as this user, authorized as an HTTP request from them would be. */
  clientAs(user: UserInfo): KubeClient {
    return new KubeClient(this.api, user, this.authorizer);
  }

  /** A new bearer token for this identity. */
  issueToken(user: UserInfo): string {
    return this.authenticator.issueStaticToken(user);
  }

  /** A kubelet's credential: `system:node:<name>` in system:nodes. */
  nodeCredential(node: string): { user: UserInfo; token: string } {
    const user: UserInfo = { username: nodeUsername(node), groups: ["system:nodes", "system:authenticated"] };
    return { user, token: this.issueToken(user) };
  }

  kubeconfig(server: string, userName: string, token: string, namespace?: string): string {
    return kubeconfigText({ clusterName: this.clusterName, server, caPem: this.ca.certPem, userName, token, ...(namespace ? { namespace } : {}) });
  }

  writeKubeconfig(path: string, server: string, userName: string, token: string): void {
    writeKubeconfig(path, { clusterName: this.clusterName, server, caPem: this.ca.certPem, userName, token });
  }

  /** Cuts every open connection (watches included) without stopping the server: a network fault. */
  dropConnections(): void {
    for (const s of this.servers) s.closeAllConnections();
  }

  async close(): Promise<void> {
    for (const c of this.controllers) c.stop();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  }
}
