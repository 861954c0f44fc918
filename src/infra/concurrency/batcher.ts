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

  // Each call alone, so that one bad call fails only itself.
  async function settleAlone(batch: Pending<I, O>[]): Promise<void> {
    await Promise.all(
      batch.map((p) =>
        runBatch([p.item]).then(
          (results) => p.resolve(results[0] as O),
          (error: unknown) => p.reject(error),
        ),
      ),
    );
  }

  async function settle(batch: Pending<I, O>[]): Promise<void> {
    let results: O[] | undefined;
    let failure: unknown;
    try {
      results = await runBatch(batch.map((p) => p.item));
    } catch (error) {
      failure = error;
    }
    // The next batch leaves before this one is answered: answering is the process's work, and the
    // database, which a batch waits for, would sit idle meanwhile.
    inFlight -= 1;
    flush();
    if (results) {
      for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
    } else if (batch.length === 1) {
      batch[0]?.reject(failure);
    } else {
      await settleAlone(batch);
    }
  }

  function flush(): void {
    while (inFlight < maxInFlight && pending.length > 0) {
      const batch = pending.splice(0, maxBatch);
      inFlight += 1;
      void settle(batch);
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      flush();
    });
}
