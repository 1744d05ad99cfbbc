/** Exponential backoff with full jitter: attempt 1 waits up to 1 s, then 2 s, 4 s, … capped. */
export const RETRY_BASE_MS = 1000;
export const RETRY_CAP_MS = 60_000;

/**
 * Delay before retry number `retry` (1 = first retry). Half the delay is
 * fixed and half is random, so retries keep the 1 s / 2 s / 4 s rhythm
 * without a thundering herd.
 */
export function retryDelayMs(retry: number, random: () => number = Math.random, retryAfterMs?: number): number {
  const exponential = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
