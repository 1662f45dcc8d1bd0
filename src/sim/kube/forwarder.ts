// The host's way in to a run's Kubernetes API: a process in the machine's own network namespace
// that listens on 127.0.0.1 (a free port) and relays every connection, bytes unchanged (TLS is
// end to end), to the API server's unix socket in the run directory. `vpcsim up` starts it and
// writes the run's kubeconfig with its port; `vpcsim down` stops it by its PID. It also ends by
// itself when the run's daemon is gone (a crashed run), so nothing of a run outlives it.
//
//   node forwarder.ts --socket RUN/kube.sock --state RUN/kube-forwarder.json --daemon-pid PID --run-dir RUN

import { connect, createServer, type Socket } from "node:net";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const CHECK_DAEMON_MS = 1000;

export interface ForwarderState {
  pid: number;
  port: number;
}

function daemonAlive(pid: number, runDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("daemon.ts") && cmdline.includes(runDir);
  } catch {
    return false;
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { socket: { type: "string" }, state: { type: "string" }, "daemon-pid": { type: "string" }, "run-dir": { type: "string" } },
    strict: true,
  });
  const socketPath = values.socket;
  const statePath = values.state;
  const daemonPid = Number(values["daemon-pid"]);
  const runDir = values["run-dir"];
  if (!socketPath || !statePath || !runDir || !Number.isInteger(daemonPid)) {
    process.stderr.write("usage: forwarder.ts --socket PATH --state PATH --daemon-pid PID --run-dir DIR\n");
    process.exit(2);
  }
  const connections = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    connections.add(client);
    connections.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const stop = () => {
    server.close();
    for (const c of connections) c.destroy();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("the forwarder has no address");
    const state: ForwarderState = { pid: process.pid, port: address.port };
    writeFileSync(`${statePath}.tmp`, JSON.stringify(state), { mode: 0o600 });
    renameSync(`${statePath}.tmp`, statePath);
  });
  setInterval(() => {
    if (!daemonAlive(daemonPid, runDir)) stop();
  }, CHECK_DAEMON_MS).unref();
  // The interval is unref'd; the listening server keeps the process alive.
}

if (import.meta.main) main();
