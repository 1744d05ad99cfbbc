/**
 * Before the suite: forget the grant uses of an earlier run, so that
 * `npm run iam-report` after `jest` reports on this run's calls only.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export default function globalSetup(): void {
  rmSync(join(__dirname, '..', '.streamer', 'iam-usage.jsonl'), { force: true });
}
