/**
 * What `promise` settles to, or `late` if it has not settled within `ms`: for a caller that must
 * answer in time whatever a dependency does (a probe, a scrape, a shutdown). The timer never
 * outlives the race.
 */
export async function within<T, Late>(promise: Promise<T>, ms: number, late: Late): Promise<T | Late> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Late>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What `promise` resolves to, or a rejection that names `what` if that takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timedOut = Symbol('timed out');
  const outcome = await within(promise, ms, timedOut);
  if (outcome === timedOut) throw new Error(`${what} took longer than ${ms} ms`);
  return outcome as T;
}
