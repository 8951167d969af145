import { assert } from "../../src/util/assert.js";
import type { History, Operation } from "./history.js";

/**
 * A sequential specification. `step` may be nondeterministic (an operation whose outcome is unknown
 * can lead to several states), so it returns every state the operation can lead to: none means the
 * operation, with that output, is impossible in `state`.
 */
export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** States after `input` answered `output` (undefined: outcome unknown, any answer allowed). */
  step(state: S, input: I, output: O | undefined): readonly S[];
  /** Equal keys for equal states: the memo table compares states only through this. */
  key(state: S): string;
  /** A read cannot change the state, so a read whose answer is unknown can be dropped. */
  isReadOnly?(input: I): boolean;
  /**
   * Splits a history into independent sub-histories (Porcupine's P-compositionality): the history is
   * linearizable iff each part is. Only valid when no operation's legality depends on another part.
   */
  partition?(history: History<I, O>): History<I, O>[];
  /**
   * Whether a complete linearization may end in `state` (all states if absent). Lets observations
   * made outside the history constrain it: a watch that saw revision 54 means the run got there.
   */
  accepts?(state: S): boolean;
  /** What `accepts` demands, for explanations. */
  readonly acceptance?: string;
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/**
 * One operation at its linearization point, with the state it left behind. A linearization holds
 * every acknowledged operation and only those timed-out ones that took effect.
 */
export interface LinearizedOp<S, I, O> {
  readonly op: Operation<I, O>;
  readonly stateAfter: S;
}

/** Why a history is not linearizable: as far as the search got, and what could not come next. */
export interface Explanation<S, I, O> {
  readonly model: Model<S, I, O>;
  /** Which part of a partitioned history failed (0 if not partitioned) and how many parts. */
  readonly partIndex: number;
  readonly partCount: number;
  /** Operations in the failing part (failed and unknown-outcome reads already dropped). */
  readonly partOperations: number;
  /** The longest sequence of operations the search could linearize. */
  readonly longestPrefix: readonly LinearizedOp<S, I, O>[];
  readonly stateAfterPrefix: S;
  /**
   * Operations that were eligible to come next (called before the earliest pending return), yet none
   * fits; empty if every operation was placed but no order ends in a state the model `accepts`.
   */
  readonly unplaced: readonly Operation<I, O>[];
}

export type CheckResult<S, I, O> =
  | { readonly verdict: "ok"; readonly steps: number; readonly linearizations: readonly (readonly LinearizedOp<S, I, O>[])[] }
  | { readonly verdict: "illegal"; readonly steps: number; readonly explanation: Explanation<S, I, O> }
  | { readonly verdict: "unknown"; readonly steps: number; readonly reason: string };

export interface CheckOptions {
  /**
   * Search steps (candidate tries plus backtracks) before giving up with "unknown". Deterministic,
   * so a simulation seed replays to the same verdict. The default bounds a check to a few seconds.
   */
  readonly stepsMax?: number;
  /** An optional wall-clock budget on top of the steps budget; `nowMs` is injected (never Date.now here). */
  readonly deadline?: { readonly nowMs: () => number; readonly budgetMs: number };
  /**
   * Where the search tries timed-out operations. Both are complete; they differ in speed only.
   * - `call` (default, as Porcupine): in call order with the rest. Fast when a misplaced timed-out
   *   write is caught at once (the next read of its key sees the wrong value).
   * - `deferred`: only where the acknowledged operations are stuck, and never where they would change
   *   nothing (that is the same as leaving them out). Fast when a misplaced one is caught late: a
   *   timed-out write placed after the last revision anyone saw shifts every later revision, and in
   *   call order the search backtracks through every subset of such writes.
   */
  readonly timedOutOrder?: "call" | "deferred";
}

/**
 * About 5-20 s at 0.5-2 µs a step. Also bounds memory: the memo table gains at most one short entry
 * per step. A 2,000-operation simulator history takes ~20k steps; the budget is for the pathological.
 */
export const CHECK_STEPS_MAX = 10_000_000;
// Reading the clock on every step would dominate the search.
const DEADLINE_CHECK_EVERY_STEPS = 4096;

