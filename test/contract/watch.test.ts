// The etcd Watch contract through the etcd3 client (its Watcher and the raw Watch stream) and `etcdctl watch`.
// Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import type { IKeyValue, IWatchResponse, WatchBuilder, Watcher } from "etcd3";
import { TEST_TIMEOUT_MS, newClient, suiteOptions, targets, uniquePrefix, useDatastore, type ContractTarget } from "../harness/contract.js";
import { fromBase64, parseEtcdctlJsonLines, type PutJson, type RangeJson, type WatchResponseJson } from "../harness/etcdctl.js";

const opts = { timeout: TEST_TIMEOUT_MS };
/** How long a test waits for events that must arrive; a local server delivers them in milliseconds. */
const EVENTS_WAIT_MS = 5_000;
/** How long a test listens to show that no (further) event arrives. */
const QUIET_MS = 300;

interface SeenEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
  readonly prevValue: string | null;
}

/** Records a Watcher's events as they arrive. */
class EventLog {
  readonly events: SeenEvent[] = [];
  readonly errors: Error[] = [];
  #waiters: Array<() => void> = [];

  constructor(watcher: Watcher) {
    const record = (type: SeenEvent["type"]) => (kv: IKeyValue, prev?: IKeyValue): void => {
      this.events.push({
        type,
        key: kv.key.toString(),
        value: kv.value.toString(),
        modRevision: Number(kv.mod_revision),
        createRevision: Number(kv.create_revision),
        version: Number(kv.version),
        prevValue: prev === undefined || prev === null ? null : prev.value.toString(),
      });
      this.#wake();
    };
    watcher.on("put", record("put"));
    watcher.on("delete", record("delete"));
    watcher.on("error", (err) => {
      this.errors.push(err);
      this.#wake();
    });
  }

