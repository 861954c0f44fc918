import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'tokenpool:metrics';
const ANSWER = 'tokenpool:metrics-answer';
const WAIT_MS = 3000;

interface Message {
  type?: string;
  id?: string;
  text?: string;
  error?: string;
}

/**
 * In a process of a `WEB_CONCURRENCY` group: offers this registry to the group's aggregation
 * (prom-client asks every process over IPC) and answers nothing else.
 */
export function joinClusterMetrics(registry: Registry): void {
  if (!cluster.isWorker) return;
  AggregatorRegistry.setRegistries([registry]);
  // prom-client starts answering the primary's requests when an aggregator is first made.
  new AggregatorRegistry();
}

/**
 * The metrics of every process of the group, asked of the primary, which gathers and merges them
 * (counters summed, database-read gauges taken once); undefined outside a group.
 */
export async function clusterMetrics(): Promise<string | undefined> {
  if (!cluster.isWorker || !process.send) return undefined;
  const id = randomUUID();
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the process group did not answer for its metrics'));
    }, WAIT_MS);
    const onMessage = (message: Message) => {
      if (message?.type !== ANSWER || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.error) reject(new Error(message.error));
      else resolve(message.text ?? '');
    };
    process.on('message', onMessage);
    process.send?.({ type: REQUEST, id });
  });
}

/** In the primary: answers its processes' requests for the group's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Message) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      (error: unknown) => worker.send({ type: ANSWER, id: message.id, error: String(error) }),
    );
  });
}
