// The datastore's refusals, each with a code its callers can act on (a CIDR taken by a pod meanwhile is
// kept, an overlap is reported, ...).

export type DatastoreErrorCode =
  | "unknown-eni"
  | "duplicate-eni"
  | "invalid-cidr"
  | "unknown-cidr"
  | "duplicate-cidr"
  | "cidr-overlap"
  | "cidr-in-use"
  | "eni-in-use"
  | "no-available-address"
  | "invalid-allocation"
  | "address-claimed-twice"
  | "key-claimed-twice"
  | "checkpoint-write-failed";

export class DatastoreError extends Error {
  override name = "DatastoreError";
  readonly code: DatastoreErrorCode;
  constructor(code: DatastoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
