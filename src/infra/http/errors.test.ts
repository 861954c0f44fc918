import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, errors } from './errors.js';

/** Every factory of the catalogue, called with arguments that reach each code it can make. */
function madeByTheCatalogue(): AppError[] {
  const made: AppError[] = [];
  for (const [name, factory] of Object.entries(errors) as [string, (...args: unknown[]) => AppError][]) {
    if (name === 'frameworkClientError') {
      for (const status of [400, 413, 415]) made.push(factory(status, 'detail'));
    } else if (name === 'methodNotAllowed') {
      made.push(factory('PUT', ['GET']));
    } else {
      made.push(factory('detail', []));
    }
  }
  return made;
}

describe('the error catalogue', () => {
  it('has a factory for every code and no code outside the list', () => {
    const made = madeByTheCatalogue();
    for (const error of made) expect(error).toBeInstanceOf(AppError);
    expect(new Set(made.map((error) => error.code))).toEqual(new Set(ERROR_CODES));
  });

  it('gives each code one status', () => {
    const statuses = new Map<string, Set<number>>();
    for (const error of madeByTheCatalogue()) {
      statuses.set(error.code, (statuses.get(error.code) ?? new Set()).add(error.status));
    }
    const ambiguous = [...statuses].filter(([, set]) => set.size > 1).map(([code]) => code);
    expect(ambiguous).toEqual([]);
  });
});
