/**
 * Coalesces concurrent calls into batches: while a batch is running, new calls wait and go
 * together in the next one. Under light load a batch holds one call, so nothing waits; under a
 * storm, one database round trip and one commit serve many requests.
 */
export interface BatcherOptions {
  /** Most calls in one batch. @defaultValue 64 */
  maxBatch?: number;
  /** Batches running at once. @defaultValue 4 */
  maxInFlight?: number;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export function createBatcher<I, O>(
  runBatch: (items: I[]) => Promise<O[]>,
  { maxBatch = 64, maxInFlight = 4 }: BatcherOptions = {},
): (item: I) => Promise<O> {
  const pending: Pending<I, O>[] = [];
  let inFlight = 0;

  async function settle(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await runBatch(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One bad call must not fail the others: run each alone, so only the bad one fails.
      await Promise.all(batch.map((p) => settle([p])));
    }
  }

  function flush(): void {
    while (inFlight < maxInFlight && pending.length > 0) {
      const batch = pending.splice(0, maxBatch);
      inFlight += 1;
      void settle(batch).finally(() => {
        inFlight -= 1;
        flush();
      });
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      flush();
    });
}
