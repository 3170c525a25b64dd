/** Polls `probe` until `ok` accepts its value, or fails after `timeoutMs` showing the last value. */
export async function eventually<T>(probe: () => T | Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls a boolean check. */
export function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  return eventually(check, (done) => done, timeoutMs, 100);
}
