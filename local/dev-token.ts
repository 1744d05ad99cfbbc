/**
 * Development tokens for the local runtime: HS256, signed with
 * `STREAMER_JWT_SECRET` or a documented development default. Production
 * stacks verify tokens with the keys in stack config, never this default.
 */
import jwt from 'jsonwebtoken';

/** The secret the local runtime uses when `STREAMER_JWT_SECRET` is unset. Development only. */
export const DEV_JWT_SECRET = 'streamer-local-development-secret';

export interface DevTokenOptions {
  readonly sub: string;
  readonly tenant: string;
  readonly permissions?: readonly string[];
  /** Lifetime in seconds (default 24 h). */
  readonly expiresInSeconds?: number;
  readonly secret?: string;
}

export function devJwtSecret(env: NodeJS.ProcessEnv = process.env): string {
  return env.STREAMER_JWT_SECRET?.trim() || DEV_JWT_SECRET;
}

export function mintDevToken(options: DevTokenOptions): string {
  const claims: Record<string, unknown> = { sub: options.sub, tenant_id: options.tenant };
  if (options.permissions !== undefined) claims.permissions = [...options.permissions];
  return jwt.sign(claims, options.secret ?? devJwtSecret(), {
    algorithm: 'HS256',
    expiresIn: options.expiresInSeconds ?? 24 * 3600,
  });
}
