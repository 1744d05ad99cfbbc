/**
 * `npm run token -- --sub alice --tenant acme [--permissions a,b] [--ttl 3600]`
 *
 * Prints a development token for the local runtime (HS256 with
 * `STREAMER_JWT_SECRET` or the documented development default). Deployed
 * stacks verify tokens with the keys in stack config, never this secret.
 * With `STREAMER_JWT_SECRET` set to a secret of your own it refuses (exit 2):
 * such tokens come from your own issuer.
 */
import { CUSTOM_SECRET_MESSAGE, mintDevToken, usesDevelopmentSecret } from './dev-token';

const USAGE = 'usage: npm run token -- --sub <user> --tenant <tenant> [--permissions a,b] [--ttl <seconds>]';

function parse(argv: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (!['sub', 'tenant', 'permissions', 'ttl'].includes(name)) throw new Error(`unknown flag --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values[name] = value;
  }
  return values;
}

try {
  const flags = parse(process.argv.slice(2));
  if (!usesDevelopmentSecret(process.env)) throw new Error(CUSTOM_SECRET_MESSAGE);
  const ttl = flags.ttl === undefined ? undefined : Number(flags.ttl);
  const token = mintDevToken({
    sub: flags.sub?.trim() || 'dev-user',
    tenant: flags.tenant?.trim() || 'dev-tenant',
    permissions: flags.permissions?.split(',').map((p) => p.trim()).filter(Boolean),
    expiresInSeconds: ttl,
  });
  process.stdout.write(`${token}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
