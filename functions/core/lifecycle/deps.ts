import type { TokenVerifier } from '../auth/verify-token';
import type { Clock } from '../clock';
import type { WorkDispatcher } from '../dispatcher';
import type { HandlerRegistry } from '../handlers/handler-registry';
import type { Notifier } from '../notify/notifier';
import type { Logger, Metrics } from '../observability';
import type { RuntimeSettings } from '../runtime-env';
import type { ConnectionStore } from '../stores/connection-store';
import type { IdempotencyStore } from '../stores/idempotency-store';
import type { ProgressLogStore } from '../stores/progress-log-store';
import type { RequestStore } from '../stores/request-store';
import type { SubscriptionStore } from '../stores/subscription-store';
import type { RateLimiter } from './rate-limiter';

/** Everything the lifecycle needs, behind small interfaces; built once per container by `composeDeps`. */
export interface StreamerDeps {
  readonly settings: RuntimeSettings;
  readonly registry: HandlerRegistry;
  readonly connections: ConnectionStore;
  readonly requests: RequestStore;
  readonly subscriptions: SubscriptionStore;
  readonly idempotency: IdempotencyStore;
  readonly progressLog: ProgressLogStore;
  readonly notifier: Notifier;
  readonly dispatcher: WorkDispatcher;
  readonly verifier: TokenVerifier;
  readonly rateLimiter: RateLimiter;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}
