import { gatewayId } from '../../local/api-gateway-events';

describe('gatewayId', () => {
  it('looks like an API Gateway id: 15 URL-safe characters and a trailing "="', () => {
    expect(gatewayId()).toMatch(/^[A-Za-z0-9_-]{15}=$/);
  });

  it('never repeats, across many refills of its entropy pool', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => gatewayId()));
    expect(ids.size).toBe(2000);
  });
});
