/**
 * The `*` and `?` wildcards of IAM policies: `*` matches any run of
 * characters (including `/` and `:`), `?` exactly one character.
 */

/** Whether `value` matches `pattern`, where the pattern may hold `*` and `?`. */
export function matchesWildcard(pattern: string, value: string, options: { ignoreCase: boolean }): boolean {
  return compile(pattern, options.ignoreCase).test(value);
}

// Policies are evaluated on every emulated AWS call, and the same few
// patterns recur, so each is compiled once.
const compiled = new Map<string, RegExp>();

function compile(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = compiled.get(cacheKey);
  if (!regex) {
    const source = [...pattern]
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}-]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    compiled.set(cacheKey, regex);
  }
  return regex;
}
