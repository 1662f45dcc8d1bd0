// The "internet" hosts' service (runs inside an external namespace, 203.0.113.10 or
// 2001:db8:ffff::10; the address to listen on is its argument): it answers every client with the
// source address it sees, which is how tests and operators check what the gateways did. HTTP on
// port 80 (for curl-style checks) and a raw TCP port 7 that writes the address and closes (for
// clients without HTTP).
//
// Prints "ready" on stdout once both ports listen. Exits when stdin closes, so it never outlives
// the process that started it, even if that process dies without cleaning up.

import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

const host = process.argv[2] ?? "0.0.0.0";

const http = createHttpServer((request, response) => {
  const source = request.socket.remoteAddress ?? "";
  response.writeHead(200, { "content-type": "text/plain", connection: "close" });
  response.end(`${source}\n`);
});

const tcp = createTcpServer((socket) => {
  socket.on("error", () => {});
  socket.end(`${socket.remoteAddress ?? ""}\n`);
});

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; once(event: "error", cb: (error: Error) => void): unknown }, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
}

await Promise.all([listen(http, 80), listen(tcp, 7)]);
process.stdout.write("ready\n");

process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
