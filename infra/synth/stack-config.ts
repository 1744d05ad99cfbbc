/**
 * The configuration a stack's program sees, assembled the way the Pulumi CLI
 * assembles it: `Pulumi.yaml` defaults overlaid by `Pulumi.<stack>.yaml`.
 *
 * Synth cannot decrypt `secure:` values (no CLI, no secrets provider), so each
 * one becomes a placeholder that passes validation and is marked secret; the
 * manifest never shows a secret's value, so a placeholder cannot leak into it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { CONFIG_KEYS, CONFIG_NAMESPACE } from '../config';
import { devJwtSecret } from '../../local/dev-token';

/** The stack that needs no stack file: the local runtime's. */
export const LOCAL_STACK = 'local';

/** The configuration of one stack, with full keys (`streamer:routerMemoryMb`, `aws:region`). */
export interface StackConfigSource {
  readonly project: string;
  readonly stack: string;
  /** Every value, as the program reads it: a string (objects as JSON, as Pulumi passes them). */
  readonly values: Readonly<Record<string, string>>;
  /** Keys whose values are secrets: `secure:` in the stack file, or declared secret in `infra/config.ts`. */
  readonly secretKeys: readonly string[];
  /** The stack file read, relative to the project root; `undefined` for the local default. */
  readonly stackFile: string | undefined;
}

/** Where to look. */
export interface StackConfigOptions {
  /** The project root (holds `Pulumi.yaml`). */
  readonly root: string;
  readonly stack: string;
  /** A stack file elsewhere than `<root>/Pulumi.<stack>.yaml` (tests, CI). */
  readonly stackFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Thrown when `Pulumi.yaml` or a stack file cannot be read as Pulumi writes them. */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'StackFileError';
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function readYaml(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StackFileError(file, error instanceof Error ? error.message : String(error));
  }
  if (parsed === undefined || parsed === null) return {};
  if (!isRecord(parsed)) throw new StackFileError(file, 'expected a mapping at the top level');
  return parsed;
}

/** Pulumi hands every config value to the program as a string; structured ones as JSON. */
function asConfigString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Keys without a namespace in `Pulumi.yaml` belong to the project. */
function qualify(project: string, key: string): string {
  return key.includes(':') ? key : `${project}:${key}`;
}

/** Keys `infra/config.ts` declares secret, whatever the stack file says (a plain jwtSecret is still a secret). */
const DECLARED_SECRETS: readonly string[] = Object.entries(CONFIG_KEYS)
  .filter(([, key]) => key.secret)
  .map(([name]) => `${CONFIG_NAMESPACE}:${name}`);

/**
 * A stand-in for a `secure:` value: long enough for every secret the program
 * validates (an HS256 key needs 32 characters), and named for its key so an
 * error message that slips through says what it is.
 */
export function securePlaceholder(key: string): string {
  return `synth-placeholder-for-${key}-not-decrypted`.padEnd(48, '-');
}

/**
 * Reads the project and stack config. A stack without a stack file is
 * rendered only when it is {@link LOCAL_STACK}: project defaults plus the
 * local runtime's development JWT secret (`local/dev-token.ts`), shipping the
 * bundles `npm run build` wrote to `dist/`.
 */
export function loadStackConfig(options: StackConfigOptions): StackConfigSource {
  const projectFile = path.join(options.root, 'Pulumi.yaml');
  const projectYaml = readYaml(projectFile);
  const project = projectYaml.name;
  if (typeof project !== 'string' || project === '') throw new StackFileError(projectFile, 'has no `name`');

  const values: Record<string, string> = {};
  const projectConfig = isRecord(projectYaml.config) ? projectYaml.config : {};
  for (const [key, declaration] of Object.entries(projectConfig)) {
    // A declaration is either `{ type, default, … }` or, in older projects, the bare value.
    const value = isRecord(declaration) ? declaration.default : declaration;
    if (value !== undefined) values[qualify(project, key)] = asConfigString(value);
  }

  const secretKeys = new Set<string>(DECLARED_SECRETS);
  const stackFile = options.stackFile ?? path.join(options.root, `Pulumi.${options.stack}.yaml`);
  let readFile: string | undefined;
  if (fs.existsSync(stackFile)) {
    readFile = path.relative(options.root, stackFile).split(path.sep).join('/');
    const stackYaml = readYaml(stackFile);
    const stackConfig = stackYaml.config ?? {};
    if (!isRecord(stackConfig)) throw new StackFileError(stackFile, '`config` must be a mapping');
    for (const [key, value] of Object.entries(stackConfig)) {
      const full = qualify(project, key);
      if (isRecord(value) && typeof value.secure === 'string') {
        secretKeys.add(full);
        values[full] = securePlaceholder(full);
      } else {
        values[full] = asConfigString(value);
      }
    }
  } else if (options.stackFile !== undefined) {
    throw new StackFileError(stackFile, 'does not exist');
  } else if (options.stack === LOCAL_STACK) {
    values[`${CONFIG_NAMESPACE}:jwtSecret`] = devJwtSecret(options.env);
    // `npm run build` bundles dist/ (with source maps, for readable local stack traces) before it renders this stack.
    values[`${CONFIG_NAMESPACE}:prebuiltBundles`] = 'dist';
    values[`${CONFIG_NAMESPACE}:sourceMaps`] = 'true';
  } else {
    throw new StackFileError(stackFile, `does not exist: only the "${LOCAL_STACK}" stack renders without a stack file`);
  }

  // A declared secret the stack leaves unset is not a secret value: nothing to hide.
  const presentSecrets = [...secretKeys].filter((key) => values[key] !== undefined).sort();
  return { project, stack: options.stack, values, secretKeys: presentSecrets, stackFile: readFile };
}
