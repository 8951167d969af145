/**
 * The result of one plugin at one extension point (upstream `framework.Status`). The code says what the
 * scheduler does next, not just pass or fail: `Unschedulable` lets preemption try to make room on the
 * node, `UnschedulableAndUnresolvable` tells it not to bother, `Skip` drops the plugin for this cycle.
 */
export enum Code {
  Success = 0,
  Error = 1,
  Unschedulable = 2,
  UnschedulableAndUnresolvable = 3,
  Wait = 4,
  Skip = 5,
  Pending = 6,
}

const CODE_NAMES = ["Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Wait", "Skip", "Pending"];

export class Status {
  #plugin = "";
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    readonly error: Error | null = null,
  ) {}

  /** The plugin that returned (or caused) this status, filled in by the framework. */
  get plugin(): string {
    return this.#plugin;
  }
  withPlugin(plugin: string): Status {
    this.#plugin = plugin;
    return this;
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }
  isWait(): boolean {
    return this.code === Code.Wait;
  }
  isSkip(): boolean {
    return this.code === Code.Skip;
  }
  /** Unschedulable, UnschedulableAndUnresolvable or Pending: the pod cannot go here, which is not an error. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable || this.code === Code.Pending;
  }
  /** Status.Reasons(): the error text when there is one, else the reasons. */
  reasonsOrError(): readonly string[] {
    return this.error !== null ? [this.error.message] : this.reasons;
  }
  /** Status.Message(): the reasons joined with ", ". */
  message(): string {
    return this.reasonsOrError().join(", ");
  }
  codeName(): string {
    return CODE_NAMES[this.code] ?? `Code(${this.code})`;
  }
  toString(): string {
    return `${this.codeName()}: ${this.message()}`;
  }
}

/** A successful status; plugins may also return `null`, which the framework reads as success. */
export const SUCCESS = new Status(Code.Success);

export function newStatus(code: Code, ...reasons: string[]): Status {
  return new Status(code, reasons);
}

/** framework.AsStatus: an error that is not about fit (a bug, a missing state). */
export function asStatus(err: unknown): Status {
  return new Status(Code.Error, [], err instanceof Error ? err : new Error(String(err)));
}

/** Reads a plugin's `null` as success. */
export function orSuccess(s: Status | null | undefined): Status {
  return s ?? SUCCESS;
}
