import type { Logger } from './logger.js';

/**
 * Runs work on a dependency that may be away, falling back when it fails. After a failure the
 * dependency is left alone, and the fallback answers at once, until a probe in the background finds
 * it answering again: an outage costs one timeout, not one per request, and is logged once.
 */
export interface OutageGuard {
  run<T>(work: () => Promise<T>, fallback: () => T | Promise<T>): Promise<T>;
}

export interface OutageGuardOptions {
  /** Asks the dependency whether it answers; a rejection means it does not. */
  probe: () => Promise<unknown>;
  logger: Logger;
  /** The dependency's name, for the log. */
  name: string;
  /** Logged once when an outage begins: what the service does without the dependency. */
  whileDown: string;
  /** How often, during an outage, a request may start a probe. @defaultValue 1000 */
  probeIntervalMs?: number;
  now?: () => number;
}

export function createOutageGuard(options: OutageGuardOptions): OutageGuard {
  const { probe, logger, name, whileDown, probeIntervalMs = 1000, now = Date.now } = options;
  let down = false;
  let probing = false;
  let nextProbeAt = 0;

  function failed(error: unknown): void {
    nextProbeAt = now() + probeIntervalMs;
    if (down) return;
    down = true;
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ dependency: name, reason }, `${name} is unavailable: ${whileDown}`);
  }

  function answered(): void {
    if (!down) return;
    down = false;
    logger.info({ dependency: name }, `${name} answers again`);
  }

  // Probes ride on requests rather than a timer: a process nobody calls needs no probe.
  function probeSoon(): void {
    if (probing || now() < nextProbeAt) return;
    probing = true;
    probe()
      .then(answered, failed)
      .finally(() => {
        probing = false;
      });
  }

  return {
    async run(work, fallback) {
      if (down) {
        probeSoon();
        return fallback();
      }
      try {
        return await work();
      } catch (error) {
        failed(error);
        return fallback();
      }
    },
  };
}
