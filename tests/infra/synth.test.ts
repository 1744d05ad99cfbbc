/**
 * Synth, as `npm run synth` runs it: the real program rendered in its own
 * process into a manifest, and manifests compared.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { DEV_JWT_SECRET } from '../../local/dev-token';
import { FUNCTION_NAMES } from '../../functions/core/function-declarations';
import { SHAPED_TYPES } from '../../infra/synth/aws-shapes';
import { ALL_TABLES } from '../../functions/core/cloud-shapes';
import { diffManifests, diffToJson, formatDiff, isEmptyDiff } from '../../infra/synth/diff';
import type { DeploymentManifest, ManifestResource } from '../../infra/synth/manifest';
import { securePlaceholder } from '../../infra/synth/stack-config';
import { testBundles } from './pulumi-program';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const DEV_STACK_FILE = path.join(ROOT, 'tests/fixtures/synth/Pulumi.dev.yaml');
const PLAIN_SECRET = 'a-plain-jwt-secret-that-must-stay-out-of-the-manifest';

let work: string;

/** Runs the bundled synth command (built by the first test's `scripts/synth.mjs`); returns stdout. */
async function synth(args: readonly string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(ROOT, 'dist/synth/index.js'), '--root', ROOT, ...args], {
    env: { ...process.env, STREAMER_JWT_SECRET: '' },
  });
  return stdout;
}

const read = (file: string): string => fs.readFileSync(file, 'utf8');
const manifestAt = (file: string): DeploymentManifest => JSON.parse(read(file)) as DeploymentManifest;

/** A stack file: the dev fixture with these `config` values set (or replaced). */
function stackFile(name: string, values: Readonly<Record<string, string>>): string {
  const fixture = yaml.load(read(DEV_STACK_FILE)) as { config: Record<string, unknown> };
  const file = path.join(work, `Pulumi.${name}.yaml`);
  // The shared test build: bundling is function-code.test.ts's subject, not this file's.
  fs.writeFileSync(file, yaml.dump({ config: { ...fixture.config, 'streamer:prebuiltBundles': testBundles(), ...values } }));
  return file;
}

const out = (name: string): string => path.join(work, `${name}.json`);

/** A synth is a node process loading the AWS SDK for Pulumi: seconds, more on a busy machine. */
const SYNTH_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'streamer-synth-'));
  // The real command once (bundles dist/synth/index.js), then the bundle itself, in parallel.
  await run(process.execPath, [path.join(ROOT, 'scripts/synth.mjs'), '--out', out('local-1')], {
    env: { ...process.env, STREAMER_JWT_SECRET: '' },
  });
  await Promise.all([
    synth(['--out', out('local-2')]),
    synth(['--stack', 'dev', '--stack-file', stackFile('dev', {}), '--out', out('dev')]),
    synth(['--stack', 'dev', '--stack-file', stackFile('dev-512', { 'streamer:routerMemoryMb': '512' }), '--out', out('dev-512')]),
    synth(['--stack', 'dev', '--stack-file', stackFile('dev-email', { 'streamer:alarmEmail': 'ops@example.com' }), '--out', out('dev-email')]),
    synth(['--stack', 'dev', '--stack-file', stackFile('dev-plain', { 'streamer:jwtSecret': PLAIN_SECRET }), '--out', out('dev-plain')]),
  ]);
}, 4 * SYNTH_TIMEOUT_MS);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const awsResources = (manifest: DeploymentManifest): ManifestResource[] => manifest.resources.filter((r) => r.type.startsWith('aws:'));
const ofType = (manifest: DeploymentManifest, type: string): ManifestResource[] => manifest.resources.filter((r) => r.type === type);

