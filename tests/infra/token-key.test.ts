/**
 * The HS256 key lives in an SSM SecureString parameter that only the authorizer
 * may read: created from the Pulumi secret (with the previous key during a
 * rotation) or referenced by name/ARN, never in any function's environment.
 */
import { parseTokenKeySet } from '../../functions/core/auth/token-key-set';
import { ENV } from '../../functions/core/runtime-env';
import { ACCOUNT, REGION, runWithDefaults, TEST_JWT_SECRET, unwrapSecret, type ProgramRun } from './pulumi-program';

const FUNCTION = 'aws:lambda/function:Function';
const PARAMETER = 'aws:ssm/parameter:Parameter';
const FUNCTIONS = ['authorizer', 'connect', 'disconnect', 'router', 'processor'] as const;
const NEW_SECRET = 'the-new-secret-that-is-long-enough-for-hs256';

const envOf = (run: ProgramRun, fn: string): Record<string, string> =>
  (unwrapSecret(run.named(FUNCTION, `streamer-${fn}`).inputs.environment).value as { variables: Record<string, string> }).variables;

function statementsOf(run: ProgramRun, fn: string): { Sid: string; Action: string[]; Resource: string[] }[] {
  return run
    .ofType('aws:iam/rolePolicy:RolePolicy')
    .filter((p) => p.inputs.role === `streamer-${fn}-4f3e2d1`)
    .flatMap((p) => JSON.parse(p.inputs.policy).Statement);
}

const secretStoreGrants = (run: ProgramRun, fn: string) =>
  statementsOf(run, fn).filter((s) => s.Action.some((action) => action.startsWith('ssm:') || action.startsWith('kms:')));

describe('a stack with jwtSecret', () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runWithDefaults();
  });

  it('stores the secret in a SecureString parameter, marked secret', () => {
    const [parameter] = run.ofType(PARAMETER);
    expect(parameter.inputs).toMatchObject({ name: '/streamer-dev/token-key', type: 'SecureString', tier: 'Standard' });
    expect(parameter.inputs.keyId).toBeUndefined();
    expect(unwrapSecret(parameter.inputs.value)).toEqual({ secret: true, value: TEST_JWT_SECRET });
  });

  it('lets the authorizer, and only the authorizer, read that parameter', () => {
    expect(secretStoreGrants(run, 'authorizer')).toEqual([
      { Sid: 'ReadTokenKey', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/streamer-dev/token-key`] },
    ]);
    for (const fn of ['connect', 'disconnect', 'router', 'processor']) expect(secretStoreGrants(run, fn)).toEqual([]);
  });

  it('hands the authorizer the parameter’s name and refresh interval, and no function the key', () => {
    expect(envOf(run, 'authorizer')).toMatchObject({ [ENV.jwtSecretParameter]: '/streamer-dev/token-key', [ENV.tokenKeyRefreshSeconds]: '300' });
    for (const fn of FUNCTIONS) {
      expect(unwrapSecret(run.named(FUNCTION, `streamer-${fn}`).inputs.environment).secret).toBe(false);
      expect(JSON.stringify(envOf(run, fn))).not.toContain(TEST_JWT_SECRET);
    }
  });
});

describe('a stack rotating its key', () => {
  it('stores the new and the previous key with the end of the overlap, as the authorizer reads them', async () => {
    const run = await runWithDefaults(
      { jwtSecret: NEW_SECRET, jwtPreviousSecret: TEST_JWT_SECRET, jwtPreviousSecretAcceptedUntil: '2026-12-03T12:00:00Z', tokenKeyRefreshSeconds: '60' },
      { secretKeys: ['jwtSecret', 'jwtPreviousSecret'] },
    );
    const { value } = unwrapSecret(run.ofType(PARAMETER)[0].inputs.value);
    expect(JSON.parse(String(value))).toEqual({ current: NEW_SECRET, previous: TEST_JWT_SECRET, previousAcceptedUntil: '2026-12-03T12:00:00.000Z' });
    const keys = parseTokenKeySet(String(value), 'the parameter');
    expect(keys.previous?.acceptedUntilMs).toBe(Date.parse('2026-12-03T12:00:00Z'));
    expect(envOf(run, 'authorizer')[ENV.tokenKeyRefreshSeconds]).toBe('60');
  });

  it('refuses a previous key without the end of its overlap window', async () => {
    await expect(runWithDefaults({ jwtPreviousSecret: TEST_JWT_SECRET }, { secretKeys: ['jwtSecret', 'jwtPreviousSecret'] })).rejects.toThrow(
      'a rotation sets streamer:jwtPreviousSecret and streamer:jwtPreviousSecretAcceptedUntil together',
    );
  });
});

describe('a stack referring to a parameter kept elsewhere', () => {
  it('creates none, and grants the authorizer GetParameter on it and Decrypt on its customer key', async () => {
    const kms = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const run = await runWithDefaults({ jwtSecret: '', jwtSecretParameter: '/shared/streamer-token-key', tokenKeyKmsKeyArn: kms }, { secretKeys: [] });
    expect(run.ofType(PARAMETER)).toEqual([]);
    expect(secretStoreGrants(run, 'authorizer')).toEqual([
      { Sid: 'ReadTokenKey', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/shared/streamer-token-key`] },
      { Sid: 'DecryptTokenKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [kms] },
    ]);
    expect(envOf(run, 'authorizer')[ENV.jwtSecretParameter]).toBe('/shared/streamer-token-key');
    for (const fn of ['connect', 'disconnect', 'router', 'processor']) expect(secretStoreGrants(run, fn)).toEqual([]);
  });
});
