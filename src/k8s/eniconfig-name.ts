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

type NodeMeta = { readonly metadata?: { readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> } };

/** The ENIConfig's name and where it came from ("label topology.kubernetes.io/zone", "default"), for messages. */
export interface EniConfigChoice {
  readonly name: string;
  readonly from: string;
}

export function nodeEniConfigChoice(node: NodeMeta, keys: EniConfigKeys = { annotation: DEFAULT_ENI_CONFIG_KEY, label: DEFAULT_ENI_CONFIG_KEY }): EniConfigChoice {
  const labels = node.metadata?.labels ?? {};
  const annotations = node.metadata?.annotations ?? {};
  const sources: [string | undefined, string][] = [
    [labels[EXTERNAL_ENI_CONFIG_LABEL], `label ${EXTERNAL_ENI_CONFIG_LABEL}`],
    [annotations[keys.annotation], `annotation ${keys.annotation}`],
    [labels[keys.label], `label ${keys.label}`],
  ];
  for (const [value, from] of sources) {
    if (value !== undefined && value !== "") return { name: value, from };
  }
  return { name: DEFAULT_ENI_CONFIG_NAME, from: "default (the node has no ENIConfig label or annotation)" };
}

export function nodeEniConfigName(node: NodeMeta, keys?: EniConfigKeys): string {
  return nodeEniConfigChoice(node, keys).name;
}
