/** docs/deploy.md stays true to the program: every key, default and range, every output, every step. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_KEYS } from '../../infra/config';

const ROOT = path.join(__dirname, '..', '..');
const doc = fs.readFileSync(path.join(ROOT, 'docs', 'deploy.md'), 'utf8');

/** Cells of a Markdown table row; `\|` is a literal pipe. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\([|<>])/g, '$1'));
}

function section(title: string): string {
  const start = doc.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`docs/deploy.md has no "## ${title}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/deploy.md', () => {
  const rows = section('Configuration reference')
    .split('\n')
    .filter((line) => line.startsWith('| `streamer:'))
    .map(cells);

  it('documents every configuration key exactly once, and no other', () => {
    const documented = rows.map(([key]) => key.replace(/`/g, ''));
    expect([...documented].sort()).toEqual(Object.keys(CONFIG_KEYS).map((name) => `streamer:${name}`).sort());
  });

  it.each(Object.entries(CONFIG_KEYS))('states the type, default and range of streamer:%s as infra/config.ts does', (name, key) => {
    const row = rows.find(([cell]) => cell === `\`streamer:${name}\``);
    expect(row).toBeDefined();
    const [, type, defaultValue, range, description] = row!;
    expect({ type, defaultValue, range }).toEqual({
      type: key.secret ? `${key.type} (secret)` : key.type,
      defaultValue: key.default === undefined ? '—' : `\`${key.default}\``,
      range: key.expected,
    });
    expect(description.length).toBeGreaterThan(10);
  });

  it('lists every stack output the program exports', () => {
    const program = fs.readFileSync(path.join(ROOT, 'index.ts'), 'utf8');
    const exported = [...program.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
    const outputs = section('Outputs');
    expect(exported.length).toBeGreaterThan(0);
    for (const name of exported) expect({ name, documented: outputs.includes(`\`${name}\``) }).toEqual({ name, documented: true });
  });

  it('walks through build, stack, secret, deploy, preview and destroy', () => {
    for (const step of [
      'npm ci',
      'npm run build',
      'pulumi stack init dev',
      'cp Pulumi.dev.yaml.template Pulumi.dev.yaml',
      'pulumi config set --secret streamer:jwtSecret',
      'pulumi up -s dev',
      'pulumi preview --diff',
      'pulumi destroy',
    ]) {
      expect(doc).toContain(step);
    }
  });

  it('shows how to switch on each workflow in .github/workflows, and names the roles it assumes', () => {
    const ci = section('CI/CD');
    for (const file of fs.readdirSync(path.join(ROOT, '.github', 'workflows'))) expect({ file, documented: ci.includes(file) }).toEqual({ file, documented: true });
    for (const name of ['PULUMI_BACKEND_URL', 'AWS_PREVIEW_ROLE_ARN', 'AWS_DEPLOY_ROLE_ARN', 'sts:AssumeRoleWithWebIdentity', 'required reviewers']) expect(ci).toContain(name);
  });

  it('says what a first pulumi up creates, how to roll back, and why there is no @pulumi/awsx', () => {
    // The local stack's rendering (npm run build writes it): the count the section states.
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'deployment.json'), 'utf8')) as { resources: { custom: boolean }[] };
    const created = manifest.resources.filter((resource) => resource.custom).length;
    expect(section('What a first `pulumi up` creates')).toContain(`${created} AWS resources`);
    expect(section('Roll back')).toContain('pulumi stack history');
    expect(section('Why plain `@pulumi/aws` and no `@pulumi/awsx`')).toContain('removed');
  });
});
