/**
 * Reconnect delays: exponential growth, a hard upper bound, and jitter so a
 * fleet of clients dropped by the same outage does not come back in lockstep.
 */
import type { ReconnectOptions } from './types';

/** The reconnect policy with every default filled in. */
export type ReconnectPolicy = Required<ReconnectOptions>;

/** Defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Fills in the defaults and rejects impossible settings with a message naming the option. */
export function reconnectPolicy(options: ReconnectOptions = {}): ReconnectPolicy {
  const policy = { ...DEFAULT_RECONNECT, ...stripUndefined(options) };
  if (!(policy.initialDelayMs >= 0)) throw new RangeError('reconnect.initialDelayMs must be ≥ 0');
  if (!(policy.maxDelayMs >= policy.initialDelayMs)) throw new RangeError('reconnect.maxDelayMs must be ≥ initialDelayMs');
  if (!(policy.factor >= 1)) throw new RangeError('reconnect.factor must be ≥ 1');
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) throw new RangeError('reconnect.jitter must be within 0..1');
  if (!(policy.maxAttempts >= 0)) throw new RangeError('reconnect.maxAttempts must be ≥ 0');
  return policy;
}

/**
 * The delay before reconnect attempt `attempt` (0-based): the capped
 * exponential delay minus a random share of at most `jitter` of it.
 * `random` is injectable so the bounds can be tested exactly.
 */
export function backoffDelay(policy: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const capped = Math.min(policy.maxDelayMs, policy.initialDelayMs * Math.pow(policy.factor, attempt));
  return Math.round(capped * (1 - policy.jitter * random()));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
