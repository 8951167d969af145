// The etcd Watch contract through the etcd3 client (its Watcher and the raw Watch stream) and `etcdctl watch`.
// Expectations observed on etcd 3.4.23; the same assertions run against `tk8s datastore`.
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import type { IKeyValue, IWatchResponse, WatchBuilder, Watcher } from "etcd3";
import { TEST_TIMEOUT_MS, newClient, suiteOptions, targets, uniquePrefix, useDatastore, withDatastore, type ContractTarget } from "../harness/contract.js";
import { fromBase64, parseEtcdctlJsonLines, type PutJson, type RangeJson, type WatchResponseJson } from "../harness/etcdctl.js";
import { describeWatchResponses, rawEtcdClient, type RawEtcdClient, type RawWatchResponse, type RawWatchStream } from "../harness/grpc_client.js";

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

/** The watch_id etcd puts on responses that belong to no watcher: a refused create, a progress notification. */
const INVALID_WATCH_ID = "-1";
/** WatchCreateRequest.FilterType: NOPUT drops put events, NODELETE drops delete events. */
const FILTER_NOPUT = 0;
const FILTER_NODELETE = 1;

/**
 * A bare gRPC client and one bidirectional Watch stream on it for `fn`, both closed afterwards. Requests
 * go out exactly as written (client-chosen watch_id, cancel_request, progress_request), and every response
 * is recorded in order, so a test asserts on what the server sent rather than on what a client library made of it.
 */
async function withRawStream<T>(target: ContractTarget, fn: (stream: RawWatchStream, raw: RawEtcdClient) => Promise<T>): Promise<T> {
  const raw = rawEtcdClient(target.endpoint);
  const stream = raw.watch();
  try {
    return await fn(stream, raw);
  } finally {
    stream.close();
    raw.close();
  }
}

/** Waits until `n` created responses arrived on `stream` and returns them in order. */
async function created(stream: RawWatchStream, n: number): Promise<RawWatchResponse[]> {
  const responses = await stream.until(`${n} created responses`, (rs) => rs.filter((r) => r.created).length >= n, EVENTS_WAIT_MS);
  return responses.filter((r) => r.created).slice(0, n);
}

/** The events delivered to `watchId` so far as [type, key without `prefix`, value, mod_revision]. */
function eventsFor(responses: readonly RawWatchResponse[], watchId: string, prefix: string): Array<[string, string, string, number]> {
  return responses
    .filter((r) => r.watch_id === watchId)
    .flatMap((r) => r.events)
    .map((e) => [e.type === 0 ? "PUT" : "DELETE", e.kv.key.toString().slice(prefix.length), e.kv.value.toString(), Number(e.kv.mod_revision)]);
}

/** How many events `watchId` has received so far. */
function eventCount(responses: readonly RawWatchResponse[], watchId: string): number {
  return responses.filter((r) => r.watch_id === watchId).reduce((n, r) => n + r.events.length, 0);
}

/** The revision the server is at now (a Range's header), read over the raw client. */
async function rawRevision(raw: RawEtcdClient): Promise<number> {
  return (await raw.rangeCount("contract-revision-probe/")).revision;
}

