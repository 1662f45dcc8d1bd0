// The agent's watch on the VPC changing under it, wired to its parts: the 30 s VPC-CIDR watcher (the
// node's SNAT and connmark rules and the plugin's next ADDs follow the VPC's CIDRs) and the 30 s
// security-group refresh of the managed ENIs (not without network-resource provisioning: it changes EC2).

import type { AgentConfig } from "../config.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { NodeAgent } from "../node-agent.ts";
import type { NodeHost } from "../host.ts";
import type { Log } from "../../log/log.ts";
import type { Imds } from "../../aws/imds.ts";
import type { Ec2 } from "../../aws/ec2-client.ts";
import { setEniSecurityGroups } from "../../aws/eni-api.ts";
import type { Scheduler } from "../../time/scheduler.ts";
import { placementMode, type EniConfigSource } from "../placement/eni-placement.ts";
import { startCidrWatcher } from "./cidr-watcher.ts";
import { startSgRefresh } from "./sg-refresh.ts";

export interface VpcWatchers {
  stop(): void;
}

export function startVpcWatchers(o: {
  config: AgentConfig;
  agent: NodeAgent;
  datastore: Datastore;
  host: NodeHost;
  imds: Imds;
  ec2: Ec2;
  eniConfigs: () => EniConfigSource | undefined;
  scheduler: Scheduler;
  log: Log;
}): VpcWatchers {
  const identity = o.agent.identity;
  if (identity === undefined) throw new Error("internal: the VPC watchers start after node initialisation");
  const cidrs = startCidrWatcher({
    scheduler: o.scheduler,
    read: () => o.imds.vpcIpv4Cidrs(identity.primaryMac),
    current: () => o.agent.vpcCidrs,
    apply: async (next) => {
      await o.host.updateVpcCidrs(identity, next);
      o.agent.setVpcCidrs(next);
    },
    log: o.log,
  });
  const groups = o.config.eni.disableNetworkResourceProvisioning
    ? undefined
    : startSgRefresh({
        scheduler: o.scheduler,
        mode: placementMode(o.config.eni),
        primaryGroups: () => o.imds.securityGroupIds(identity.primaryMac),
        eniConfigGroups: () => {
          const source = o.eniConfigs();
          const choice = source?.choice();
          if (!source || !choice) return undefined;
          const config = source.get(choice.name);
          return config === undefined ? undefined : (config.spec.securityGroups ?? []);
        },
        enis: async () => {
          const managed = new Set(o.datastore.snapshot().enis.filter((e) => !e.isPrimary && !e.isTrunk).map((e) => e.id));
          return (await o.imds.enis(identity.primaryMac)).filter((e) => managed.has(e.eniId)).map((e) => ({ id: e.eniId, groups: e.securityGroupIds }));
        },
        modify: (eniId, ids) => setEniSecurityGroups(o.ec2, eniId, ids),
        log: o.log,
      });
  void groups?.refresh(); // the reference refreshes once at start, then every 30 s
  return {
    stop() {
      cidrs.stop();
      groups?.stop();
    },
  };
}
