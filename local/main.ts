/**
 * `npm start`: the whole Streamer system on this machine, no AWS account.
 *
 *   node dist/local/index.js [--port 3001] [--host 127.0.0.1] [--persist .streamer/db] [--data-dir .streamer]
 *
 * Prints the WebSocket URL, a ready development token, and one
 * machine-readable line for tools and tests:
 *
 *   STREAMER_READY {"wsUrl":"ws://127.0.0.1:3001","httpUrl":"http://127.0.0.1:3001","port":3001,"dynamodbEndpoint":"http://127.0.0.1:…"}
 *
 * SIGINT/SIGTERM close every socket with 1001, stop the pollers and DynamoDB Local.
 * If DynamoDB Local dies with its tables in memory (or cannot be restarted on
 * persisted ones), the runtime shuts down the same way and exits with 1.
 */
import { CUSTOM_SECRET_MESSAGE, mintDevToken, usesDevelopmentSecret } from './dev-token';
import { JavaMissingError } from './dynamodb-local';
import { DeploymentManifestError } from './deployment';
import { UnresolvedSecretError } from './function-environment';
import { FunctionNotBuiltError } from './lambda-containers';
import { LocalConfigError, readLocalConfig } from './local-config';
import { createLogger, describeError } from './log';
import { bootLocalRuntime, DeploymentNotRunnableError } from './runtime';

const SDK_NODE_WARNING = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
/** A shutdown that hangs must not keep a runtime that cannot serve alive. */
const LOST_SHUTDOWN_BOUND_MS = 10_000;

async function main(): Promise<void> {
  const options = readLocalConfig();
  const log = createLogger(options.logLevel);
  if (Number(process.versions.node.split('.')[0]) < 22 && process.env[SDK_NODE_WARNING] === undefined) {
    // Every bundle (this one and each function's) carries its own SDK copy and would repeat this notice.
    log.warn(`Node.js ${process.versions.node}: AWS SDK v3 releases from January 2027 require Node.js 22 or later`);
    process.env[SDK_NODE_WARNING] = 'true';
  }
  log.info(`starting Streamer locally (${options.persistDir ? `tables persisted in ${options.persistDir}` : 'tables in memory'})`);
  const runtime = await bootLocalRuntime(options, log);

  const header = [
    '',
    `  Streamer is running locally (ready in ${(runtime.startupMs / 1000).toFixed(1)} s)`,
    '',
    `  WebSocket     ${runtime.wsUrl}`,
    `  Dashboard     ${runtime.httpUrl}/`,
    `  DynamoDB      ${runtime.dynamodbEndpoint}`,
    '',
  ];
  // A token signed with a secret of your own is your issuer's to mint, not this banner's.
  const tokenLines = usesDevelopmentSecret(process.env) ? developmentTokenLines(runtime) : [`  ${CUSTOM_SECRET_MESSAGE}`, ''];
  const banner = [...header, ...tokenLines];
  process.stdout.write(`${banner.join('\n')}\n`);
  process.stdout.write(
    `STREAMER_READY ${JSON.stringify({ wsUrl: runtime.wsUrl, httpUrl: runtime.httpUrl, port: runtime.port, dynamodbEndpoint: runtime.dynamodbEndpoint })}\n`,
  );

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn(`${signal} again: exiting now`);
      process.exit(130);
    }
    log.info(`${signal}: shutting down`);
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`shutdown failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  void runtime.lost.then((error) => {
    // The cause is already logged as an error; this says what happens next.
    log.info(`shutting down: ${error.message}`);
    setTimeout(() => process.exit(1), LOST_SHUTDOWN_BOUND_MS).unref();
    runtime.stop().finally(() => process.exit(1));
  });
}

main().catch((error: unknown) => {
  const known = [JavaMissingError, FunctionNotBuiltError, LocalConfigError, DeploymentManifestError, DeploymentNotRunnableError, UnresolvedSecretError].some(
    (type) => error instanceof type,
  );
  process.stderr.write(`\nStreamer local runtime failed to start: ${known ? (error as Error).message : describeError(error)}\n`);
  if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});

function developmentTokenLines(runtime: { wsUrl: string; httpUrl: string }): string[] {
  const token = mintDevToken({ sub: 'dev-user', tenant: 'dev-tenant' });
  return [
    '  Development token (sub dev-user, tenant dev-tenant, valid 24 h):',
    `  ${token}`,
    '',
    `  Try:  npx wscat -c "${runtime.wsUrl}?token=${token}"`,
    `        then send {"id":"1","action":"ping"}`,
    `  More tokens: ${runtime.httpUrl}/dev-token?sub=alice&tenant=acme`,
    '',
    '  !! This token is signed with the DEVELOPMENT secret (STREAMER_JWT_SECRET unset or its documented default).',
    '  !! Deployed stacks verify tokens with the keys in stack config; development tokens do not work there.',
    '',
  ];
}
