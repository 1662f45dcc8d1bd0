// The commands about a run's Kubernetes API: kubeconfig and kubectl.

import { kubeconfigPath, leadingRun, runKubectl } from "./kube-access.ts";
import { childExit, parse, requireUp, RUN_OPTION } from "./args.ts";

export async function kubeconfig(args: string[]): Promise<number> {
  const { values } = parse(args, { ...RUN_OPTION });
  console.log(kubeconfigPath(requireUp(values.run)));
  return 0;
}

export async function kubectl(args: string[]): Promise<number> {
  // Only a leading --run NAME is ours; everything else is kubectl's (`kubectl run` included).
  const { run, rest } = leadingRun(args);
  const child = runKubectl(requireUp(run), rest);
  return childExit(child);
}
