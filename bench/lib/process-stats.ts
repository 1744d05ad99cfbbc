/** What the benchmark reads about processes from /proc (Linux): resident memory, CPU time, children. */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;

/** Resident set size in bytes (`VmRSS` of /proc/<pid>/status), or NaN when the process is gone. */
export function residentBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU time of a process in milliseconds (/proc/<pid>/stat). */
export function cpuTimeMs(pid: number): number {
  try {
    const fields = statFields(pid);
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Direct children of a process, with their command lines. */
export function childrenOf(pid: number): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[3]) !== pid) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The DynamoDB Local (Java) process a runtime started, if any. */
export function dynamoDbLocalPid(runtimePid: number): number | undefined {
  return childrenOf(runtimePid).find((child) => child.command.includes('DynamoDBLocal.jar'))?.pid;
}

/** Open file descriptors of a process. */
export function openFileCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** The soft limit on open files of a process (`Max open files` in /proc/<pid>/limits). */
export function openFileLimit(pid: number | 'self' = 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return Number.NaN;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** Fields of /proc/<pid>/stat; the command name (field 2) may hold spaces, so split after its closing parenthesis. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = stat.lastIndexOf(')');
  return [stat.slice(0, stat.indexOf(' ')), stat.slice(stat.indexOf('(') + 1, close), ...stat.slice(close + 2).trim().split(' ')];
}

/** CPU time of a set of processes over an interval: call `start`, run the load, call `stop`. */
export class CpuMeter {
  private readonly startedAt = new Map<number, number>();
  private began = 0;

  constructor(private readonly pids: Record<string, number | undefined>) {}

  start(): void {
    this.began = performance.now();
    for (const pid of Object.values(this.pids)) if (pid !== undefined) this.startedAt.set(pid, cpuTimeMs(pid));
  }

  /** Per process: CPU milliseconds used and the share of one core over the interval. */
  stop(): Record<string, { cpuMs: number; cores: number }> {
    const elapsed = performance.now() - this.began;
    const out: Record<string, { cpuMs: number; cores: number }> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      if (pid === undefined) continue;
      const used = cpuTimeMs(pid) - (this.startedAt.get(pid) ?? Number.NaN);
      out[name] = { cpuMs: Math.round(used), cores: Math.round((used / elapsed) * 100) / 100 };
    }
    return out;
  }
}
