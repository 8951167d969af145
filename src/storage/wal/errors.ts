/** Errors the WAL throws for conditions an operator or caller can act on (bugs are assertions). */

/**
 * The log on disk cannot be trusted past `offset` of `path`, and the damage is not a torn tail we may
 * cut off: repairing it would drop records that were once durable. An operator must restore the member.
 */
export class WalCorruptError extends Error {
  override readonly name = "WalCorruptError";
  constructor(readonly path: string, readonly offset: number, readonly why: string, options?: ErrorOptions) {
    super(`Cannot open WAL: record at ${path} offset ${offset} ${why}`, options);
  }
}

/** One record would be larger than a reader accepts (WAL_RECORD_BYTES_MAX); nothing was written. */
export class WalRecordTooLargeError extends Error {
  override readonly name = "WalRecordTooLargeError";
  constructor(readonly recordBytes: number, readonly limitBytes: number) {
    super(`Cannot save to WAL: a record would be ${recordBytes} bytes, above WAL_RECORD_BYTES_MAX (${limitBytes})`);
  }
}

/**
 * An append or fsync failed earlier. After a failed fsync the kernel may have dropped the dirty pages,
 * so what is on disk is unknown: the only safe way on is to reopen the WAL and replay what is there.
 */
export class WalFailedError extends Error {
  override readonly name = "WalFailedError";
  constructor(options?: ErrorOptions) {
    super("Cannot save to WAL: an earlier write or fsync failed; reopen the WAL to recover", options);
  }
}