describe('a rendering', () => {
  it('is byte-identical when the same stack is rendered twice', () => {
    expect(read(out('local-2'))).toBe(read(out('local-1')));
  });

  it('lists every resource once, sorted by URN, with the project, stack, region and account', () => {
    const manifest = manifestAt(out('local-1'));
    expect(manifest).toMatchObject({ manifestVersion: 1, project: 'streamer', stack: 'local', region: 'us-east-1', accountId: '123456789012', partition: 'aws' });
    const urns = manifest.resources.map((r) => r.urn);
    expect([...urns].sort()).toEqual(urns);
    expect(new Set(urns).size).toBe(urns.length);
    expect(ofType(manifest, 'aws:lambda/function:Function')).toHaveLength(FUNCTION_NAMES.length);
    expect(ofType(manifest, 'aws:dynamodb/table:Table').map((table) => table.name).sort()).toEqual(ALL_TABLES.map((shape) => `streamer-${shape.logicalName}`).sort());
  });

  it('has an AWS shape for every AWS resource type the program creates', () => {
    const types = new Set(awsResources(manifestAt(out('local-1'))).map((r) => r.type));
    expect([...types].filter((type) => !SHAPED_TYPES.includes(type))).toEqual([]);
  });

  it('records each function’s code as its bundle folder, relative to the project root', () => {
    for (const fn of ofType(manifestAt(out('local-1')), 'aws:lambda/function:Function')) {
      const code = fn.inputs.code as { $archive: { path: string } };
      expect(path.isAbsolute(code.$archive.path)).toBe(false);
      expect(fs.existsSync(path.join(ROOT, code.$archive.path, 'index.js'))).toBe(true);
    }
  });

  it('uses the stack file’s region in every ARN and endpoint', () => {
    const manifest = manifestAt(out('dev'));
    expect(manifest.region).toBe('eu-west-1');
    const text = JSON.stringify(manifest);
    expect(text).not.toContain('us-east-1');
    expect(manifest.outputs.websocketUrl).toMatch(/^wss:\/\/[a-z0-9]{10}\.execute-api\.eu-west-1\.amazonaws\.com\/live$/);
  });
});

