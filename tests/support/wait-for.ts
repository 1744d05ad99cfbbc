/**
 * Polls `condition` until it holds (state reached by background work: a
 * socket's replies, a table's contents, a child process exiting), failing
 * after `timeoutMs`.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
