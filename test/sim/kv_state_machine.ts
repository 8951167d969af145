/**
 * The state machine the Raft-core member applies its log to: etcd's KV semantics for the simulator's
 * operations (one global revision, +1 per write; a delete of an absent key writes nothing; a cas is a
 * txn If(compare) Then(Put)). It keeps every revision's event, as MVCC without compaction does, so a
 * watch can start from any revision on any member, including one restored from a snapshot.
 *
 * Written independently of `kv_model.ts`: the checker's model and the thing it checks must not share code.
 */
import { crc32cUpdate } from "../../src/util/crc32c.js";
import type { KvInput, KvOutput } from "./kv_model.js";
import type { SimWatchEvent } from "./sim_member.js";

export type KvWriteInput = Exclude<KvInput, { kind: "get" }>;

/** A log entry's payload: the proposer's request id (to wake it) and the write. */
export interface KvCommand {
  readonly id: string;
  readonly input: KvWriteInput;
}

interface Stored {
  readonly value: string;
  readonly modRevision: number;
  /** The lease the key is attached to (0: none). */
  readonly lease: number;
}

export class KvStateMachine {
  #revision = 1;
  readonly #kv = new Map<string, Stored>();
  /** events[r - 2] is the write at revision r. */
  readonly #events: SimWatchEvent[] = [];

  get revision(): number {
    return this.#revision;
  }

  apply(cmd: KvCommand): KvOutput {
    const input = cmd.input;
    const cur = this.#kv.get(input.key);
    switch (input.kind) {
      case "put":
        this.#put(input.key, input.value, input.lease ?? 0);
        return { kind: "put", revision: this.#revision };
      case "revoke":
        // Leases exist implicitly here: revoking deletes the key if it is still attached to the lease.
        if (cur !== undefined && input.lease !== 0 && cur.lease === input.lease) this.#delete(input.key);
        return { kind: "revoke", revision: this.#revision };
      case "delete":
        if (cur === undefined) return { kind: "delete", deleted: 0, revision: this.#revision };
        this.#delete(input.key);
        return { kind: "delete", deleted: 1, revision: this.#revision };
      case "cas": {
        const c = input.compare;
        const holds = c.target === "value" ? (cur?.value ?? null) === c.value : (cur?.modRevision ?? 0) === c.modRevision;
        if (holds) this.#put(input.key, input.value);
        return { kind: "cas", succeeded: holds, revision: this.#revision };
      }
    }
  }

  get(key: string): KvOutput {
    const cur = this.#kv.get(key);
    return { kind: "get", value: cur?.value ?? null, modRevision: cur?.modRevision ?? 0, revision: this.#revision };
  }

  /** Events from `revision` on (inclusive), in order. */
  eventsFrom(revision: number): SimWatchEvent[] {
    return this.#events.slice(Math.max(0, revision - 2));
  }

  snapshot(): Uint8Array {
    const leases = [...this.#kv].filter(([, v]) => v.lease !== 0).map(([k, v]) => [k, v.lease]);
    return new TextEncoder().encode(JSON.stringify({ revision: this.#revision, events: this.#events, leases }));
  }

  static restore(data: Uint8Array): KvStateMachine {
    const sm = new KvStateMachine();
    if (data.length === 0) return sm;
    const s = JSON.parse(new TextDecoder().decode(data)) as { revision: number; events: SimWatchEvent[]; leases?: [string, number][] };
    const leases = new Map(s.leases ?? []);
    for (const e of s.events) {
      sm.#events.push(e);
      if (e.type === "put") sm.#kv.set(e.key, { value: e.value!, modRevision: e.modRevision, lease: 0 });
      else sm.#kv.delete(e.key);
    }
    for (const [k, lease] of leases) {
      const v = sm.#kv.get(k);
      if (v !== undefined) sm.#kv.set(k, { ...v, lease });
    }
    sm.#revision = s.revision;
    return sm;
  }

  /** CRC-32C over the revision and every live key in order: equal on members that applied the same log. */
  hash(): number {
    let h = crc32cUpdate(0, new TextEncoder().encode(String(this.#revision)));
    for (const k of [...this.#kv.keys()].sort()) {
      const v = this.#kv.get(k)!;
      h = crc32cUpdate(h, new TextEncoder().encode(`${k}=${v.value}@${v.modRevision}/${v.lease};`));
    }
    return h >>> 0;
  }

  #put(key: string, value: string, lease = 0): void {
    this.#revision++;
    this.#kv.set(key, { value, modRevision: this.#revision, lease });
    this.#events.push({ type: "put", key, value, modRevision: this.#revision });
  }

  #delete(key: string): void {
    this.#kv.delete(key);
    this.#revision++;
    this.#events.push({ type: "delete", key, value: null, modRevision: this.#revision });
  }
}
