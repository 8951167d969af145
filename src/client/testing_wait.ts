/** For tests only: waits (in real time, bounded) until a condition holds, for work driven by real IO. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // Bounded by the deadline: polls every few ms.
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Cannot wait for ${what}: still false after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
