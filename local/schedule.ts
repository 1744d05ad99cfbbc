/**
 * An EventBridge schedule rule from the deployment (the lease sweep: every
 * `SWEEP_SCHEDULE_MINUTES` on AWS, and here by default too). EventBridge
 * invokes its target asynchronously, so ticks do not wait for each other.
 * The event is shaped as EventBridge sends it, naming the rule's own ARN.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';

export interface ScheduleRule {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
}

export function scheduledEvent(rule: ScheduleRule, at = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: rule.accountId,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: rule.region,
    resources: [`arn:aws:events:${rule.region}:${rule.accountId}:rule/${rule.name}`],
    detail: {},
  };
}

export class Schedule {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly fire: (event: ScheduledEvent) => void,
    private readonly rule: ScheduleRule,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.fire(scheduledEvent(this.rule)), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
