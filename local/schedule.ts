/**
 * The EventBridge schedule that wakes the processor to sweep expired leases
 * (re-queue crashed runs): every `SWEEP_SCHEDULE_MINUTES` on AWS, and here by
 * default too. EventBridge invokes its target asynchronously, so ticks do
 * not wait for each other.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './interim-function-specs';

export const SWEEP_RULE_NAME = 'streamer-local-lease-sweep';

export function scheduledEvent(region: string, ruleName = SWEEP_RULE_NAME, at = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/${ruleName}`],
    detail: {},
  };
}

export class Schedule {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly fire: (event: ScheduledEvent) => void,
    private readonly region: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.fire(scheduledEvent(this.region)), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