  /** Resolves once `n` events (or an error) arrived; rejects after EVENTS_WAIT_MS. */
  async waitFor(n: number): Promise<SeenEvent[]> {
    const deadline = Date.now() + EVENTS_WAIT_MS;
    // Bounded by the deadline.
    while (this.events.length < n && this.errors.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${n} watch events: got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (this.errors.length > 0) throw this.errors[0]!;
    return this.events.slice(0, n);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * Starts a watcher with its EventLog attached before the create request goes out: a watch from a past
 * revision gets its replayed events right behind the created response, before `await create()` returns.
 */
async function openWatch(builder: WatchBuilder): Promise<{ watcher: Watcher; log: EventLog; created: IWatchResponse }> {
  const watcher = builder.watcher();
  const log = new EventLog(watcher);
  const [created] = (await once(watcher, "connected")) as [IWatchResponse];
  return { watcher, log, created };
}

async function put(target: ContractTarget, key: string, value: string): Promise<number> {
  return (await target.ctlJson<PutJson>(["put", key, value])).header.revision!;
}

async function currentRevision(target: ContractTarget): Promise<number> {
  return (await target.ctlJson<RangeJson>(["get", "contract-revision-probe"])).header.revision!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Opens a raw Watch stream on a client of its own, sends one create request, and collects responses until
 * `done` says so. Its own client: cancelling the stream makes etcd3 close the channels of its client.
 */
async function rawWatch(endpoint: string, create: { key: string; startRevision: number; prevKv?: boolean }, done: (responses: IWatchResponse[]) => boolean): Promise<IWatchResponse[]> {
  const client = newClient(endpoint);
  const stream = await client.watchClient.watch();
  const responses: IWatchResponse[] = [];
  try {
    return await new Promise<IWatchResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Timed out on the raw watch stream: got ${JSON.stringify(responses)}`)), EVENTS_WAIT_MS);
      stream.on("data", (res) => {
        responses.push(res);
        if (done(responses)) {
          clearTimeout(timer);
          resolve(responses);
        }
      });
      stream.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ create_request: { key: Buffer.from(create.key), start_revision: String(create.startRevision), prev_kv: create.prevKv ?? false } });
    });
  } finally {
    // cancel(), not end(): a half-closed stream stays open on the server and keeps the client alive.
    stream.on("error", () => {});
    stream.cancel();
    client.close();
  }
}

for (const kind of targets()) {
  describe(`${kind}: watch`, suiteOptions(kind), () => {
    const target = useDatastore(kind);

    it("a key watch is created at the current revision and delivers put, put, delete in order with prev_kv", opts, async () => {
      const key = `${uniquePrefix("watch/key")}k`;
      const { watcher, log, created } = await openWatch(target.client.watch().key(key).withPreviousKV());
      try {
        assert.equal(created.created, true);
        assert.equal(Number(created.header.revision), await currentRevision(target), "the created response carries the current revision");
        const rev1 = await put(target, key, "1");
        await put(target, key, "2");
        await target.ctl(["del", key]);
        const events = await log.waitFor(3);
        assert.deepEqual(events, [
          { type: "put", key, value: "1", modRevision: rev1, createRevision: rev1, version: 1, prevValue: null },
          { type: "put", key, value: "2", modRevision: rev1 + 1, createRevision: rev1, version: 2, prevValue: "1" },
          // A delete event's kv is the tombstone: only key and mod_revision are set.
          { type: "delete", key, value: "", modRevision: rev1 + 2, createRevision: 0, version: 0, prevValue: "2" },
        ]);
      } finally {
        await watcher.cancel();
      }
    });

    it("a prefix watch sees only keys under the prefix", opts, async () => {
      const prefix = uniquePrefix("watch/prefix");
      const { watcher, log } = await openWatch(target.client.watch().prefix(prefix));
      try {
        await put(target, `${prefix.slice(0, -1)}-outside`, "no");
        await put(target, `${prefix}b`, "1");
        await put(target, `${prefix}a`, "2");
        await target.ctl(["del", `${prefix}b`]);
        const events = await log.waitFor(3);
        assert.deepEqual(events.map((e) => [e.type, e.key.slice(prefix.length), e.value]), [["put", "b", "1"], ["put", "a", "2"], ["delete", "b", ""]]);
        assert.deepEqual(events.map((e) => e.prevValue), [null, null, null], "no prev_kv unless asked for");
        await sleep(QUIET_MS);
        assert.equal(log.events.length, 3);
      } finally {
        await watcher.cancel();
      }
    });

    it("a watch from a past revision replays history from that revision, then continues live", opts, async () => {
      const prefix = uniquePrefix("watch/replay");
      const rev1 = await put(target, `${prefix}a`, "1");
      await put(target, `${prefix}a`, "2");
      await put(target, `${prefix}b`, "3");
      const { watcher: fromStart, log: all } = await openWatch(target.client.watch().prefix(prefix).startRevision(String(rev1)));
      const { watcher: fromMiddle, log: later } = await openWatch(target.client.watch().prefix(prefix).startRevision(String(rev1 + 1)));
      try {
        assert.deepEqual((await all.waitFor(3)).map((e) => [e.key.slice(prefix.length), e.value, e.modRevision]), [["a", "1", rev1], ["a", "2", rev1 + 1], ["b", "3", rev1 + 2]]);
        assert.deepEqual((await later.waitFor(2)).map((e) => e.modRevision), [rev1 + 1, rev1 + 2]);
        const live = await put(target, `${prefix}c`, "4");
        assert.deepEqual((await all.waitFor(4))[3], { type: "put", key: `${prefix}c`, value: "4", modRevision: live, createRevision: live, version: 1, prevValue: null });
      } finally {
        await fromStart.cancel();
        await fromMiddle.cancel();
      }
    });

    it("a watch that ignores deletes (NODELETE filter) gets only puts", opts, async () => {
      const key = `${uniquePrefix("watch/filter")}k`;
      // only("put") sends filters=[NODELETE]. (etcd3 1.1.2's ignore("delete") is an alias of only("delete"), i.e. NOPUT.)
      const { watcher, log } = await openWatch(target.client.watch().key(key).only("put"));
      try {
        await put(target, key, "1");
        await target.ctl(["del", key]);
        await put(target, key, "2");
        assert.deepEqual((await log.waitFor(2)).map((e) => [e.type, e.value]), [["put", "1"], ["put", "2"]]);
      } finally {
        await watcher.cancel();
      }
    });

    it("two watchers on one key each get every event", opts, async () => {
      const key = `${uniquePrefix("watch/fan-out")}k`;
      const { watcher: first, log: a } = await openWatch(target.client.watch().key(key));
      const { watcher: second, log: b } = await openWatch(target.client.watch().key(key));
      try {
        await put(target, key, "1");
        await put(target, key, "2");
        assert.deepEqual((await a.waitFor(2)).map((e) => e.value), ["1", "2"]);
        assert.deepEqual((await b.waitFor(2)).map((e) => e.value), ["1", "2"]);
      } finally {
        await first.cancel();
        await second.cancel();
      }
    });

    it("a cancelled watch delivers nothing more", opts, async () => {
      const key = `${uniquePrefix("watch/cancel")}k`;
      const { watcher, log } = await openWatch(target.client.watch().key(key));
      await put(target, key, "before");
      await log.waitFor(1);
      const ended = once(watcher, "end");
      await watcher.cancel();
      await ended;
      await put(target, key, "after");
      await sleep(QUIET_MS);
      assert.deepEqual(log.events.map((e) => e.value), ["before"]);
      assert.deepEqual(log.errors, []);
    });

    it("a watch from a compacted revision is created, then cancelled with compact_revision set", opts, async () => {
      const key = `${uniquePrefix("watch/compacted")}k`;
      const rev1 = await put(target, key, "1");
      const rev2 = await put(target, key, "2");
      assert.equal((await target.ctl(["compact", String(rev2)])).code, 0);

      // The raw stream shows what the server sends: a created response, then a cancel carrying the compaction point.
      const responses = await rawWatch(target.endpoint, { key, startRevision: rev1 }, (rs) => rs.some((r) => r.canceled));
      assert.equal(responses.length, 2, JSON.stringify(responses));
      assert.equal(responses[0]!.created, true);
      assert.equal(responses[0]!.canceled, false);
      assert.equal(responses[1]!.canceled, true);
      assert.equal(responses[1]!.compact_revision, String(rev2));
      assert.equal(responses[1]!.events.length, 0);
      assert.equal(responses[1]!.watch_id, responses[0]!.watch_id);

      // The compacted revision itself is still watchable.
      const atCompaction = await rawWatch(target.endpoint, { key, startRevision: rev2 }, (rs) => rs.some((r) => r.events.length > 0 || r.canceled));
      const delivered = atCompaction.flatMap((r) => r.events);
      assert.deepEqual(delivered.map((e) => [e.type, e.kv.value.toString(), Number(e.kv.mod_revision)]), [["Put", "2", rev2]]);

      // What the etcd3 client surfaces: 'connected', then an 'error' event (its text is "Watcher canceled: " + cancel_reason).
      const watcher = target.client.watch().key(key).startRevision(String(rev1)).watcher();
      const errored = once(watcher, "error") as Promise<[Error]>;
      await once(watcher, "connected");
      const [err] = await errored;
      assert.match(err.message, /^Watcher canceled: /);
    });

    it("etcdctl watch --rev replays history (simple and JSON output)", opts, async () => {
      const key = `${uniquePrefix("watch/etcdctl")}k`;
      const rev1 = await put(target, key, "1");
      await put(target, key, "2");
      await target.ctl(["del", key]);
      const want = `PUT\n${key}\n1\nPUT\n${key}\n2\nDELETE\n${key}\n\n`;
      const simple = await target.ctl(["watch", `--rev=${rev1}`, key], { timeoutMs: EVENTS_WAIT_MS, until: (out) => out.length >= want.length });
      assert.equal(simple.ended, "until", `etcdctl watch printed ${JSON.stringify(simple.stdout)}; stderr ${simple.stderr}`);
      assert.equal(simple.stdout, want);

      const json = await target.ctl(["watch", `--rev=${rev1}`, key, "--prev-kv", "-w", "json"], {
        timeoutMs: EVENTS_WAIT_MS,
        until: (out) => parseableLines(out).flatMap((r) => r.Events).length >= 3,
      });
      assert.equal(json.ended, "until", json.stderr);
      const events = parseableLines(json.stdout).flatMap((r) => r.Events);
      assert.deepEqual(
        events.map((e) => [e.type ?? 0, fromBase64(e.kv.key), fromBase64(e.kv.value), e.kv.mod_revision, e.prev_kv === undefined ? null : fromBase64(e.prev_kv.value)]),
        [[0, key, "1", rev1, null], [0, key, "2", rev1 + 1, "1"], [1, key, "", rev1 + 2, "2"]],
      );
    });

    it("etcdctl watch from a compacted revision exits 5 with 'required revision has been compacted'", opts, async () => {
      const key = `${uniquePrefix("watch/etcdctl-compacted")}k`;
      const rev1 = await put(target, key, "1");
      const rev2 = await put(target, key, "2");
      assert.equal((await target.ctl(["compact", String(rev2)])).code, 0);
      const res = await target.ctl(["watch", `--rev=${rev1}`, key, "-w", "json"], { timeoutMs: EVENTS_WAIT_MS });
      assert.equal(res.ended, "exit", "the server cancels the watch, so etcdctl exits by itself");
      assert.equal(res.code, 5);
      assert.match(res.stderr, /^watch was canceled \(etcdserver: mvcc: required revision has been compacted\)$/m);
      assert.match(res.stderr, /^Error: watch is canceled by the server$/m);
      const [cancel] = parseEtcdctlJsonLines(res.stdout) as unknown as WatchResponseJson[];
      assert.equal(cancel?.Canceled, true);
      assert.equal(cancel?.CompactRevision, rev2);
    });
  });
}

/** The complete JSON lines printed so far by `etcdctl watch -w json`. */
function parseableLines(out: string): WatchResponseJson[] {
  const complete = out.slice(0, out.lastIndexOf("\n") + 1);
  return parseEtcdctlJsonLines(complete) as unknown as WatchResponseJson[];
}
