/**
 * `npm run iam-report`: the grants in the deployment's roles that no call
 * used, from the uses the local runtime recorded (`LocalIam`, one JSON line
 * per first use of a statement × action × resource) during a test run.
 * A grant nobody used is either dead weight in the role or a path no test
 * reaches; both are worth knowing.
 *
 *   node dist/iam-report/index.js [--manifest dist/deployment.json] [--usage .streamer/iam-usage.jsonl] [--strict]
 *
 * `--strict` exits 1 when an unused grant remains (services the runtime does
 * not emulate, such as CloudWatch Logs and X-Ray, are listed but never fail it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deploymentFromManifest, readManifest, type PolicyStatementDocument } from './deployment';
import { matchesWildcard } from './iam/wildcard-pattern';
import type { GrantUse } from './local-iam';

/** Services whose calls never pass through the local runtime: their grants cannot be exercised here. */
export const NOT_EMULATED_SERVICES = new Set(['logs', 'xray']);

export interface UnusedGrant {
  readonly functionName: string;
  readonly policyName: string;
  readonly sid?: string;
  readonly action: string;
  readonly resource: string;
  /** The service is not emulated locally, so no local call could use it. */
  readonly notEmulated: boolean;
}

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

/** Every (action, resource) pair an Allow statement grants that no recorded use matched. */
export function unusedGrants(manifestFile: string, uses: readonly GrantUse[]): UnusedGrant[] {
  const deployment = deploymentFromManifest(readManifest(manifestFile), resolve(manifestFile, '..', '..'));
  const unused: UnusedGrant[] = [];
  for (const fn of deployment.functions) {
    for (const policy of fn.role.policies) {
      const { Statement } = policy.document;
      const statements: readonly PolicyStatementDocument[] = Array.isArray(Statement) ? Statement : [Statement as PolicyStatementDocument];
      statements.forEach((statement, index) => {
        if (statement.Effect !== 'Allow') return;
        const usesOfStatement = uses.filter((use) => use.functionName === fn.name && use.policyName === policy.name && use.statementIndex === index);
        for (const action of list(statement.Action)) {
          for (const resource of list(statement.Resource)) {
            const used = usesOfStatement.some(
              (use) => matchesWildcard(action, use.action, { ignoreCase: true }) && matchesWildcard(resource, use.resource, { ignoreCase: false }),
            );
            if (!used) {
              unused.push({
                functionName: fn.name,
                policyName: policy.name,
                ...(statement.Sid !== undefined && { sid: statement.Sid }),
                action,
                resource,
                notEmulated: NOT_EMULATED_SERVICES.has(action.split(':')[0]!.toLowerCase()),
              });
            }
          }
        }
      });
    }
  }
  return unused;
}

export function readUses(usageFile: string): GrantUse[] {
  if (!existsSync(usageFile)) return [];
  return readFileSync(usageFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as GrantUse);
}

function main(argv: readonly string[]): number {
  const flag = (name: string, fallback: string): string => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 && argv[at + 1] ? argv[at + 1]! : fallback;
  };
  const manifest = resolve(flag('manifest', 'dist/deployment.json'));
  const usageFile = resolve(flag('usage', '.streamer/iam-usage.jsonl'));
  const uses = readUses(usageFile);
  if (uses.length === 0) {
    process.stdout.write(`iam-report: no recorded calls in ${usageFile}; run the tests first (npm test)\n`);
    return argv.includes('--strict') ? 1 : 0;
  }
  const unused = unusedGrants(manifest, uses);
  const exercisable = unused.filter((grant) => !grant.notEmulated);
  process.stdout.write(`iam-report: ${uses.length} distinct allowed calls recorded; ${exercisable.length} grant(s) no call used\n`);
  for (const grant of unused) {
    const note = grant.notEmulated ? '  (service not emulated locally)' : '';
    process.stdout.write(`  ${grant.functionName}  ${grant.sid ?? `#${grant.policyName}`}  ${grant.action}  ${grant.resource}${note}\n`);
  }
  return argv.includes('--strict') && exercisable.length > 0 ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