describe('AWS shapes', () => {
  const manifest = (): DeploymentManifest => manifestAt(out('dev'));
  const outputsOf = (type: string): Record<string, unknown>[] => ofType(manifest(), type).map((r) => r.outputs);
  const AUTO = /-[0-9a-f]{7}$/;

  it('names tables like Pulumi and gives them table and stream ARNs', () => {
    for (const table of outputsOf('aws:dynamodb/table:Table')) {
      expect(table.name).toMatch(AUTO);
      expect(table.arn).toBe(`arn:aws:dynamodb:eu-west-1:123456789012:table/${String(table.name)}`);
    }
    const requests = ofType(manifest(), 'aws:dynamodb/table:Table').find((t) => t.name === 'streamer-requests')!;
    expect(requests.outputs.streamArn).toMatch(/^arn:aws:dynamodb:eu-west-1:123456789012:table\/streamer-requests-[0-9a-f]{7}\/stream\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('gives functions their ARN, qualified ARN and API Gateway invoke ARN', () => {
    for (const fn of outputsOf('aws:lambda/function:Function')) {
      const arn = `arn:aws:lambda:eu-west-1:123456789012:function:${String(fn.name)}`;
      expect(fn.name).toMatch(/^streamer-dev-(authorizer|connect|disconnect|router|processor)$/);
      expect(fn).toMatchObject({ arn, qualifiedArn: `${arn}:$LATEST`, invokeArn: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${arn}/invocations` });
    }
  });

  it('gives roles IAM ARNs and auto-names, and every inline policy the role’s name', () => {
    const roleNames = new Set<unknown>();
    for (const role of outputsOf('aws:iam/role:Role')) {
      expect(role.name).toMatch(AUTO);
      expect(role.arn).toBe(`arn:aws:iam::123456789012:role/${String(role.name)}`);
      expect(role.uniqueId).toMatch(/^AROA[A-Z0-9]{17}$/);
      roleNames.add(role.name);
    }
    for (const policy of ofType(manifest(), 'aws:iam/rolePolicy:RolePolicy')) {
      expect(roleNames.has(policy.inputs.role)).toBe(true);
      expect(policy.id).toBe(`${String(policy.inputs.role)}:${String(policy.outputs.name)}`);
    }
  });

  it('gives the WebSocket API a 10-character id, its wss endpoint and execution ARN', () => {
    const [api] = ofType(manifest(), 'aws:apigatewayv2/api:Api');
    expect(api.id).toMatch(/^[a-z0-9]{10}$/);
    expect(api.outputs).toMatchObject({
      apiEndpoint: `wss://${api.id}.execute-api.eu-west-1.amazonaws.com`,
      executionArn: `arn:aws:execute-api:eu-west-1:123456789012:${api.id}`,
    });
    for (const child of [...ofType(manifest(), 'aws:apigatewayv2/route:Route'), ...ofType(manifest(), 'aws:apigatewayv2/integration:Integration')]) {
      expect(child.id).toMatch(/^[a-z0-9]{7}$/);
      expect(child.inputs.apiId).toBe(api.id);
    }
  });

  it('gives the dead-letter queue its ARN and URL, the stream mapping a UUID, the schedule an events ARN', () => {
    const [queue] = outputsOf('aws:sqs/queue:Queue');
    expect(queue.arn).toMatch(/^arn:aws:sqs:eu-west-1:123456789012:streamer-stream-dlq-[0-9a-f]{7}$/);
    expect(queue.url).toBe(`https://sqs.eu-west-1.amazonaws.com/123456789012/${String(queue.name)}`);
    const [mapping] = ofType(manifest(), 'aws:lambda/eventSourceMapping:EventSourceMapping');
    expect(mapping.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(mapping.outputs.uuid).toBe(mapping.id);
    const [rule] = outputsOf('aws:cloudwatch/eventRule:EventRule');
    expect(rule.arn).toMatch(/^arn:aws:events:eu-west-1:123456789012:rule\/streamer-lease-sweep-[0-9a-f]{7}$/);
  });

  it('gives log groups and alarms their ARNs, and an alarm topic its SNS ARN', () => {
    for (const group of outputsOf('aws:cloudwatch/logGroup:LogGroup')) {
      expect(group.arn).toBe(`arn:aws:logs:eu-west-1:123456789012:log-group:${String(group.name)}`);
    }
    for (const alarm of outputsOf('aws:cloudwatch/metricAlarm:MetricAlarm')) {
      expect(alarm.arn).toMatch(/^arn:aws:cloudwatch:eu-west-1:123456789012:alarm:streamer-[a-z0-9-]+-[0-9a-f]{7}$/);
    }
    const [topic] = ofType(manifestAt(out('dev-email')), 'aws:sns/topic:Topic');
    expect(topic.outputs.arn).toMatch(/^arn:aws:sns:eu-west-1:123456789012:streamer-alarms-[0-9a-f]{7}$/);
    expect(topic.id).toBe(topic.outputs.arn);
  });
});

describe('secrets', () => {
  it('never writes the local development secret, and marks where it was', () => {
    const text = read(out('local-1'));
    expect(text).not.toContain(DEV_JWT_SECRET);
    const manifest = manifestAt(out('local-1'));
    expect(manifest.config['streamer:jwtSecret']).toEqual({ $secret: 'streamer:jwtSecret' });
    // The key lives in the SSM parameter, marked; the authorizer's environment names only the parameter.
    const [parameter] = ofType(manifest, 'aws:ssm/parameter:Parameter');
    expect(parameter.inputs.value).toEqual({ $secret: 'streamer:jwtSecret' });
    const authorizer = ofType(manifest, 'aws:lambda/function:Function').find((f) => f.name === 'streamer-authorizer')!;
    const variables = (authorizer.inputs.environment as { variables: Record<string, unknown> }).variables;
    expect(variables.STREAMER_JWT_SECRET).toBeUndefined();
    expect(variables.STREAMER_JWT_SECRET_PARAMETER).toBe('/streamer-local/token-key');
    expect(variables.POWERTOOLS_LOG_LEVEL).toBe('INFO');
  });

  it('marks a secure stack value without its ciphertext or the placeholder that stood in for it', () => {
    const text = read(out('dev'));
    expect(text).not.toContain('ZmFrZS1jaXBoZXJ0ZXh0');
    expect(text).not.toContain(securePlaceholder('streamer:jwtSecret'));
    expect(text).toContain('"$secret": "streamer:jwtSecret"');
  });

  it('treats jwtSecret as a secret even when a stack file holds it in clear', () => {
    const text = read(out('dev-plain'));
    expect(text).not.toContain(PLAIN_SECRET);
    expect(manifestAt(out('dev-plain')).config['streamer:jwtSecret']).toEqual({ $secret: 'streamer:jwtSecret' });
  });
});

describe('diff', () => {
  it('is empty between a manifest and itself', async () => {
    const manifest = manifestAt(out('dev'));
    expect(isEmptyDiff(diffManifests(manifest, manifest))).toBe(true);
    expect(formatDiff(diffManifests(manifest, manifest))).toBe('no changes\n');
    expect(await synth(['--stack', 'dev', '--stack-file', stackFile('dev', {}), '--out', out('dev-again'), '--diff', out('dev')])).toContain('no changes');
  }, SYNTH_TIMEOUT_MS);

  it('shows exactly the router’s memory when routerMemoryMb changes', () => {
    const diff = diffManifests(manifestAt(out('dev')), manifestAt(out('dev-512')));
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toEqual([
      {
        urn: 'urn:pulumi:dev::streamer::streamer:infra:Functions$aws:lambda/function:Function::streamer-router',
        type: 'aws:lambda/function:Function',
        name: 'streamer-router',
        changes: [{ path: 'memorySize', before: 256, after: 512 }],
      },
    ]);
    expect(diff.config).toEqual([{ path: 'streamer:routerMemoryMb', before: '256', after: '512' }]);
    expect(formatDiff(diff)).toContain('~ aws:lambda/function:Function streamer-router\n    memorySize: 256 → 512\n');
  });

  it('prints the change from the command line, readable or as JSON', async () => {
    const args = ['--stack', 'dev', '--stack-file', path.join(work, 'Pulumi.dev-512.yaml'), '--diff', out('dev')];
    const [readable, json] = await Promise.all([
      synth([...args, '--out', out('dev-512-again')]),
      synth([...args, '--out', out('dev-512-json'), '--json']),
    ]);
    expect(readable).toContain('    memorySize: 256 → 512');
    expect(readable).toContain('resources: 1 to change');
    expect(JSON.parse(json)).toMatchObject({ added: [], removed: [], changed: [{ name: 'streamer-router', changes: [{ path: 'memorySize', before: 256, after: 512 }] }] });
  }, SYNTH_TIMEOUT_MS);

  it('shows added resources with + and removed ones with -', () => {
    const plain = manifestAt(out('dev'));
    const withEmail = manifestAt(out('dev-email'));
    const added = formatDiff(diffManifests(plain, withEmail));
    expect(added).toMatch(/^\+ aws:sns\/topic:Topic streamer-alarms$/m);
    expect(added).toMatch(/^\+ aws:sns\/topicSubscription:TopicSubscription streamer-alarms-email$/m);
    const removed = formatDiff(diffManifests(withEmail, plain));
    expect(removed).toMatch(/^- aws:sns\/topic:Topic streamer-alarms$/m);
    // Every alarm now notifies the topic: a change of its actions only.
    const alarms = diffManifests(plain, withEmail).changed.filter((r) => r.type === 'aws:cloudwatch/metricAlarm:MetricAlarm');
    expect(alarms).toHaveLength(ofType(plain, 'aws:cloudwatch/metricAlarm:MetricAlarm').length);
    for (const alarm of alarms) expect(alarm.changes.map((c) => c.path)).toEqual(['alarmActions[0]', 'okActions[0]']);
  });

  it('shows a changed secret as [secret], never its value', () => {
    const before = manifestAt(out('dev'));
    const after: DeploymentManifest = { ...before, config: { ...before.config, 'streamer:jwtSecret': 'leaked-if-shown' } };
    const text = formatDiff(diffManifests(after, before));
    expect(text).toContain('"leaked-if-shown" → [secret]');
    expect(diffToJson(diffManifests(after, before))).toContain('"after": "[secret]"');
  });
});
