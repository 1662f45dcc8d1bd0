// The server's authorization, in the order EKS configures kube-apiserver (`Node,RBAC`), behind
// the privileged group system:masters, which is always allowed.

import type { NodeAuthorizer } from "./node-authorizer.ts";
import type { AuthorizationAttributes, Authorizer, Decision, RbacAuthorizer } from "./rbac.ts";
import { isMaster } from "./user.ts";

export class ClusterAuthorizer implements Authorizer {
  readonly node: NodeAuthorizer;
  readonly rbac: RbacAuthorizer;

  constructor(node: NodeAuthorizer, rbac: RbacAuthorizer) {
    this.node = node;
    this.rbac = rbac;
  }

  authorize(a: AuthorizationAttributes): Decision {
    if (isMaster(a.user)) return { allowed: true, reason: "" };
    const byNode = this.node.authorize(a);
    if (byNode?.allowed) return byNode;
    const byRbac = this.rbac.authorize(a);
    if (byRbac.allowed) return byRbac;
    return { allowed: false, reason: byNode?.reason ?? "" };
  }
}
