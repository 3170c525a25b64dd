import { describe, expect, it } from 'vitest';
import { readWorkerEnv } from './worker-env.ts';

const base = { SWITCHYARD_MODEL: 'seed-classifier' };

describe('worker environment', () => {
  it('buffers log lines up to 4096 bytes by default; LOG_BUFFER_BYTES sets it, 0 turns it off', () => {
    expect(readWorkerEnv(base).logBufferBytes).toBe(4096);
    expect(readWorkerEnv({ ...base, LOG_BUFFER_BYTES: '0' }).logBufferBytes).toBe(0);
  });

  it('refuses a log buffer past 16383 bytes, naming the variable', () => {
    expect(() => readWorkerEnv({ ...base, LOG_BUFFER_BYTES: '20000' })).toThrow(/LOG_BUFFER_BYTES/);
  });
});
