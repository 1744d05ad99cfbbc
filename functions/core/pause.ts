/**
 * Waits `ms`, or less if `signal` aborts, then throws the abort reason so a
 * handler stops at its next step.
 *
 * @example
 * for (const step of steps) { await pause(100, ctx.signal); ctx.progress.report(step / steps.length); }
 */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
  signal?.throwIfAborted();
}
