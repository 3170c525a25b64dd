import { describe, expect, it } from 'vitest';
import { murmur3 } from './murmur3.ts';

describe('murmur3 x86_32', () => {
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['a', 0, 0x3c2569b2],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0, 0x43ed676a],
    ['Hello, world!', 0, 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ])('hashes %j with seed %i to the reference value', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
  });
});
