import { describe, expect, it } from 'vitest';
import { readGatewayEnv } from './gateway-env.ts';

describe('gateway environment', () => {
  it('buffers log lines up to 4096 bytes by default; LOG_BUFFER_BYTES sets it, 0 turns it off', () => {
    expect(readGatewayEnv({}).logBufferBytes).toBe(4096);
    expect(readGatewayEnv({ LOG_BUFFER_BYTES: '0' }).logBufferBytes).toBe(0);
    expect(readGatewayEnv({ LOG_BUFFER_BYTES: '16383' }).logBufferBytes).toBe(16383);
  });

  it('refuses a log buffer past 16383 bytes (one write of the destination) or below 0, naming the variable', () => {
    expect(() => readGatewayEnv({ LOG_BUFFER_BYTES: '16384' })).toThrow(/LOG_BUFFER_BYTES/);
    expect(() => readGatewayEnv({ LOG_BUFFER_BYTES: '-1' })).toThrow(/LOG_BUFFER_BYTES/);
  });
});
