/** A broken invariant: a programmer error. Never caught; the process exits (the simulator prints its seed). */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/** Asserts what must hold. Bad input is not an assertion: return a typed error for that. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Rethrows assertion failures from inside a `catch` that handles operating errors. */
export function rethrowIfAssertion(err: unknown): void {
  if (err instanceof AssertionError) throw err;
}
