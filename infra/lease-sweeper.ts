/**
 * A schedule that invokes the processor every `SWEEP_SCHEDULE_MINUTES` to
 * re-queue requests whose lease expired (their run crashed or timed out):
 * the processor sees an EventBridge "Scheduled Event" and sweeps the
 * `by_lease` index instead of reading stream records.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { SWEEP_SCHEDULE_MINUTES } from '../functions/core/cloud-shapes';

/** EventBridge wants `rate(1 minute)` but `rate(5 minutes)`. */
export function sweepScheduleExpression(minutes: number): string {
  return `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;
}

export interface LeaseSweeperArgs {
  readonly processor: aws.lambda.Function;
}

export class LeaseSweeperSchedule extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule;

  constructor(name: string, args: LeaseSweeperArgs, opts?: pulumi.ComponentResourceOptions) {
    super('streamer:infra:LeaseSweeperSchedule', name, {}, opts);
    this.rule = new aws.cloudwatch.EventRule(
      `${name}-lease-sweep`,
      {
        description: 'Streamer: re-queue requests whose processing lease expired',
        scheduleExpression: sweepScheduleExpression(SWEEP_SCHEDULE_MINUTES),
      },
      { parent: this },
    );
    const permission = new aws.lambda.Permission(
      `${name}-lease-sweep`,
      {
        action: 'lambda:InvokeFunction',
        function: args.processor.name,
        principal: 'events.amazonaws.com',
        sourceArn: this.rule.arn,
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-lease-sweep`,
      { rule: this.rule.name, arn: args.processor.arn },
      { parent: this, dependsOn: [permission] },
    );
    this.registerOutputs({ ruleName: this.rule.name });
  }
}
