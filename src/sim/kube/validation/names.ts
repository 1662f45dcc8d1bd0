// Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation), with its messages: object
// names (RFC 1123 subdomains or labels), label keys (qualified names) and label values. Each check
// returns undefined when the value is fine, else the reason as Kubernetes words it.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

export function checkDnsSubdomain(value: string): string | undefined {
  if (value.length > 253) return "must be no more than 253 characters";
  return DNS1123_SUBDOMAIN.test(value) ? undefined : SUBDOMAIN_MESSAGE;
}

export function checkDnsLabel(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  return DNS1123_LABEL.test(value) ? undefined : LABEL_MESSAGE;
}

export function checkDns1035Label(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  return DNS1035_LABEL.test(value) ? undefined : DNS1035_MESSAGE;
}

/** A qualified name (`prefix/name` or `name`): label and annotation keys, finalizer names. */
export function checkQualifiedName(value: string): string | undefined {
  const parts = value.split("/");
  let name = value;
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    if (prefix.length === 0) return "prefix part must be non-empty";
    const problem = checkDnsSubdomain(prefix);
    if (problem) return `prefix part ${problem}`;
    name = rest;
  } else if (parts.length > 2) {
    return `a qualified name ${QUALIFIED_MESSAGE.replace("name part ", "")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  return QUALIFIED_NAME_PART.test(name) ? undefined : QUALIFIED_MESSAGE;
}

export function checkLabelKey(value: string): string | undefined {
  return checkQualifiedName(value);
}

export function checkLabelValue(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  return LABEL_VALUE.test(value) ? undefined : LABEL_VALUE_MESSAGE;
}

/** Names that can never be path segments (ValidatePathSegmentName). */
export function checkPathSegment(value: string): string | undefined {
  if (value === "." || value === "..") return `may not be '${value}'`;
  if (value.includes("/")) return "may not contain '/'";
  if (value.includes("%")) return "may not contain '%'";
  return undefined;
}
