#!/usr/bin/env node
/**
 * The offline infrastructure diff of a pull request: each stack rendered by
 * synth (docs/synth.md) from the base checkout and from the head checkout,
 * each with its own program, sources and stack file, and the difference
 * printed as Markdown: resources added, changed (with each changed input,
 * before → after) and removed. No cloud credentials are needed, so every
 * reviewer sees what an infra change does.
 *
 *   node scripts/ci-synth-diff.mjs --base <dir> [--head <dir>] [--stacks dev,staging,prod]
 *
 * A stack's file is `Pulumi.<stack>.yaml`, else `Pulumi.<stack>.yaml.template`.
 * A file that sets no token key gets a placeholder secret (synth never
 * writes a secret's value, so it cannot leak).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const TOKEN_KEYS = ['streamer:jwtSecret', 'streamer:jwtSecretParameter', 'streamer:jwtPublicKey', 'streamer:jwksUrl'];

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1] : fallback;
}

const base = argument('base');
if (!base) {
  console.error('usage: node scripts/ci-synth-diff.mjs --base <dir> [--head <dir>] [--stacks dev,staging,prod]');
  process.exit(2);
}
const roots = { base: resolve(base), head: resolve(argument('head', '.')) };
const stacks = argument('stacks', 'dev,staging,prod').split(',').map((s) => s.trim()).filter(Boolean);
const work = mkdtempSync(join(tmpdir(), 'streamer-ci-diff-'));

/** The stack file a root renders with, a token key added when it names none; `undefined` when it has none. */
function stackFileOf(root, stack) {
  const file = [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yaml.template`].map((name) => join(root, name)).find((candidate) => existsSync(candidate));
  if (!file) return undefined;
  const text = readFileSync(file, 'utf8');
  if (TOKEN_KEYS.some((key) => new RegExp(`^\\s*${key}:`, 'm').test(text))) return file;
  const copy = join(work, `${stack}-${root === roots.base ? 'base' : 'head'}.yaml`);
  const withKey = /^config:\s*$/m.test(text) ? text.replace(/^config:\s*$/m, `config:\n  streamer:jwtSecret: ci-placeholder-secret-for-the-offline-diff-only`) : `${text}\nconfig:\n  streamer:jwtSecret: ci-placeholder-secret-for-the-offline-diff-only\n`;
  writeFileSync(copy, withKey);
  return copy;
}

/** Runs a root's own synth; returns `{ ok, output }`. */
function synth(root, args) {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'synth.mjs'), '--root', root, ...args], { encoding: 'utf8', env: { ...process.env, STREAMER_JWT_SECRET: '' } });
  return { ok: run.status === 0, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

const fence = (text) => `\`\`\`diff\n${text.trim()}\n\`\`\``;
const sections = ['## Infrastructure diff (offline synth, no cloud credentials)', ''];
let failed = false;
for (const stack of stacks) {
  sections.push(`### ${stack}`, '');
  const headFile = stackFileOf(roots.head, stack);
  if (!headFile) {
    sections.push(`No \`Pulumi.${stack}.yaml\` (or its template) in this branch.`, '');
    continue;
  }
  const before = join(work, `${stack}-base.json`);
  const baseFile = stackFileOf(roots.base, stack);
  const baseRun = baseFile ? synth(roots.base, ['--stack', stack, '--stack-file', baseFile, '--out', before]) : { ok: false, output: 'no stack file' };
  if (!baseRun.ok) {
    const headRun = synth(roots.head, ['--stack', stack, '--stack-file', headFile, '--out', join(work, `${stack}-head.json`)]);
    failed ||= !headRun.ok;
    sections.push(baseFile ? 'The base branch does not render this stack:' : 'The stack is new in this branch.', '', fence(headRun.ok ? headRun.output : `synth failed:\n${headRun.output}`), '');
    continue;
  }
  const headRun = synth(roots.head, ['--stack', stack, '--stack-file', headFile, '--out', join(work, `${stack}-head.json`), '--diff', before]);
  failed ||= !headRun.ok;
  // The first line is synth's own "synth: <stack> → <file>" report; the rest is the diff.
  const diff = headRun.output.split('\n').filter((line) => !line.startsWith('synth: ')).join('\n');
  sections.push(headRun.ok ? fence(diff) : fence(`synth failed:\n${headRun.output}`), '');
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${sections.join('\n')}\n`);
process.exitCode = failed ? 1 : 0;
