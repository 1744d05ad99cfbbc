import { parseClientFrame, MAX_ID_LENGTH } from '../../functions/core/protocol/envelope';

function refused(frame: string | undefined) {
  const result = parseClientFrame(frame);
  if (result.ok) throw new Error('expected a refusal');
  return result;
}

describe('client frame parsing', () => {
  it('accepts a well-formed envelope and defaults the payload to {}', () => {
    expect(parseClientFrame('{"id":"c-1","action":"ping"}')).toEqual({ ok: true, envelope: { id: 'c-1', action: 'ping', payload: {} } });
  });

  it('refuses invalid JSON with INVALID_REQUEST and a null id', () => {
    const result = refused('{not json');
    expect(result.id).toBeNull();
    expect(result.error.code).toBe('INVALID_REQUEST');
  });

  it.each([['[]'], ['"text"'], ['42'], ['null']])('refuses a frame that is not an object: %s', (frame) => {
    expect(refused(frame).error.code).toBe('INVALID_REQUEST');
  });

  it('refuses a missing, empty, non-string or too long id without echoing it', () => {
    for (const id of [undefined, '', 7, 'x'.repeat(MAX_ID_LENGTH + 1)]) {
      const result = refused(JSON.stringify({ id, action: 'ping' }));
      expect(result.id).toBeNull();
      expect(result.error.details).toEqual({ field: 'id' });
    }
  });

  it('keeps the id when the action is wrong so the error can be correlated', () => {
    const result = refused('{"id":"c-9","action":5}');
    expect(result.id).toBe('c-9');
    expect(result.error.details).toEqual({ field: 'action' });
  });

  it('refuses a payload that is not an object', () => {
    for (const payload of [[1], 'x', 3, true]) {
      expect(refused(JSON.stringify({ id: 'a', action: 'echo', payload })).error.code).toBe('INVALID_REQUEST');
    }
  });

  it('refuses a frame over the size limit with PAYLOAD_TOO_LARGE', () => {
    const result = refused(JSON.stringify({ id: 'a', action: 'echo', payload: { s: 'x'.repeat(200_000) } }));
    expect(result.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses deeply nested payloads without overflowing the stack', () => {
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const result = refused(`{"id":"d","action":"echo","payload":${deep}}`);
    expect(result.error.code).toBe('INVALID_REQUEST');
  });

  it('drops __proto__ keys so a later merge cannot pollute prototypes', () => {
    const result = parseClientFrame('{"id":"p","action":"echo","payload":{"__proto__":{"polluted":true},"ok":1}}');
    expect(result.ok && result.envelope.payload).toEqual({ ok: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('carries an idempotencyKey when one is given, and none for a missing or null one', () => {
    const parse = (extra: object) => parseClientFrame(JSON.stringify({ id: 'c-1', action: 'generate_report', ...extra }));
    expect(parse({ idempotencyKey: 'order-42' })).toMatchObject({ ok: true, envelope: { idempotencyKey: 'order-42' } });
    expect(parse({})).toMatchObject({ ok: true });
    expect((parse({}) as { envelope: object }).envelope).not.toHaveProperty('idempotencyKey');
    expect((parse({ idempotencyKey: null }) as { envelope: object }).envelope).not.toHaveProperty('idempotencyKey');
  });

  it.each([[''], ['  '], [7], [['a']], ['x'.repeat(129)], ['tab\there']])('refuses the idempotencyKey %j with INVALID_REQUEST, keeping the id', (idempotencyKey) => {
    const parsed = parseClientFrame(JSON.stringify({ id: 'c-2', action: 'generate_report', idempotencyKey }));
    expect(parsed).toMatchObject({ ok: false, id: 'c-2', error: { code: 'INVALID_REQUEST', details: { field: 'idempotencyKey' } } });
  });

  it('refuses an empty frame', () => {
    expect(refused('').error.code).toBe('INVALID_REQUEST');
    expect(refused(undefined).error.code).toBe('INVALID_REQUEST');
  });
});