/**
 * Checks `history` against `model` with the Wing & Gong search as improved by Lowe (and Porcupine):
 * operations sit in a list of call/return events in time order; the search linearizes any operation
 * whose call comes before the first pending return, and backtracks when it reaches a return whose
 * operation it has not placed. Each (set of linearized operations, model state) is visited once.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>, history: History<I, O>, options: CheckOptions = {},
): CheckResult<S, I, O> {
  const relevant = history.filter((op) =>
    op.outcome === "ok" || (op.outcome === "unknown" && !(model.isReadOnly?.(op.input) ?? false)));
  for (const op of relevant) {
    assert(op.returnTime >= op.callTime, `operation ${op.id} returns at ${op.returnTime} before its call at ${op.callTime}`);
    assert(op.outcome === "ok" || op.returnTime === Infinity, `operation ${op.id} has an unknown outcome but returns at ${op.returnTime}`);
  }
  const parts = model.partition ? model.partition(relevant) : [relevant];
  const budget = new Budget(options);
  const linearizations: LinearizedOp<S, I, O>[][] = [];
  for (let i = 0; i < parts.length; i++) {
    const r = searchPart(model, parts[i]!, budget, options.timedOutOrder ?? "call");
    if (r.kind === "budget") return { verdict: "unknown", steps: budget.steps, reason: budget.reason };
    if (r.kind === "illegal") {
      return {
        verdict: "illegal",
        steps: budget.steps,
        explanation: { model, partIndex: i, partCount: parts.length, partOperations: parts[i]!.length, ...r.explanation },
      };
    }
    linearizations.push(r.linearization);
  }
  return { verdict: "ok", steps: budget.steps, linearizations };
}

/** An explanation as text, for a failing simulation's output. */
export function formatExplanation<S, I, O>(e: Explanation<S, I, O>, options: { prefixTail?: number } = {}): string {
  const tail = options.prefixTail ?? 20;
  const lines: string[] = [];
  const part = e.partCount > 1 ? ` (part ${e.partIndex + 1} of ${e.partCount})` : "";
  lines.push(`not linearizable under model ${e.model.name}${part}: linearized ${e.longestPrefix.length} of ${e.partOperations} operations`);
  const from = Math.max(0, e.longestPrefix.length - tail);
  if (from > 0) lines.push(`  ... ${from} earlier operations`);
  for (let i = from; i < e.longestPrefix.length; i++) {
    const { op, stateAfter } = e.longestPrefix[i]!;
    lines.push(`  ${i + 1}. ${formatOperation(e.model, op)}  => ${e.model.describeState(stateAfter)}`);
  }
  lines.push(`state after the longest prefix: ${e.model.describeState(e.stateAfterPrefix)}`);
  if (e.unplaced.length === 0) {
    lines.push(`every operation was linearized, but no order ends in an accepted state: ${e.model.acceptance ?? "(model.accepts)"}`);
  } else {
    lines.push("none of these operations can be linearized next:");
    for (const op of e.unplaced) lines.push(`  - ${formatOperation(e.model, op)}`);
  }
  return lines.join("\n");
}

/** `#12 client 3 [40, 47] put(a, x) -> rev 5` */
export function formatOperation<I, O>(model: Pick<Model<unknown, I, O>, "describeOperation">, op: Operation<I, O>): string {
  const ret = op.returnTime === Infinity ? "..." : String(op.returnTime);
  const outcome = op.outcome === "ok" ? "" : ` (${op.outcome})`;
  return `#${op.id} client ${op.clientId} [${op.callTime}, ${ret}] ${model.describeOperation(op.input, op.output)}${outcome}`;
}

class Budget {
  steps = 0;
  reason = "";
  readonly #stepsMax: number;
  readonly #deadline: CheckOptions["deadline"];
  readonly #deadlineMs: number;

  constructor(options: CheckOptions) {
    this.#stepsMax = options.stepsMax ?? CHECK_STEPS_MAX;
    this.#deadline = options.deadline;
    this.#deadlineMs = options.deadline ? options.deadline.nowMs() + options.deadline.budgetMs : Infinity;
  }

  /** Counts one step; false once the budget is spent. */
  spend(): boolean {
    this.steps++;
    if (this.steps > this.#stepsMax) {
      this.reason = `search gave up after ${this.#stepsMax} steps (stepsMax)`;
      return false;
    }
    if (this.#deadline && this.steps % DEADLINE_CHECK_EVERY_STEPS === 0 && this.#deadline.nowMs() > this.#deadlineMs) {
      this.reason = `search gave up after ${this.#deadline.budgetMs} ms (deadline) and ${this.steps} steps`;
      return false;
    }
    return true;
  }
}

