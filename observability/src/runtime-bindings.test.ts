import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { bytesOf, bytesResponse, headerCarrier, headerOf, type RuntimeBindings } from './runtime-bindings.ts';

function app(): Hono {
  const a = new Hono();
  a.get('/h', (c) => {
    const carrier = headerCarrier(c);
    return c.json({ user: headerOf(c, 'x-user') ?? null, tags: headerOf(c, 'x-tag') ?? null, missing: headerOf(c, 'x-none') ?? null, trace: carrier.get('traceparent') ?? null, keys: carrier.keys().sort() });
  });
  return a;
}

describe('headerOf and headerCarrier', () => {
  it('read the standard request headers when the host passes no bindings', async () => {
    const res = await app().request('/h', { headers: { 'x-user': 'u1', 'x-tag': 'a, b', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(await res.json()).toEqual({ user: 'u1', tags: 'a, b', missing: null, trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', keys: ['traceparent', 'x-tag', 'x-user'] });
  });

  it("read the host's plain header object when it passes one, joining repeated values as Node does", async () => {
    const bindings: RuntimeBindings = { headers: () => ({ 'x-user': 'from-binding', 'x-tag': ['a', 'b'], traceparent: '00-11111111111111111111111111111111-2222222222222222-01' }) };
    // The standard headers say otherwise: the binding is what is read.
    const res = await app().request('/h', { headers: { 'x-user': 'from-request' } }, bindings);
    expect(await res.json()).toEqual({ user: 'from-binding', tags: 'a, b', missing: null, trace: '00-11111111111111111111111111111111-2222222222222222-01', keys: ['traceparent', 'x-tag', 'x-user'] });
  });
});

describe('bytesResponse and bytesOf', () => {
  it('give back the whole body of an answer made with bytesResponse, and nothing for any other', async () => {
    const body = new TextEncoder().encode('{"ok":true}');
    const res = bytesResponse(body, { status: 201, headers: { 'content-type': 'application/json' } });
    expect(bytesOf(res)).toBe(body);
    expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([201, 'application/json', '{"ok":true}']);
    expect(bytesOf(new Response(body))).toBeUndefined();
    expect(bytesOf(bytesResponse(null, { status: 204 }))).toBeUndefined();
  });
});
