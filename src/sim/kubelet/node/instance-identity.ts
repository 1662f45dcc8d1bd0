// What a node learns about itself before it registers, as an EKS node does at boot: from IMDSv2
// (instance id and type, zone, region, the primary private address and DNS name), the way nodeadm
// and the kubelet's AWS provider read it.

import { request } from "node:http";

export const IMDS_ENDPOINT = "http://169.254.169.254";

export interface InstanceIdentity {
  instanceId: string;
  instanceType: string;
  zone: string;
  region: string;
  privateIp: string;
  /** The private DNS name (ip-10-0-0-12.ec2.internal): an EKS node's name. */
  privateDnsName: string;
}

function call(endpoint: string, method: "GET" | "PUT", path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(path, endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port || 80, method, path: url.pathname, headers, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`IMDS ${path}: no answer in 5s`)));
    req.on("error", reject);
    req.end();
  });
}

/** Reads the instance's identity through IMDSv2 (a session token, then the metadata paths). */
export async function readInstanceIdentity(endpoint = IMDS_ENDPOINT): Promise<InstanceIdentity> {
  const token = await call(endpoint, "PUT", "/latest/api/token", { "x-aws-ec2-metadata-token-ttl-seconds": "21600" });
  if (token.status !== 200) throw new Error(`IMDS token: HTTP ${token.status}`);
  const get = async (path: string) => {
    const r = await call(endpoint, "GET", `/latest/meta-data/${path}`, { "x-aws-ec2-metadata-token": token.body });
    if (r.status !== 200) throw new Error(`IMDS meta-data/${path}: HTTP ${r.status}`);
    return r.body.trim();
  };
  const [instanceId, instanceType, zone, region, privateIp, privateDnsName] = await Promise.all([
    get("instance-id"),
    get("instance-type"),
    get("placement/availability-zone"),
    get("placement/region"),
    get("local-ipv4"),
    get("local-hostname"),
  ]);
  return { instanceId, instanceType, zone, region, privateIp, privateDnsName };
}
