// Shared fixtures for the datastore tests: a datastore on virtual time, a persistence stub that
// records writes and can be told to fail, and key helpers.

import type { CheckpointData } from "./checkpoint-format.ts";
import type { DatastoreOptions, IPAMKey } from "./datastore.ts";
import { Datastore } from "./datastore.ts";
import { VirtualScheduler } from "../../time/virtual-scheduler.ts";

/** Where the datastore tests' clocks start (June 2024). */
export const TEST_EPOCH_MS = 1_718_000_000_000;

export class RecordingPersist {
  writes: CheckpointData[] = [];
  failNext = 0;
  persist = (data: CheckpointData): void => {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("injected write failure");
    }
    this.writes.push(structuredClone(data));
  };
  get last(): CheckpointData | undefined {
    return this.writes.at(-1);
  }
}

export function key(containerID: string, ifName = "eth0", networkName = "aws-cni"): IPAMKey {
  return { networkName, containerID, ifName };
}

export function pod(name: string, namespace = "default"): { k8sPodNamespace: string; k8sPodName: string; interfacesCount: number } {
  return { k8sPodNamespace: namespace, k8sPodName: name, interfacesCount: 1 };
}

export function makeDatastore(
  options: Partial<DatastoreOptions> = {},
): { ds: Datastore; clock: VirtualScheduler; store: RecordingPersist } {
  const clock = new VirtualScheduler({ start: TEST_EPOCH_MS });
  const store = new RecordingPersist();
  const ds = new Datastore({ now: clock.now, persist: store.persist, ...options });
  return { ds, clock, store };
}
