import * as z from 'zod';
import { defineHandler, HandlerRegistry } from '../../functions/core';
import { requirePermissions, shouldQueue, validatePayload } from '../../functions/core/handlers/validate-payload';
import type { AnyHandler } from '../../functions/core/handlers/define-handler';
import { registry } from '../../functions/handlers';

const identity = { userId: 'u', tenantId: 't', permissions: ['reports:write'] };

const quick = defineHandler({ name: 'quick', payload: z.object({}), estimatedDurationMs: 100, process: async () => 1 });
const slow = defineHandler({ name: 'slow', payload: z.object({}), estimatedDurationMs: 60_000, process: async () => 1 });
const sized = defineHandler({
  name: 'sized',
  payload: z.object({ rows: z.number().int().positive() }),
  shouldQueue: (p) => p.rows > 1000,
  permissions: ['reports:write', 'reports:admin'],
  validate: (p) => {
    if (p.rows === 13) throw new Error('13 rows is unlucky');
  },
  process: async ({ payload }) => payload.rows,
});

const erased = (h: unknown) => h as AnyHandler;

describe('handler registry', () => {
  it('finds handlers by action and answers UNKNOWN_ACTION otherwise', () => {
    const reg = new HandlerRegistry([quick]);
    expect(reg.require('quick').name).toBe('quick');
    expect(() => reg.require('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_ACTION' }));
  });

  it('refuses duplicate names and built-in action names', () => {
    expect(() => new HandlerRegistry([quick, quick])).toThrow(/twice/);
    expect(() => new HandlerRegistry([defineHandler({ name: 'ping', payload: z.object({}), estimatedDurationMs: 1, process: async () => 1 })])).toThrow(/built-in/);
  });

  it('refuses a handler that cannot choose between sync and async', () => {
    expect(() => defineHandler({ name: 'x', payload: z.object({}), process: async () => 1 } as never)).toThrow(/estimatedDurationMs or shouldQueue/);
  });

  it('ships echo, generate_report, process_data, export_rows, digest_upload and notify', () => {
    expect(registry.names().sort()).toEqual(['digest_upload', 'echo', 'export_rows', 'generate_report', 'notify', 'process_data']);
  });
});

describe('sync or async', () => {
  it('queues handlers whose estimate is above the threshold and runs the rest inline', () => {
    expect(shouldQueue(erased(quick), {}, 5000)).toBe(false);
    expect(shouldQueue(erased(slow), {}, 5000)).toBe(true);
    expect(shouldQueue(erased(slow), {}, 60_000)).toBe(false);
  });

  it('lets a per-payload decision win over the estimate', () => {
    expect(shouldQueue(erased(sized), { rows: 10 }, 0)).toBe(false);
    expect(shouldQueue(erased(sized), { rows: 5000 }, 1_000_000)).toBe(true);
  });
});

describe('payload validation', () => {
  it('reports schema failures as VALIDATION_ERROR with issues by field', async () => {
    await expect(validatePayload(erased(sized), { rows: -1 }, identity)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      retryable: false,
      details: { issues: [expect.objectContaining({ path: 'rows' })] },
    });
  });

  it('turns a throwing validate hook into VALIDATION_ERROR', async () => {
    await expect(validatePayload(erased(sized), { rows: 13 }, identity)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: '13 rows is unlucky',
    });
  });

  it('returns the parsed payload (with defaults applied)', async () => {
    const withDefault = defineHandler({ name: 'd', payload: z.object({ n: z.number().default(3) }), estimatedDurationMs: 1, process: async () => 1 });
    await expect(validatePayload(erased(withDefault), {}, identity)).resolves.toEqual({ n: 3 });
  });

  it('answers FORBIDDEN naming the missing permission', () => {
    expect(() => requirePermissions(erased(sized), identity)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', details: { missing: ['reports:admin'] } }),
    );
    expect(() => requirePermissions(erased(quick), { ...identity, permissions: [] })).not.toThrow();
  });
});
