import { describe, expect, it } from 'vitest';
import { uuidV7Source } from './uuid-v7.js';

describe('time-ordered UUIDs', () => {
  it('are version 7 with the RFC variant, carry the time, and sort in the order they were made', () => {
    let now = Date.UTC(2026, 10, 22);
    const next = uuidV7Source(() => now);
    const ids: string[] = [];
    // Within one millisecond (the counter), past 4,096 of them (the borrowed millisecond), then later.
    for (let i = 0; i < 5000; i += 1) ids.push(next());
    now += 1;
    for (let i = 0; i < 10; i += 1) ids.push(next());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt((ids[0] as string).replace('-', '').slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 22));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
