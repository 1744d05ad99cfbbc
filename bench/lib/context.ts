import type { MachineFacts } from './machine';
import { BENCH_STACK_CONFIG } from './runtime';
import type { LatencySummary } from './stats';

/** What every section gets: the mode, the machine, a logger, and the floor once it is measured. */
export interface BenchContext {
  readonly quick: boolean;
  readonly machine: MachineFacts;
  /** When set, the runtime writes a V8 CPU profile per section into this folder (`--profile`). */
  readonly profileDir?: string;
  /** Extra runtime environment for experiments (`--env KEY=VALUE`); such a run is not comparable with others. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** Stack config on top of each section's (`--stack KEY=VALUE`), e.g. `directDispatch=false`. */
  readonly extraStack?: Readonly<Record<string, string>>;
  log(line: string): void;
  /** Bare `ws` round trip per load (`<connections>:<mode>`), set by the floor section. */
  floor?: ReadonlyMap<string, LatencySummary>;
}

/**
 * How a section starts its runtime, honouring `--profile`, `--env` and `--stack`
 * (`base`: the section's own stack config, the bench's by default).
 */
export function runtimeOptions(
  context: BenchContext,
  base: Readonly<Record<string, string>> = BENCH_STACK_CONFIG,
): { nodeArgs: string[]; env: Record<string, string>; stack: Record<string, string> } {
  return {
    nodeArgs: context.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${context.profileDir}`] : [],
    env: { ...context.extraEnv },
    stack: { ...base, ...context.extraStack },
  };
}
