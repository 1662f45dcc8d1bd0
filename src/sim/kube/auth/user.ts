// Who a request is from, as authentication establishes it (k8s.io/apiserver's user.Info).

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

/** vpcsim's own control plane (its scheduler and controllers, run in the daemon): never denied. */
export const CONTROL_PLANE: UserInfo = { username: "system:kube-controller-manager", groups: ["system:masters", "system:authenticated"] };

export function isMaster(user: UserInfo): boolean {
  return user.groups.includes("system:masters");
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function nodeUsername(node: string): string {
  return `system:node:${node}`;
}

/** The node name of a kubelet identity (`system:node:<name>` in `system:nodes`), else undefined. */
export function nodeOf(user: UserInfo): string | undefined {
  if (!user.groups.includes("system:nodes") || !user.username.startsWith("system:node:")) return undefined;
  return user.username.slice("system:node:".length) || undefined;
}
