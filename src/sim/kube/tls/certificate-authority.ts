// The run's certificate authority, made with the openssl command line (as kubeadm's `certs` phase
// would make one): an EC P-256 CA that signs the API server's serving certificate and, later, the
// serving certificates of admission webhooks. Keys stay in the run directory, mode 0600.

import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args, { timeout: 30_000 });
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: string };
    if (e.code === "ENOENT") throw new Error("openssl is not installed (scripts/setup installs it): the Kubernetes API server needs it for its certificates");
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  certPath: string;
  keyPath: string;
}

export interface ServingCertificateRequest {
  /** File name stem in the CA's directory: NAME.crt and NAME.key. */
  name: string;
  commonName: string;
  dnsNames: string[];
  ips: string[];
  days?: number;
}

export class CertificateAuthority {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.certPath = join(dir, "ca.crt");
    this.keyPath = join(dir, "ca.key");
    this.certPem = readFileSync(this.certPath, "utf8");
  }

  /** A new CA in `dir` (created 0700), named `commonName`. */
  static async create(dir: string, commonName: string): Promise<CertificateAuthority> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = join(dir, "ca.key");
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
    await openssl([
      "req", "-x509", "-new", "-key", key, "-sha256", "-days", "3650", "-subj", `/CN=${commonName}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      "-out", join(dir, "ca.crt"),
    ]);
    return new CertificateAuthority(dir);
  }

  /** A serving certificate for these names and addresses, signed by this CA. */
  async signServing(request: ServingCertificateRequest): Promise<ServingCertificate> {
    const keyPath = join(this.dir, `${request.name}.key`);
    const certPath = join(this.dir, `${request.name}.crt`);
    const csrPath = join(this.dir, `${request.name}.csr`);
    const extPath = join(this.dir, `${request.name}.ext`);
    const sans = [...request.dnsNames.map((d) => `DNS:${d}`), ...request.ips.map((ip) => `IP:${ip}`)];
    writeFileSync(
      extPath,
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        `subjectAltName=${sans.join(",")}`,
        "",
      ].join("\n"),
    );
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyPath]);
    await openssl(["req", "-new", "-key", keyPath, "-subj", `/CN=${request.commonName}`, "-out", csrPath]);
    await openssl([
      "x509", "-req", "-in", csrPath, "-CA", this.certPath, "-CAkey", this.keyPath, "-set_serial", `0x${randomSerial()}`,
      "-days", String(request.days ?? 825), "-sha256", "-extfile", extPath, "-out", certPath,
    ]);
    return { certPem: readFileSync(certPath, "utf8"), keyPem: readFileSync(keyPath, "utf8"), certPath, keyPath };
  }
}

function randomSerial(): string {
  let hex = "";
  for (let i = 0; i < 16; i++) hex += Math.floor(Math.random() * 256).toString(16).padStart(2, "0");
  return hex;
}
