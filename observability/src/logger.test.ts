import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('logger', () => {
  it('writes JSON lines with service, level label and redacted credentials', () => {
    const lines: string[] = [];
    const logger = createLogger({ service: 'svc', destination: { write: (l: string) => void lines.push(l) } });
    logger.info({ headers: { authorization: 'Bearer canary-secret', 'x-api-key': 'canary-key' }, apiKey: 'canary-2' }, 'hello');
    const record = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ service: 'svc', level: 'info', msg: 'hello' });
    expect(lines[0]).not.toMatch(/canary/);
  });
});
