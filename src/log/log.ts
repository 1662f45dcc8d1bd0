// The one shape components log through: a level, a message and structured fields, as a function they
// are given (so a test passes a recorder). The agent writes such lines as JSON through pino
// (agent/observability/log.ts), the plugin appends them to its own file (plugin/log.ts). Its own folder,
// importing nothing, because the plugin and the agent both use it and neither may import the other.

export type LogLevel = "debug" | "info" | "warn" | "error";

export type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;
