// What kube-controller-manager keeps in every namespace for service accounts: the `default`
// ServiceAccount (recreated if deleted), the `kube-root-ca.crt` ConfigMap with the cluster's CA
// (root-ca-cert-publisher), and the token of every Secret of type
// kubernetes.io/service-account-token (the token controller).

import { isPlainObject, type KObject } from "../objects.ts";
import type { KubeClient } from "../api/client.ts";
import { Informer } from "../api/informer.ts";
import { KubeError } from "../status.ts";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { ROOT_CA_CONFIGMAP } from "../admission/service-account.ts";
import { SERVICE_ACCOUNT_NAME_ANNOTATION, SERVICE_ACCOUNT_TOKEN_TYPE, SERVICE_ACCOUNT_UID_ANNOTATION } from "../kinds/config.ts";
import { WorkQueue } from "./work-queue.ts";

function ignoreConflicts(err: unknown): void {
  if (err instanceof KubeError && (err.code === 409 || err.code === 404 || err.code === 403)) return;
  throw err;
}

export class ServiceAccountController {
  private readonly client: KubeClient;
  private readonly caPem: string;
  private readonly tokens: ServiceAccountTokens;
  private readonly informers: Informer[];
  readonly namespaces: WorkQueue;
  readonly secretsQueue: WorkQueue;

  constructor(client: KubeClient, caPem: string, tokens: ServiceAccountTokens, onError: (message: string) => void = () => {}) {
    this.client = client;
    this.caPem = caPem;
    this.tokens = tokens;
    this.namespaces = new WorkQueue((ns) => this.syncNamespace(ns), (ns, err) => onError(`namespace ${ns}: ${(err as Error).message}`));
    this.secretsQueue = new WorkQueue((key) => this.syncSecret(key), (key, err) => onError(`secret ${key}: ${(err as Error).message}`));
    const byNamespace = (o: KObject) => this.namespaces.add(o.metadata.namespace ?? o.metadata.name!);
    this.informers = [
      new Informer(client, "v1/namespaces", {}, { add: byNamespace, update: byNamespace }),
      new Informer(client, "v1/serviceaccounts", { fieldSelector: "metadata.name=default" }, { delete: byNamespace }),
      new Informer(client, "v1/configmaps", { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` }, { update: byNamespace, delete: byNamespace }),
      new Informer(client, "v1/secrets", { fieldSelector: `type=${SERVICE_ACCOUNT_TOKEN_TYPE}` }, {
        add: (s) => this.secretsQueue.add(`${s.metadata.namespace}/${s.metadata.name}`),
        update: (s) => this.secretsQueue.add(`${s.metadata.namespace}/${s.metadata.name}`),
      }),
      new Informer(client, "v1/serviceaccounts", {}, {
        add: (sa) => this.requeueSecretsOf(sa),
      }),
    ];
  }

  async start(): Promise<void> {
    for (const i of this.informers) await i.start();
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    this.namespaces.stop();
    this.secretsQueue.stop();
  }

  private requeueSecretsOf(sa: KObject): void {
    const tokenSecrets = this.informers[3]!.list();
    for (const s of tokenSecrets) {
      if (s.metadata.namespace === sa.metadata.namespace && s.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION] === sa.metadata.name) this.secretsQueue.add(`${s.metadata.namespace}/${s.metadata.name}`);
    }
  }

  private async syncNamespace(name: string): Promise<boolean> {
    const ns = await this.client.find("v1/namespaces", name);
    if (!ns || ns.metadata.deletionTimestamp) return true;
    if (!(await this.client.find("v1/serviceaccounts", "default", name))) {
      await this.client.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } }).catch(ignoreConflicts);
    }
    const cm = await this.client.find("v1/configmaps", ROOT_CA_CONFIGMAP, name);
    if (!cm) {
      await this.client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: ROOT_CA_CONFIGMAP, namespace: name }, data: { "ca.crt": this.caPem } }).catch(ignoreConflicts);
    } else if (!isPlainObject(cm.data) || cm.data["ca.crt"] !== this.caPem) {
      await this.client.update({ ...cm, data: { "ca.crt": this.caPem } }).catch(ignoreConflicts);
    }
    return true;
  }

  private async syncSecret(key: string): Promise<boolean> {
    const [namespace, name] = key.split("/") as [string, string];
    const secret = await this.client.find("v1/secrets", name, namespace);
    if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata.deletionTimestamp) return true;
    const accountName = secret.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION];
    if (!accountName) return true;
    const account = await this.client.find("v1/serviceaccounts", accountName, namespace);
    if (!account) return true; // filled in when the account appears (requeueSecretsOf)
    const data = isPlainObject(secret.data) ? (secret.data as Record<string, string>) : {};
    const uid = secret.metadata.annotations?.[SERVICE_ACCOUNT_UID_ANNOTATION];
    if (data.token && uid === account.metadata.uid) return true;
    const token = this.tokens.issueLegacy(namespace, name, { name: accountName, uid: account.metadata.uid! });
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    await this.client
      .update({
        ...secret,
        metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, [SERVICE_ACCOUNT_UID_ANNOTATION]: account.metadata.uid! } },
        data: { ...data, token: b64(token), "ca.crt": b64(this.caPem), namespace: b64(namespace) },
      })
      .catch(ignoreConflicts);
    return true;
  }
}
