// coordination.k8s.io/v1 Leases: node heartbeats (kube-node-lease) and leader election. A PUT of
// a missing lease creates it, as in Kubernetes.

import { isPlainObject } from "../objects.ts";
import { defineType } from "../registry/define.ts";
import { fieldErrors, type FieldError } from "../status.ts";
import { leaseSchema } from "../schema/cluster.ts";

export const leases = defineType({
  group: "coordination.k8s.io",
  version: "v1",
  resource: "leases",
  kind: "Lease",
  namespaced: true,
  schema: leaseSchema,
  allowCreateOnUpdate: true,
  strategy: {
    validate(lease) {
      const errors: FieldError[] = [];
      const spec = isPlainObject(lease.spec) ? lease.spec : {};
      const duration = spec.leaseDurationSeconds;
      if (duration !== undefined && (typeof duration !== "number" || duration <= 0)) errors.push(fieldErrors.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"));
      const transitions = spec.leaseTransitions;
      if (transitions !== undefined && (typeof transitions !== "number" || transitions < 0)) errors.push(fieldErrors.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"));
      return errors;
    },
  },
});
