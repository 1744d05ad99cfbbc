/**
 * The stack templates (Pulumi.<stack>.yaml.template) are valid stacks, as the
 * program reads them, and differ where an environment should: dev cheap,
 * staging prod's shape, prod durable and watched.
 */
import * as path from 'node:path';
import { parseStackConfig, type StackConfig } from '../../infra/config';
import { loadStackConfig } from '../../infra/synth/stack-config';
import { ROOT, TEST_JWT_SECRET } from './pulumi-program';

const STACKS = ['dev', 'staging', 'prod'] as const;

/** A template's configuration, validated by the program's own parser (the token key set as `pulumi config set --secret` would). */
function template(stack: (typeof STACKS)[number]): StackConfig {
  const source = loadStackConfig({ root: ROOT, stack, stackFile: path.join(ROOT, `Pulumi.${stack}.yaml.template`) });
  const raw: Record<string, string> = { jwtSecret: TEST_JWT_SECRET };
  for (const [key, value] of Object.entries(source.values)) if (key.startsWith('streamer:')) raw[key.slice('streamer:'.length)] = value;
  return parseStackConfig(raw);
}

describe('the stack templates', () => {
  it.each(STACKS)('%s is a valid stack once its token key is set', (stack) => {
    expect(() => template(stack)).not.toThrow();
  });

  it('keep logs longer the closer a stack is to users', () => {
    const [dev, staging, prod] = STACKS.map((stack) => template(stack).logRetentionDays);
    expect(dev).toBeLessThan(staging!);
    expect(staging).toBeLessThan(prod!);
  });

  it('recover the requests table in staging and prod only', () => {
    expect(STACKS.map((stack) => template(stack).pointInTimeRecovery)).toEqual([false, true, true]);
  });

  it('reserve processor concurrency outside dev, most in prod', () => {
    expect(template('dev').processorReservedConcurrency).toBeUndefined();
    expect(template('staging').processorReservedConcurrency).toBeLessThan(template('prod').processorReservedConcurrency!);
  });

  it('give staging prod’s memory and tracing, so a release is rehearsed on the same settings', () => {
    const staging = template('staging');
    const prod = template('prod');
    expect(staging.memoryMb).toEqual(prod.memoryMb);
    expect(staging.tracing).toBe(prod.tracing);
    expect(template('dev').logLevel).toBe('DEBUG');
    expect(prod.logLevel).toBe('INFO');
  });
});
