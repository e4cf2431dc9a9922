/** thousands() writes integers as toLocaleString('en-US') does (it replaces it to spare ICU's start-up cost). */
import { describe, expect, it } from 'vitest';
import { thousands } from '../src/util/thousands.js';

describe('thousands', () => {
  it('matches toLocaleString("en-US") on integers of every length and sign', () => {
    const values = [0, 7, -7, 999, 1000, -1000, 115_269_452, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    let x = 1;
    for (let k = 0; k < 200; k++) values.push((x = (x * 7919 + 104729) % 2 ** 31) * (k % 2 ? -1 : 1) * 10 ** (k % 7));
    for (const v of values) expect(thousands(v), String(v)).toBe(Math.round(v).toLocaleString('en-US'));
  });
  it('rounds a fraction to the nearest integer, like Math.round', () => {
    expect(thousands(1234.5)).toBe('1,235');
    expect(thousands(-0.4)).toBe('0');
  });
});
