// The custom resources the system reads and writes, typed as the API server serves them (the CRDs are
// deploy/crd-*.yaml), plus the few fields of core objects it relies on.

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string | Date;
  readonly finalizers?: readonly string[];
}

export interface KubeList<T> {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: T[];
}

/** crd.k8s.amazonaws.com/v1alpha1 ENIConfig (cluster-scoped): where custom networking puts secondary ENIs. */
export interface EniConfig {
  readonly apiVersion?: "crd.k8s.amazonaws.com/v1alpha1";
  readonly kind?: "ENIConfig";
  readonly metadata: ObjectMeta;
  readonly spec: {
    /** subnet-...: the subnet of the node's secondary ENIs. */
    readonly subnet: string;
    /** sg-...: their security groups; empty or absent means the primary ENI's. */
    readonly securityGroups?: readonly string[];
  };
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; readonly values?: readonly string[] }[];
}

/** vpcresources.k8s.aws/v1beta1 SecurityGroupPolicy (namespaced): security groups for selected pods. */
export interface SecurityGroupPolicy {
  readonly apiVersion?: "vpcresources.k8s.aws/v1beta1";
  readonly kind?: "SecurityGroupPolicy";
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly podSelector?: LabelSelector;
    readonly serviceAccountSelector?: LabelSelector;
    readonly securityGroups: { readonly groupIds: readonly string[] };
  };
}

/** The features the agent advertises on its node's CNINode for the VPC Resource Controller. */
export type CniNodeFeatureName = "SecurityGroupsForPods" | "CustomNetworking";

export interface CniNodeFeature {
  readonly name: CniNodeFeatureName | (string & {});
  readonly value?: string;
}

/** vpcresources.k8s.aws/v1alpha1 CNINode (cluster-scoped, named after its node). */
export interface CniNode {
  readonly apiVersion?: "vpcresources.k8s.aws/v1alpha1";
  readonly kind?: "CNINode";
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly features?: readonly CniNodeFeature[];
    readonly tags?: Readonly<Record<string, string>>;
  };
  readonly status?: Readonly<Record<string, unknown>>;
}

export const ENI_CONFIG_API_VERSION = "crd.k8s.amazonaws.com/v1alpha1";
export const SECURITY_GROUP_POLICY_API_VERSION = "vpcresources.k8s.aws/v1beta1";
export const CNI_NODE_API_VERSION = "vpcresources.k8s.aws/v1alpha1";