function createRequest(key: string, fields: Record<string, unknown> = {}): object {
  return { create_request: { key: Buffer.from(key), ...fields } };
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

    it("several watchers on one raw stream keep their client-chosen watch_ids; auto-assigned ids skip the ids in use", opts, async () => {
      const p = uniquePrefix("watch/stream-ids");
      await withRawStream(target, async (stream, raw) => {
        const rev = await rawRevision(raw);
        stream.send(createRequest(`${p}a`, { watch_id: "1" }));
        stream.send(createRequest(`${p}b`, { watch_id: "100" }));
        // watch_id 0 (or absent) asks the server to pick: it counts up from 0 past the ids already taken.
        stream.send(createRequest(`${p}c`));
        stream.send(createRequest(`${p}c`, { watch_id: "0" }));
        const answers = await created(stream, 4);
        assert.deepEqual(answers.map((r) => [r.watch_id, r.created, r.canceled, r.events.length]), [["1", true, false, 0], ["100", true, false, 0], ["0", true, false, 0], ["2", true, false, 0]]);
        assert.deepEqual(answers.map((r) => Number(r.header.revision)), [rev, rev, rev, rev], "each created response carries the current revision");

        const revA = (await raw.put(`${p}a`, "1")).revision;
        const revB = (await raw.put(`${p}b`, "2")).revision;
        const revC = (await raw.put(`${p}c`, "3")).revision;
        const all = await stream.until("the events of all four watchers", (rs) => ["1", "100", "0", "2"].every((id) => eventCount(rs, id) >= 1), EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        assert.deepEqual(eventsFor(all, "1", p), [["PUT", "a", "1", revA]]);
        assert.deepEqual(eventsFor(all, "100", p), [["PUT", "b", "2", revB]]);
        assert.deepEqual(eventsFor(all, "0", p), [["PUT", "c", "3", revC]]);
        assert.deepEqual(eventsFor(all, "2", p), [["PUT", "c", "3", revC]]);
        assert.equal(stream.responses.length, 8, `one response per watcher and event: ${describeWatchResponses(stream.responses)}`);
      });
    });

    it("a create with a watch_id already used on the stream is answered created+canceled with watch_id -1; the first watcher keeps working", opts, async () => {
      const p = uniquePrefix("watch/duplicate-id");
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(`${p}first`, { watch_id: "7" }));
        await created(stream, 1);
        const rev = await rawRevision(raw);
        stream.send(createRequest(`${p}second`, { watch_id: "7" }));
        const [, refused] = await created(stream, 2);
        assert.deepEqual(
          { watch_id: refused!.watch_id, created: refused!.created, canceled: refused!.canceled, cancel_reason: refused!.cancel_reason, events: refused!.events.length, revision: Number(refused!.header.revision) },
          { watch_id: INVALID_WATCH_ID, created: true, canceled: true, cancel_reason: "mvcc: duplicate watch ID provided on the WatchStream", events: 0, revision: rev },
        );

        // The refused create made no watcher: only the first one sees a write.
        await raw.put(`${p}second`, "ignored");
        const revFirst = (await raw.put(`${p}first`, "1")).revision;
        await stream.until("the first watcher's event", (rs) => eventCount(rs, "7") >= 1, EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        assert.deepEqual(eventsFor(stream.responses, "7", p), [["PUT", "first", "1", revFirst]]);
        assert.equal(stream.responses.length, 3, describeWatchResponses(stream.responses));
      });

      // Watch ids are per stream: the same id on another stream is a new watcher.
      await withRawStream(target, async (other) => {
        other.send(createRequest(`${p}first`, { watch_id: "7" }));
        const [answer] = await created(other, 1);
        assert.deepEqual([answer!.watch_id, answer!.canceled], ["7", false]);
      });
    });

    it("cancel_request is answered canceled with an empty cancel_reason; the watcher gets nothing more, others on the stream do; an unknown id gets no answer", opts, async () => {
      const key = `${uniquePrefix("watch/cancel-request")}k`;
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(key, { watch_id: "1" }));
        stream.send(createRequest(key, { watch_id: "2" }));
        await created(stream, 2);
        await raw.put(key, "before");
        await stream.until("both watchers' first event", (rs) => eventCount(rs, "1") === 1 && eventCount(rs, "2") === 1, EVENTS_WAIT_MS);

        const rev = await rawRevision(raw);
        const seen = stream.responses.length;
        stream.send({ cancel_request: { watch_id: "1" } });
        const [cancel] = (await stream.until("the canceled response", (rs) => rs.length > seen, EVENTS_WAIT_MS)).slice(seen);
        assert.deepEqual(
          { watch_id: cancel!.watch_id, created: cancel!.created, canceled: cancel!.canceled, cancel_reason: cancel!.cancel_reason, compact_revision: cancel!.compact_revision, events: cancel!.events.length, revision: Number(cancel!.header.revision) },
          { watch_id: "1", created: false, canceled: true, cancel_reason: "", compact_revision: "0", events: 0, revision: rev },
        );

        const after = (await raw.put(key, "after")).revision;
        await stream.until("the remaining watcher's second event", (rs) => eventCount(rs, "2") === 2, EVENTS_WAIT_MS);
        // Neither an unknown id nor an id cancelled before is answered; the progress response is the barrier.
        const beforeUnknown = stream.responses.length;
        stream.send({ cancel_request: { watch_id: "999" } });
        stream.send({ cancel_request: { watch_id: "1" } });
        stream.send({ progress_request: {} });
        await stream.until("the progress response", (rs) => rs.length > beforeUnknown, EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        assert.deepEqual(stream.responses.slice(beforeUnknown).map((r) => [r.watch_id, r.canceled]), [[INVALID_WATCH_ID, false]], describeWatchResponses(stream.responses));
        assert.deepEqual(eventsFor(stream.responses, "1", key), [["PUT", "", "before", after - 1]]);
        assert.deepEqual(eventsFor(stream.responses, "2", key), [["PUT", "", "before", after - 1], ["PUT", "", "after", after]]);
        assert.equal(stream.error, null, "the stream stays open");
      });
    });

    it("progress_request on a synced stream answers watch_id -1 at the current revision with no events", opts, async () => {
      const p = uniquePrefix("watch/progress");
      // With no watcher on the stream, and with one that is synced while other keys are written.
      await withRawStream(target, async (stream, raw) => {
        await raw.put(`${p}elsewhere`, "1");
        stream.send({ progress_request: {} });
        const [progress] = await stream.until("the progress response", (rs) => rs.length >= 1, EVENTS_WAIT_MS);
        assert.deepEqual(progressShape(progress!), { watch_id: INVALID_WATCH_ID, created: false, canceled: false, compact_revision: "0", cancel_reason: "", events: 0, revision: await rawRevision(raw) });
      });
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(`${p}watched`, { watch_id: "3" }));
        await created(stream, 1);
        await raw.put(`${p}elsewhere`, "2");
        await raw.put(`${p}elsewhere`, "3");
        stream.send({ progress_request: {} });
        const [, progress] = await stream.until("the progress response", (rs) => rs.length >= 2, EVENTS_WAIT_MS);
        assert.deepEqual(progressShape(progress!), { watch_id: INVALID_WATCH_ID, created: false, canceled: false, compact_revision: "0", cancel_reason: "", events: 0, revision: await rawRevision(raw) });
        await sleep(QUIET_MS);
        assert.equal(stream.responses.length, 2, describeWatchResponses(stream.responses));
      });
    });

    it("filters: NOPUT gets only deletes, with prev_kv carrying the deleted value; NOPUT+NODELETE gets nothing", opts, async () => {
      const p = uniquePrefix("watch/filters");
      const key = `${p}k`;
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(key, { watch_id: "1", filters: [FILTER_NOPUT], prev_kv: true }));
        stream.send(createRequest(key, { watch_id: "2", filters: [FILTER_NOPUT, FILTER_NODELETE] }));
        stream.send(createRequest(key, { watch_id: "3" }));
        await created(stream, 3);
        const rev1 = (await raw.put(key, "1")).revision;
        await raw.put(key, "2");
        const del = await raw.unary<{ header: { revision: string }; deleted: string }>("KV", "DeleteRange", { key: Buffer.from(key) });
        const revDel = Number(del.header.revision);
        await stream.until("the unfiltered watcher's three events", (rs) => eventCount(rs, "3") >= 3 && eventCount(rs, "1") >= 1, EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        assert.deepEqual(eventsFor(stream.responses, "3", p), [["PUT", "k", "1", rev1], ["PUT", "k", "2", rev1 + 1], ["DELETE", "k", "", revDel]]);
        assert.deepEqual(eventsFor(stream.responses, "1", p), [["DELETE", "k", "", revDel]]);
        assert.deepEqual(eventsFor(stream.responses, "2", p), []);
        const [deleted] = stream.responses.filter((r) => r.watch_id === "1" && r.events.length > 0).flatMap((r) => r.events);
        const prev = deleted!.prev_kv;
        assert.ok(prev !== null, "prev_kv was asked for");
        assert.deepEqual(
          { key: prev.key.toString(), value: prev.value.toString(), create: Number(prev.create_revision), mod: Number(prev.mod_revision), version: Number(prev.version) },
          { key, value: "2", create: rev1, mod: rev1 + 1, version: 2 },
        );
      });
    });

    it("a from-key watch (range_end is the single byte 0x00) sees every key >= key and none below it", opts, async () => {
      const p = uniquePrefix("watch/from-key");
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(`${p}m`, { range_end: Buffer.from([0]) }));
        await created(stream, 1);
        await raw.put(`${p}a`, "below");
        const revM = (await raw.put(`${p}m`, "at")).revision;
        const revZ = (await raw.put(`${p}z`, "above")).revision;
        // Not under the prefix, but after it in key order ("0" follows "/").
        const sibling = `${p.slice(0, -1)}0`;
        const revSibling = (await raw.put(sibling, "far")).revision;
        await stream.until("three events", (rs) => eventCount(rs, "0") >= 3, EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        assert.deepEqual(eventsFor(stream.responses, "0", ""), [["PUT", `${p}m`, "at", revM], ["PUT", `${p}z`, "above", revZ], ["PUT", sibling, "far", revSibling]]);
      });
    });

    it("a watch from a future start_revision is created at the current revision and delivers events only from that revision on", opts, async () => {
      const key = `${uniquePrefix("watch/future")}k`;
      await withRawStream(target, async (stream, raw) => {
        const rev0 = (await raw.put(key, "0")).revision;
        stream.send(createRequest(key, { start_revision: String(rev0 + 3) }));
        const [answer] = await created(stream, 1);
        assert.deepEqual([answer!.created, answer!.canceled, Number(answer!.header.revision)], [true, false, rev0]);
        await raw.put(key, "1");
        await raw.put(key, "2");
        await sleep(QUIET_MS);
        assert.equal(stream.responses.length, 1, `no events before start_revision: ${describeWatchResponses(stream.responses)}`);
        await raw.put(key, "3");
        await raw.put(key, "4");
        await stream.until("two events", (rs) => eventCount(rs, "0") >= 2, EVENTS_WAIT_MS);
        assert.deepEqual(eventsFor(stream.responses, "0", key), [["PUT", "", "3", rev0 + 3], ["PUT", "", "4", rev0 + 4]]);
      });
    });

    it("the events of one txn arrive in one response, in the txn's op order, all at the txn's revision", opts, async () => {
      const p = uniquePrefix("watch/txn");
      await withRawStream(target, async (stream, raw) => {
        stream.send(createRequest(p, { range_end: Buffer.from(prefixEnd(p)), prev_kv: true, watch_id: "1" }));
        stream.send(createRequest(`${p}b`, { watch_id: "2" }));
        await created(stream, 2);
        const revOld = (await raw.put(`${p}c`, "old")).revision;
        await stream.until("the first put", (rs) => eventCount(rs, "1") >= 1, EVENTS_WAIT_MS);
        const seen = stream.responses.length;
        const txn = await raw.unary<{ header: { revision: string }; succeeded: boolean }>("KV", "Txn", {
          compare: [],
          success: [
            { request_put: { key: Buffer.from(`${p}b`), value: Buffer.from("1") } },
            { request_put: { key: Buffer.from(`${p}a`), value: Buffer.from("2") } },
            { request_delete_range: { key: Buffer.from(`${p}c`) } },
            { request_put: { key: Buffer.from(`${p.slice(0, -1)}-outside`), value: Buffer.from("3") } },
          ],
          failure: [],
        });
        assert.equal(txn.succeeded, true);
        const rev = Number(txn.header.revision);
        assert.equal(rev, revOld + 1, "one revision for the whole txn");
        await stream.until("the txn's events", (rs) => eventCount(rs, "1") >= 4 && eventCount(rs, "2") >= 1, EVENTS_WAIT_MS);
        await sleep(QUIET_MS);
        const fresh = stream.responses.slice(seen);
        assert.deepEqual(fresh.map((r) => [r.watch_id, r.events.length, Number(r.header.revision)]).sort(), [["1", 3, rev], ["2", 1, rev]], describeWatchResponses(fresh));
        const txnEvents = fresh.find((r) => r.watch_id === "1")!.events;
        assert.deepEqual(
          txnEvents.map((e) => [e.type === 0 ? "PUT" : "DELETE", e.kv.key.toString().slice(p.length), e.kv.value.toString(), Number(e.kv.mod_revision), e.prev_kv === null ? null : e.prev_kv.value.toString()]),
          [["PUT", "b", "1", rev, null], ["PUT", "a", "2", rev, null], ["DELETE", "c", "", rev, "old"]],
        );
        assert.deepEqual(eventsFor(fresh, "2", p), [["PUT", "b", "1", rev]]);
      });
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

    it("progress_notify watchers get an empty response at the current revision each interval they saw no events", { timeout: TEST_TIMEOUT_MS }, async () => {
      await withDatastore(kind, async (small) => {
        const p = uniquePrefix("watch/progress-notify");
        await withRawStream(small, async (stream, raw) => {
          const { revision } = await raw.put(`${p}k`, "1");
          stream.send({ create_request: { key: Buffer.from(`${p}quiet`), progress_notify: true } });
          stream.send({ create_request: { key: Buffer.from(`${p}plain`) } });
          const [quiet, plain] = await created(stream, 2);
          const progress = await stream.until("a progress notification", (rs) => rs.some((r) => !r.created && r.watch_id === quiet!.watch_id), EVENTS_WAIT_MS);
          const notes = progress.filter((r) => !r.created && r.watch_id === quiet!.watch_id);
          assert.equal(notes[0]!.events.length, 0);
          assert.equal(notes[0]!.canceled, false);
          assert.equal(Number(notes[0]!.header.revision), revision, "the notification carries the current revision");
          assert.ok(progress.every((r) => r.created || r.watch_id !== plain!.watch_id), "a watcher without progress_notify gets no notification");
        });
      }, { extraArgs: ["--experimental-watch-progress-notify-interval=1s"] });
    });
  });
}

/** The complete JSON lines printed so far by `etcdctl watch -w json`. */
function parseableLines(out: string): WatchResponseJson[] {
  const complete = out.slice(0, out.lastIndexOf("\n") + 1);
  return parseEtcdctlJsonLines(complete) as unknown as WatchResponseJson[];
}

/** The fields of a progress notification a test compares: ids and flags, event count, header revision. */
function progressShape(r: RawWatchResponse): Record<string, unknown> {
  return { watch_id: r.watch_id, created: r.created, canceled: r.canceled, compact_revision: r.compact_revision, cancel_reason: r.cancel_reason, events: r.events.length, revision: Number(r.header.revision) };
}

/** The range_end that makes [prefix, end) cover exactly the keys starting with prefix (ASCII prefixes). */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
