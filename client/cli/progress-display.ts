/**
 * Progress for humans: a redrawn bar on a terminal, one plain line per
 * update otherwise (logs and pipes must stay readable and diffable).
 */
import type { ProgressMessage } from '../../functions/core/protocol/messages';

/** The part of a Node stream the CLI writes to (injectable for tests). */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const BAR_WIDTH = 24;

/** Renders one request's progress on a stream: a bar on a TTY, lines otherwise. */
export class ProgressDisplay {
  private drawn = false;

  constructor(private readonly out: OutputStream) {}

  update(progress: ProgressMessage): void {
    const percent = Math.round(Math.min(1, Math.max(0, progress.progress)) * 100);
    const message = progress.message ?? '';
    if (!this.out.isTTY) {
      this.out.write(`progress ${String(percent).padStart(3)}%${message ? ` ${message}` : ''}\n`);
      return;
    }
    const filled = Math.round((percent / 100) * BAR_WIDTH);
    const line = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${message}`;
    const columns = this.out.columns ?? 80;
    // Clear the line and redraw; never wrap, or the next redraw leaves debris.
    this.out.write(`\r\x1b[2K${line.length >= columns ? `${line.slice(0, columns - 2)}…` : line}`);
    this.drawn = true;
  }

  /** Ends the bar's line so whatever comes next starts on a fresh one. */
  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
