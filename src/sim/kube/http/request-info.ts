// What a request asks for, read from its method and path as Kubernetes' RequestInfoFactory reads
// them: /api/v1/namespaces/NS/RESOURCE/NAME/SUBRESOURCE and /apis/GROUP/VERSION/..., the legacy
// /watch/ prefix, and verbs get/list/watch/create/update/patch/delete/deletecollection. Anything
// else (discovery, /version, /healthz, /openapi) is a non-resource request with the HTTP verb.

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: string; // "api" or "apis"
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function methodVerb(method: string): string {
  switch (method) {
    case "POST":
      return "create";
    case "GET":
    case "HEAD":
      return "get";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return "";
  }
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const nonResource: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: "",
    apiGroup: "",
    apiVersion: "",
    namespace: "",
    resource: "",
    subresource: "",
    name: "",
  };
  const parts = decodeSegments(path);
  if (!parts || parts.length === 0 || (parts[0] !== "api" && parts[0] !== "apis")) return nonResource;
  const info: RequestInfo = { ...nonResource, apiPrefix: parts[0] };
  let rest: string[];
  if (parts[0] === "api") {
    if (parts.length < 3) return nonResource; // /api, /api/v1: discovery
    info.apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else {
    if (parts.length < 4) return nonResource; // /apis, /apis/g, /apis/g/v: discovery
    info.apiGroup = parts[1]!;
    info.apiVersion = parts[2]!;
    rest = parts.slice(3);
  }
  info.isResourceRequest = true;
  info.verb = methodVerb(method);
  if (rest[0] === "watch") {
    info.verb = "watch";
    rest = rest.slice(1);
  }
  if (rest[0] === "namespaces") {
    if (rest.length > 1) {
      info.namespace = rest[1]!;
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
    }
  }
  info.resource = rest[0] ?? "";
  info.name = rest[1] ?? "";
  info.subresource = rest[2] ?? "";
  if (rest.length > 3) info.resource = ""; // deeper paths do not exist
  if (info.verb === "get" || info.verb === "watch") {
    const watch = query.get("watch");
    if (watch === "true" || watch === "1") info.verb = "watch";
    else if (info.name === "" && info.verb === "get") info.verb = "list";
  }
  if (info.verb === "delete" && info.name === "") info.verb = "deletecollection";
  return info;
}
