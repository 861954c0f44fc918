import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayLiteralWriter } from './array-literal-writer.js';
import { pgArray } from './database.js';

describe('array literals written element by element', () => {
  it('are the literal pgArray makes, through growth, and stay valid until the take after next', () => {
    const writer = new ArrayLiteralWriter();
    const values = fc.array(fc.option(fc.string({ unit: 'binary', maxLength: 400 }), { nil: null }), {
      maxLength: 300,
    });
    fc.assert(
      fc.property(values, values, (first, second) => {
        for (const value of first) writer.push(value);
        const taken = writer.take();
        for (const value of second) writer.push(value);
        expect(taken.toString()).toBe(pgArray(first));
        expect(writer.take().toString()).toBe(pgArray(second));
      }),
      { numRuns: 100, seed: 13 },
    );
  });
});
