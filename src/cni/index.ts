// The CNI specification as a library: one import for plugins. Depends on node:* built-ins only.

export * from "./args.ts";
export * from "./config.ts";
export * from "./env.ts";
export * from "./errors.ts";
export * from "./gc.ts";
export * from "./result.ts";
export * from "./skel.ts";
export * from "./version.ts";