/** A call or return event in the doubly linked list the search lifts operations out of. */
interface Entry {
  readonly index: number; // position of the operation in the part
  readonly isCall: boolean;
  readonly time: number;
  match: Entry | null; // a call's return
  prev: Entry | null;
  next: Entry | null;
}

interface Frame<S> {
  readonly call: Entry;
  readonly stateBefore: S;
  readonly successors: readonly S[];
  readonly nextSuccessor: number;
  /** The scan pass the call was placed in, to resume the same pass after it. */
  readonly pass: Pass;
}

/**
 * With `timedOutOrder: "deferred"`, each point of the search scans its candidates twice: acknowledged
 * operations first, then timed-out ones. A timed-out write that never happened is then tried only
 * where the acknowledged operations are stuck, instead of first at every point (where, placed after
 * the last revision anyone saw, it shifts every later revision and the search backtracks through
 * every subset of such writes). Without it there is one pass, in call order, as in Porcupine.
 */
type Pass = "acknowledged" | "timed-out";

type PartResult<S, I, O> =
  | { kind: "ok"; linearization: LinearizedOp<S, I, O>[] }
  | { kind: "illegal"; explanation: Pick<Explanation<S, I, O>, "longestPrefix" | "stateAfterPrefix" | "unplaced"> }
  | { kind: "budget" };

function searchPart<S, I, O>(
  model: Model<S, I, O>, ops: History<I, O>, budget: Budget, timedOutOrder: "call" | "deferred",
): PartResult<S, I, O> {
  const head = buildEntries(ops);
  const linearized = new LinearizedSet(ops.length);
  const memo = new Set<string>();
  const stack: Frame<S>[] = [];
  // Frames are immutable, so a copy of the stack (pointers only) is enough to rebuild the prefix later.
  let best: { frames: Frame<S>[]; state: S } = { frames: [], state: model.init() };
  let state = model.init();
  let entry = head.next;
  // Acknowledged operations must all be placed; a timed-out one may be left out (it never happened).
  let required = ops.filter((op) => op.outcome === "ok").length;
  const defer = timedOutOrder === "deferred";
  let pass: Pass = "acknowledged";

  // Tries successors[from..] of the call `call` in the current state; on the first unvisited one,
  // linearizes the operation and returns true.
  const tryCall = (call: Entry, successors: readonly S[], from: number, callPass: Pass): boolean => {
    const optional = ops[call.index]!.outcome !== "ok";
    const skipNoOp = optional && defer;
    const stateKey = skipNoOp ? model.key(state) : "";
    for (let i = from; i < successors.length; i++) {
      const next = successors[i]!;
      const nextKey = model.key(next);
      if (skipNoOp && nextKey === stateKey) continue;
      linearized.add(call.index);
      // Each (linearized set, state) is explored once: from the same point the same futures follow.
      const memoKey = `${linearized.key()}|${nextKey}`;
      if (!memo.has(memoKey)) {
        memo.add(memoKey);
        stack.push({ call, stateBefore: state, successors, nextSuccessor: i + 1, pass: callPass });
        lift(call);
        state = next;
        if (!optional) required--;
        if (stack.length > best.frames.length) best = { frames: stack.slice(), state };
        return true;
      }
      linearized.remove(call.index);
    }
    return false;
  };

  // Bounded by the budget: every iteration spends a step.
  for (;;) {
    if (!budget.spend()) return { kind: "budget" };
    if (required === 0 && (model.accepts?.(state) ?? true)) break;
    if (entry !== null && entry.isCall) {
      const op = ops[entry.index]!;
      const inPass = !defer || (op.outcome === "ok") === (pass === "acknowledged");
      if (inPass && tryCall(entry, model.step(state, op.input, op.output), 0, pass)) {
        entry = head.next;
        pass = "acknowledged";
      } else {
        entry = entry.next;
      }
      continue;
    }
    if (defer && pass === "acknowledged") {
      pass = "timed-out";
      entry = head.next;
      continue;
    }
    // A return whose operation is not yet placed, or an empty list whose order the model does not
    // accept: every order of the calls before it failed from here. Undo the latest choice: try its
    // operation's other successor states, then the calls after it in the same pass.
    const frame = stack.pop();
    if (frame === undefined) {
      const longestPrefix = linearizationOf(ops, best.frames, best.state);
      return { kind: "illegal", explanation: { longestPrefix, stateAfterPrefix: best.state, unplaced: unplacedAfter(ops, longestPrefix) } };
    }
    linearized.remove(frame.call.index);
    unlift(frame.call);
    state = frame.stateBefore;
    if (ops[frame.call.index]!.outcome === "ok") required++;
    if (tryCall(frame.call, frame.successors, frame.nextSuccessor, frame.pass)) {
      entry = head.next;
      pass = "acknowledged";
    } else {
      entry = frame.call.next; // never null: the call's return follows it
      pass = frame.pass;
    }
  }
  const linearization = linearizationOf(ops, stack, state);
  const acknowledged = ops.filter((op) => op.outcome === "ok").length;
  assert(linearization.filter((l) => l.op.outcome === "ok").length === acknowledged, `linearized fewer than the ${acknowledged} acknowledged operations`);
  return { kind: "ok", linearization };
}

