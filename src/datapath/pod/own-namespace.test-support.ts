// Test fixture, run as a child process inside a test "host" namespace (`ip netns exec HOST node
// this-file JSON`): it exercises the production path, where the host is the process's own namespace
// (sysctls written to /proc/sys, links read from /proc and /sys, the peer placed via /proc/PID/ns/net),
// which the in-process tests with `hostNetns` cannot reach. It also times ADD and DEL there.
//
// Input (argv[2]): { pod: PodNetworkOptions without hostNetns, rounds: number }. Each round is one ADD
// then one DEL of the same pod (DEL removes the pod's end, so the next ADD starts clean). Output: JSON
// { result, drifts, addMs: number[], delMs: number[] } on stdout, from the first round's ADD.

import { checkPodNetwork, setupPodNetwork, teardownPodNetwork, type PodNetworkOptions, type PodNetworkResult, type PodDrift } from "./index.ts";

interface FixtureInput {
  pod: PodNetworkOptions;
  rounds: number;
  /** Leave the last ADD in place (no DEL) so the test can inspect it. */
  keep?: boolean;
}

const input = JSON.parse(process.argv[2] ?? "{}") as FixtureInput;
const addMs: number[] = [];
const delMs: number[] = [];
let result: PodNetworkResult | undefined;
let drifts: PodDrift[] | undefined;
for (let round = 0; round < input.rounds; round++) {
  let started = performance.now();
  const added = await setupPodNetwork(input.pod);
  addMs.push(performance.now() - started);
  if (result === undefined) {
    result = added;
    drifts = await checkPodNetwork(input.pod);
  }
  if (input.keep === true && round === input.rounds - 1) break;
  started = performance.now();
  await teardownPodNetwork(input.pod);
  delMs.push(performance.now() - started);
}
process.stdout.write(JSON.stringify({ result, drifts, addMs, delMs }) + "\n");
