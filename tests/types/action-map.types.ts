/**
 * Type-level test, compiled by `npm run typecheck` (tsc): the action map
 * inferred from the shipped handlers types the client and the React hooks,
 * and every drift between a call and a handler is a compile error (each
 * `@ts-expect-error` fails the build if the error it expects disappears).
 */
import * as z from 'zod';
import { StreamerClient } from '../../client';
import { createStreamerHooks } from '../../client/react';
import { defineHandler, type ActionMapOf } from '../../functions/core';
import type { AppActions } from '../../functions/handlers';

/** True only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

// The keys are exactly the handlers' names.
assertType<Equal<keyof AppActions, 'echo' | 'generate_report' | 'process_data' | 'export_rows' | 'digest_upload' | 'notify'>>();
// Payloads are the schemas' INPUT: a defaulted field is optional for the client.
assertType<Equal<AppActions['generate_report']['payload'], { rows: number; stepDelayMs?: number | undefined; sections?: number | undefined }>>();
assertType<Equal<AppActions['process_data']['payload'], { items?: number | undefined; stepDelayMs?: number | undefined }>>();
// An upload reference is typed like any other field.
assertType<Equal<AppActions['digest_upload']['payload'], { file: { uploadId: string }; queue?: boolean | undefined }>>();
assertType<Equal<AppActions['notify']['payload'], { scope?: 'user' | 'tenant' | undefined; topic: string; text: string; afterMs?: number | undefined }>>();
// Results are what `process` returns.
assertType<Equal<AppActions['generate_report']['result'], { summary: string; rows: number; sections: number; checksum: number; generatedAt: string }>>();

export async function clientCalls(client: StreamerClient<AppActions>): Promise<void> {
  const report = await client.request('generate_report', { rows: 10 });
  assertType<Equal<typeof report.summary, string>>();
  await client.request('process_data', {});
  // @ts-expect-error rows is a number in the schema
  await client.request('generate_report', { rows: '10' });
  // @ts-expect-error rows is required
  await client.request('generate_report', {});
  // @ts-expect-error no handler has this name
  await client.request('generate_reports', { rows: 10 });
}

const { useRequest } = createStreamerHooks<AppActions>();
export function useTypedHook(): string | undefined {
  const report = useRequest('generate_report');
  // @ts-expect-error the hook's payload is the handler's too
  void report.start({ rows: true });
  return report.data?.summary;
}

// A handler whose result changes changes the client's type with it.
const renamed = defineHandler({
  name: 'renamed_result',
  payload: z.object({ id: z.string().transform((id) => id.length) }),
  estimatedDurationMs: 1,
  async process({ payload }) {
    assertType<Equal<typeof payload.id, number>>(); // the handler sees the OUTPUT type
    return { total: payload.id };
  },
});
type Renamed = ActionMapOf<readonly [typeof renamed]>;
assertType<Equal<Renamed['renamed_result']['payload'], { id: string }>>(); // the client sends the INPUT type
assertType<Equal<Renamed['renamed_result']['result'], { total: number }>>();
export function driftedCall(client: StreamerClient<Renamed>): void {
  // @ts-expect-error the result has `total`, not `count`
  void client.request('renamed_result', { id: 'x' }).then((result) => result.count);
}
