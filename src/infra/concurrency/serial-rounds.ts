export interface SerialRounds {
  /** Asks for a round now, or, if one is running, for another one right after it. */
  kick(): void;
  /** The rounds running now, if any; resolves when they are over. */
  idle(): Promise<void>;
}

export interface SerialRoundsOptions {
  /** Once true, no round starts. */
  stopped(): boolean;
  /** Called when a run of rounds is over: with its error, or undefined when it went through. */
  settled(error: unknown): void;
}

/**
 * Runs `round` one at a time, again and again while it answers that it left work behind (a full
 * claim, say) or while a `kick` came during it, so a wake-up is never lost and never starts a
 * second run beside the first.
 */
export function serialRounds(round: () => Promise<boolean>, { stopped, settled }: SerialRoundsOptions): SerialRounds {
  let running: Promise<void> | undefined;
  let again = false;
  return {
    kick() {
      if (stopped()) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          if (await round()) again = true;
        } while (again && !stopped());
      })()
        .then(
          () => settled(undefined),
          (error: unknown) => settled(error),
        )
        .finally(() => {
          running = undefined;
        });
    },
    async idle() {
      await running;
    },
  };
}
