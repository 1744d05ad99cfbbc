/**
 * docs/handlers.md shows only code that compiles and runs: each of its
 * TypeScript blocks names a file under docs/examples/ (```ts file=…) and must
 * be that file, word for word; `npm run typecheck` compiles those files, and
 * the test-kit example's tests run here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/local-runtime';
import '../../docs/examples/word-count.test-kit';

const page = readFileSync(join(REPO_ROOT, 'docs', 'handlers.md'), 'utf8');
const blocks = [...page.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map(([, language, info, code]) => ({
  language,
  file: /file=(\S+)/.exec(info ?? '')?.[1],
  code,
}));

describe('docs/handlers.md', () => {
  test('every TypeScript block is a file under docs/examples, word for word', () => {
    const typescript = blocks.filter((block) => block.language === 'ts' || block.language === 'tsx');
    expect(typescript.length).toBeGreaterThan(3);
    for (const block of typescript) {
      expect(block.file).toMatch(/^docs\/examples\//);
      expect(block.code).toBe(readFileSync(join(REPO_ROOT, block.file!), 'utf8'));
    }
  });

  test('every example file is shown on the page', () => {
    const shown = new Set(blocks.map((block) => block.file));
    for (const file of readdirSync(join(REPO_ROOT, 'docs', 'examples'))) expect(shown).toContain(`docs/examples/${file}`);
  });
});
