/** MVCC errors carry etcd's exact messages: clients match on them. */
export class CompactedError extends Error {
  override readonly name = "CompactedError";
  constructor(readonly compactRevision: number) {
    super("mvcc: required revision has been compacted");
  }
}

export class FutureRevisionError extends Error {
  override readonly name = "FutureRevisionError";
  constructor() {
    super("mvcc: required revision is a future revision");
  }
}
