import { assert } from "../../src/util/assert.js";

/**
 * What a client learned about one operation:
 * - `ok`: it returned an answer, so it took effect exactly once between its call and its return;
 * - `failed`: it definitely did not happen (refused before being proposed), so checkers drop it;
 * - `unknown`: it timed out or the connection broke; it may have taken effect at any point after its
 *   call (even after the client gave up: a proposal can commit later), or never.
 */
export type Outcome = "ok" | "failed" | "unknown";

/**
 * One client operation. Times are whatever the simulator counts in (virtual ticks or ms); two events
 * at the same time are treated as concurrent, as Porcupine does, because their order is not known.
 * An `unknown` operation has `returnTime` = +Infinity and no output.
 */
export interface Operation<I, O> {
  /** Index in the history; stable, used in explanations. */
  readonly id: number;
  readonly clientId: number;
  readonly callTime: number;
  readonly returnTime: number;
  readonly input: I;
  /** The answer; undefined unless `outcome` is "ok". */
  readonly output: O | undefined;
  readonly outcome: Outcome;
}

/** A whole recorded history, in call order. */
export type History<I, O> = readonly Operation<I, O>[];

/** Bounds the memory of one recorded run; a simulation run that needs more is misconfigured. */
export const HISTORY_OPERATIONS_MAX = 1_000_000;

interface Pending<I> {
  readonly clientId: number;
  readonly callTime: number;
  readonly input: I;
}

/**
 * Records a history as the simulator's clients act. A client has at most one operation in flight
 * (a linearizability history is per-process sequential); an operation still pending when the history
 * is taken counts as `unknown`.
 *
 *   const rec = new HistoryRecorder<KvInput, KvOutput>();
 *   const id = rec.invoke(1, { kind: "put", key: "a", value: "1" }, 10);
 *   rec.ok(id, { kind: "put", revision: 2 }, 14);   // or rec.fail(id, 14) / rec.timeout(id, 14)
 */
export class HistoryRecorder<I, O> {
  readonly #operationsMax: number;
  readonly #ops: Operation<I, O>[] = [];
  readonly #pending = new Map<number, Pending<I>>();
  readonly #inFlightByClient = new Map<number, number>();
  #nextId = 0;
  #lastTime = -Infinity;

  constructor(options: { operationsMax?: number } = {}) {
    this.#operationsMax = options.operationsMax ?? HISTORY_OPERATIONS_MAX;
  }

  /** Records a call; returns the operation's id for `ok`, `fail` or `timeout`. */
  invoke(clientId: number, input: I, time: number): number {
    this.#advance(time);
    assert(!this.#inFlightByClient.has(clientId), `client ${clientId} invoked while operation ${this.#inFlightByClient.get(clientId)} is in flight`);
    assert(this.#nextId < this.#operationsMax, `history is full: operationsMax is ${this.#operationsMax}`);
    const id = this.#nextId++;
    this.#pending.set(id, { clientId, callTime: time, input });
    this.#inFlightByClient.set(clientId, id);
    return id;
  }

  /** The operation returned `output`: it happened exactly once between its call and now. */
  ok(id: number, output: O, time: number): void {
    this.#complete(id, time, "ok", output);
  }

  /** The operation definitely did not happen (refused before it reached the log). */
  fail(id: number, time: number): void {
    this.#complete(id, time, "failed", undefined);
  }

  /** The client gave up: the operation may still happen at any later point, or never. */
  timeout(id: number, time: number): void {
    this.#complete(id, time, "unknown", undefined);
  }

  /** Operations so far, sorted by id (call order); pending ones appear as `unknown`. */
  history(): History<I, O> {
    const out = [...this.#ops];
    for (const [id, p] of this.#pending) out.push(unknownOperation(id, p));
    return out.sort((a, b) => a.id - b.id);
  }

  #complete(id: number, time: number, outcome: Outcome, output: O | undefined): void {
    this.#advance(time);
    const p = this.#pending.get(id);
    assert(p !== undefined, `operation ${id} is not in flight`);
    assert(time >= p.callTime, `operation ${id} returned at ${time} before its call at ${p.callTime}`);
    this.#pending.delete(id);
    this.#inFlightByClient.delete(p.clientId);
    this.#ops.push(outcome === "unknown"
      ? unknownOperation(id, p)
      : { id, clientId: p.clientId, callTime: p.callTime, returnTime: time, input: p.input, output, outcome });
  }

  // The simulator's clock never goes backwards; a recorder fed out of order would make every later
  // verdict meaningless, so it is a programmer error.
  #advance(time: number): void {
    assert(Number.isFinite(time), `time must be finite: current value is ${time}`);
    assert(time >= this.#lastTime, `time went backwards: ${time} < ${this.#lastTime}`);
    this.#lastTime = time;
  }
}

function unknownOperation<I, O>(id: number, p: Pending<I>): Operation<I, O> {
  return { id, clientId: p.clientId, callTime: p.callTime, returnTime: Infinity, input: p.input, output: undefined, outcome: "unknown" };
}
