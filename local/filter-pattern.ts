/**
 * Lambda event filtering, as an event source mapping applies it to each
 * stream record before batching: a record reaches the function when it
 * matches at least one pattern; the others are dropped and checkpointed.
 *
 * A pattern is a nested object whose leaves are lists of allowed values
 * (`{ dynamodb: { NewImage: { status: { S: ['queued'] } } } }`). A leaf
 * matches when the record's value (or, for an array, one of its elements)
 * equals one of the listed values, compared with its JSON type (`5` is not
 * `"5"`). Besides plain values a leaf list may hold the content filters AWS
 * documents: `{ prefix }`, `{ suffix }`, `{ 'equals-ignore-case' }`,
 * `{ 'anything-but' }`, `{ exists }` and `{ numeric: ['>', 0, '<=', 5] }`.
 */
import type { FilterPattern } from '../functions/core/cloud-shapes';

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A leaf condition; the cloud shapes only use plain values, the rest is AWS syntax we accept too. */
type LeafCondition = string | number | boolean | null | Readonly<Record<string, unknown>>;

const ABSENT = Symbol('absent');

export function matchesAnyPattern(record: unknown, patterns: readonly FilterPattern[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((pattern) => matchesPattern(record, pattern));
}

export function matchesPattern(record: unknown, pattern: FilterPattern): boolean {
  return matchesObject(toJson(record), pattern as Readonly<Record<string, unknown>>);
}

function matchesObject(value: Json | typeof ABSENT, pattern: Readonly<Record<string, unknown>>): boolean {
  const object = value !== ABSENT && value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Readonly<Record<string, Json>>)
    : undefined;
  return Object.entries(pattern).every(([key, expected]) => {
    const actual: Json | typeof ABSENT =
      object && Object.prototype.hasOwnProperty.call(object, key) ? object[key]! : ABSENT;
    if (Array.isArray(expected)) return matchesLeaf(actual, expected as readonly LeafCondition[]);
    if (expected !== null && typeof expected === 'object') {
      return actual !== ABSENT && matchesObject(actual, expected as Readonly<Record<string, unknown>>);
    }
    throw new TypeError(`Invalid filter pattern at "${key}": expected an object or a list of values`);
  });
}

function matchesLeaf(actual: Json | typeof ABSENT, conditions: readonly LeafCondition[]): boolean {
  return conditions.some((condition) => {
    if (condition !== null && typeof condition === 'object' && 'exists' in condition) {
      return (actual !== ABSENT) === Boolean(condition.exists);
    }
    if (actual === ABSENT) return false;
    const candidates: readonly Json[] = Array.isArray(actual) ? actual : [actual as Json];
    return candidates.some((candidate) => matchesCondition(candidate, condition));
  });
}

function matchesCondition(value: Json, condition: LeafCondition): boolean {
  if (condition === null || typeof condition !== 'object') return value === condition;
  if ('prefix' in condition) return typeof value === 'string' && value.startsWith(String(condition.prefix));
  if ('suffix' in condition) return typeof value === 'string' && value.endsWith(String(condition.suffix));
  if ('equals-ignore-case' in condition) {
    return typeof value === 'string' && value.toLowerCase() === String(condition['equals-ignore-case']).toLowerCase();
  }
  if ('anything-but' in condition) {
    const excluded = condition['anything-but'];
    const list = Array.isArray(excluded) ? excluded : [excluded];
    return !list.some((item) =>
      item !== null && typeof item === 'object' ? matchesCondition(value, item as LeafCondition) : item === value,
    );
  }
  if ('numeric' in condition) return typeof value === 'number' && matchesNumeric(value, condition.numeric);
  throw new TypeError(`Unsupported filter condition ${JSON.stringify(condition)}`);
}

function matchesNumeric(value: number, spec: unknown): boolean {
  if (!Array.isArray(spec) || spec.length % 2 !== 0) throw new TypeError('numeric filter must be [op, number, …]');
  for (let i = 0; i < spec.length; i += 2) {
    const operator = spec[i] as string;
    const bound = Number(spec[i + 1]);
    const ok =
      operator === '=' ? value === bound
      : operator === '<' ? value < bound
      : operator === '<=' ? value <= bound
      : operator === '>' ? value > bound
      : operator === '>=' ? value >= bound
      : undefined;
    if (ok === undefined) throw new TypeError(`Unsupported numeric operator "${operator}"`);
    if (!ok) return false;
  }
  return true;
}

/** Patterns are matched against the record as Lambda would serialise it (JSON). */
function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}
