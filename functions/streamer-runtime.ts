/**
 * What every entry point shares: the application's registry wired into the
 * core, composed once per Lambda container (warm invocations reuse clients
 * and caches), and the Powertools logger.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { composeDeps, type ComposeOptions } from './core/compose-deps';
import type { StreamerDeps } from './core/lifecycle/deps';
import type { Logger } from './core/observability';
import { registry } from './handlers';

export const powertoolsLogger = new PowertoolsLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'streamer' });

export const logger: Logger = {
  debug: (message, fields) => powertoolsLogger.debug(message, fields ?? {}),
  info: (message, fields) => powertoolsLogger.info(message, fields ?? {}),
  warn: (message, fields) => powertoolsLogger.warn(message, fields ?? {}),
  error: (message, fields) => powertoolsLogger.error(message, fields ?? {}),
};

let deps: StreamerDeps | undefined;

/** The container's dependencies; a misconfiguration throws here with the variable's name. */
export function streamerDeps(options: Pick<ComposeOptions, 'dispatcher'> = {}): StreamerDeps {
  deps ??= composeDeps({ registry, logger, ...options });
  return deps;
}