// Each frame holds the state before its operation; the state after is the next frame's, or `last`.
function linearizationOf<S, I, O>(ops: History<I, O>, frames: readonly Frame<S>[], last: S): LinearizedOp<S, I, O>[] {
  return frames.map((f, k) => ({ op: ops[f.call.index]!, stateAfter: k + 1 < frames.length ? frames[k + 1]!.stateBefore : last }));
}

// Calls sort before returns at equal times: events at the same instant are concurrent.
function buildEntries<I, O>(ops: History<I, O>): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, index) => {
    const call: Entry = { index, isCall: true, time: op.callTime, match: null, prev: null, next: null };
    const ret: Entry = { index, isCall: false, time: op.returnTime, match: null, prev: null, next: null };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.index - b.index : a.isCall ? -1 : 1));
  const head: Entry = { index: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

// Removes a call and its return from the list (the operation is linearized).
function lift(call: Entry): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

// Puts them back, in the reverse order of `lift`, so the neighbours' pointers are the ones lift saw.
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

// The operations that could have come next after the prefix: not yet linearized, and called no later
// than the earliest return among those not yet linearized.
function unplacedAfter<S, I, O>(ops: History<I, O>, prefix: readonly LinearizedOp<S, I, O>[]): Operation<I, O>[] {
  const placed = new Set(prefix.map((p) => p.op.id));
  const rest = ops.filter((op) => !placed.has(op.id));
  const earliestReturn = Math.min(...rest.map((op) => op.returnTime));
  // Acknowledged operations first: a timed-out one is eligible everywhere, so it is rarely the culprit.
  const eligible = rest.filter((op) => op.callTime <= earliestReturn);
  return [...eligible.filter((op) => op.outcome === "ok"), ...eligible.filter((op) => op.outcome !== "ok")];
}

/**
 * The set of linearized operations as a bitset. Operations are indexed in call order, so the set is
 * nearly always a long run of linearized operations, a few pending ones, and a few linearized beyond
 * them: its memo key is the run lengths, a short string, where a copy of the bitset would cost n/8
 * bytes per memo entry (1.25 kB at 10,000 operations: gigabytes over a long search).
 *
 *   bits 1111 1111 1101 0011 0000 ...  ->  "10,1,1,2,2" (10 set, 1 clear, 1 set, 2 clear, 2 set; the tail is clear)
 */
class LinearizedSet {
  readonly #bits: Uint32Array;

  constructor(size: number) {
    this.#bits = new Uint32Array(Math.ceil(size / 32));
  }

  add(i: number): void {
    this.#bits[i >>> 5]! |= 1 << (i & 31);
  }

  remove(i: number): void {
    this.#bits[i >>> 5]! &= ~(1 << (i & 31));
  }

  key(): string {
    let out = "";
    let current = 1; // runs alternate set, clear, set, ... starting with set (possibly of length 0)
    let run = 0;
    for (const word of this.#bits) {
      if (word === (current === 1 ? 0xffffffff : 0)) {
        run += 32;
        continue;
      }
      for (let b = 0; b < 32; b++) {
        const bit = (word >>> b) & 1;
        if (bit === current) {
          run++;
        } else {
          out += `${run},`;
          current = bit;
          run = 1;
        }
      }
    }
    return current === 1 ? out + run : out; // a trailing clear run is implied
  }
}
