// Which ENIConfig a node uses (aws-node's GetNodeSpecificENIConfigName), first match wins: the label
// vpc.amazonaws.com/externalEniConfig (set by tooling outside the cluster), the annotation named by
// ENI_CONFIG_ANNOTATION_DEF, the label named by ENI_CONFIG_LABEL_DEF, else "default".

export const EXTERNAL_ENI_CONFIG_LABEL = "vpc.amazonaws.com/externalEniConfig";
export const DEFAULT_ENI_CONFIG_KEY = "k8s.amazonaws.com/eniConfig";
export const DEFAULT_ENI_CONFIG_NAME = "default";

export interface EniConfigKeys {
  /** ENI_CONFIG_ANNOTATION_DEF */
  readonly annotation: string;
  /** ENI_CONFIG_LABEL_DEF */
  readonly label: string;
}

export function nodeEniConfigName(
  node: { readonly metadata?: { readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> } },
  keys: EniConfigKeys = { annotation: DEFAULT_ENI_CONFIG_KEY, label: DEFAULT_ENI_CONFIG_KEY },
): string {
  const labels = node.metadata?.labels ?? {};
  const annotations = node.metadata?.annotations ?? {};
  for (const value of [labels[EXTERNAL_ENI_CONFIG_LABEL], annotations[keys.annotation], labels[keys.label]]) {
    if (value !== undefined && value !== "") return value;
  }
  return DEFAULT_ENI_CONFIG_NAME;
}
