// A watch over HTTP: a chunked 200 response of newline-delimited JSON events
// ({"type":"ADDED","object":{...}}), flushed as they happen. When the client goes away the watch is
// stopped at once (nothing leaks); when the client reads too slowly and the socket's buffer passes
// a bound, the server ends the watch instead of buffering without limit, and the client resumes
// from the last resourceVersion it saw.

import type { ServerResponse } from "node:http";
import type { KObject } from "../objects.ts";
import type { WatchEvent, WatchHandle, WatchSink } from "../api/watch.ts";

/** Most bytes a watch may have queued on its socket before the server gives up on the client. */
export const MAX_WATCH_BACKLOG_BYTES = 8 * 1024 * 1024;

export interface WatchStreamOptions {
  /** Turns each event's object into what the client asked for (a Table row, metadata, ...). */
  transform: (object: KObject, first: boolean) => unknown;
  maxBacklogBytes?: number;
  onEnd?: () => void;
}

/** Starts the watch; throws (before anything is written) when the watch cannot start. */
export function serveWatch(res: ServerResponse, start: (sink: WatchSink) => WatchHandle, options: WatchStreamOptions): void {
  const limit = options.maxBacklogBytes ?? MAX_WATCH_BACKLOG_BYTES;
  let first = true;
  let ended = false;
  const open = () => {
    if (res.headersSent) return;
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
  };
  const finish = () => {
    if (ended) return;
    ended = true;
    options.onEnd?.();
  };
  const sink: WatchSink = {
    send(event: WatchEvent): boolean {
      if (ended || res.destroyed) return false;
      open();
      const object = event.type === "ERROR" || event.type === "BOOKMARK" ? event.object : options.transform(event.object as KObject, first);
      if (event.type !== "ERROR" && event.type !== "BOOKMARK") first = false;
      res.write(JSON.stringify({ type: event.type, object }) + "\n");
      return res.writableLength <= limit;
    },
    close() {
      finish();
      open();
      // A client that stopped reading would never let end() flush: cut it off.
      if (res.writableLength > limit) res.destroy();
      else res.end();
    },
  };
  let handle: WatchHandle | undefined;
  const stop = () => {
    handle?.stop();
    finish();
  };
  // The response's close (not the request's, which fires once the request is read) is the
  // connection going away.
  res.on("close", stop);
  handle = start(sink);
  open();
  if (res.destroyed) stop();
}
