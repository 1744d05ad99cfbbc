/** The machine a run measured, and a gate that waits for other work on it to calm down before a section starts. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { openFileLimit } from './process-stats';

export interface MachineFacts {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  /** Soft limit on open files per process (`ulimit -n`). */
  readonly openFilesLimit: number;
  readonly ephemeralPorts: string;
  readonly loadAverageAtStart: readonly number[];
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: readText('/proc/sys/kernel/osrelease'),
    openFilesLimit: openFileLimit(),
    ephemeralPorts: readText('/proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-'),
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** Busy and total CPU ticks of the whole machine (/proc/stat). */
function cpuTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** Cores busy over the next `ms` milliseconds, machine-wide. */
export async function busyCores(ms = 1000): Promise<number> {
  const before = cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTicks();
  const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
  return Math.round(share * cpus().length * 100) / 100;
}

/**
 * Other engineers' tests share these cores. Before a section, wait (bounded)
 * until the machine is nearly idle, and report what was seen, so a reader can
 * tell a slow figure from a busy machine.
 */
export async function waitForQuiet(options: { maxWaitMs: number; idleBelowCores?: number; log?: (line: string) => void }): Promise<{ busyCores: number; waitedMs: number }> {
  const began = Date.now();
  const threshold = options.idleBelowCores ?? 0.3;
  let busy = await busyCores();
  let told = false;
  while (busy > threshold && Date.now() - began < options.maxWaitMs) {
    if (!told) options.log?.(`  machine busy (${busy} cores used by other work); waiting up to ${Math.round(options.maxWaitMs / 1000)} s for it to calm down`);
    told = true;
    busy = await busyCores(2000);
  }
  return { busyCores: busy, waitedMs: Date.now() - began };
}
