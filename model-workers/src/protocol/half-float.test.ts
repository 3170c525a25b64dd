import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from './half-float.ts';

describe('half precision', () => {
  it('round-trips every finite half value exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromHalfBits(bits);
      if (Number.isNaN(value)) continue;
      expect(toHalfBits(value)).toBe(bits === 0x8000 ? 0x8000 : bits);
    }
  });

  it('rounds any number to the nearest half value', () => {
    fc.assert(
      fc.property(fc.double({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const rounded = fromHalfBits(toHalfBits(x));
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), 2 ** -14))) - 10);
        expect(Math.abs(rounded - x)).toBeLessThanOrEqual(ulp / 2 + Number.EPSILON);
      }),
    );
  });

  it('maps overflow to infinity and keeps the sign', () => {
    expect(fromHalfBits(toHalfBits(1e6))).toBe(Infinity);
    expect(fromHalfBits(toHalfBits(-1e6))).toBe(-Infinity);
    expect(fromHalfBits(toHalfBits(-1.5))).toBe(-1.5);
  });
});
