import { once } from 'node:events';
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { waitFor } from './processes.js';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
}

export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * An endpoint on 127.0.0.1 that keeps every request it gets and answers with the status `answer`
 * gives for the request's number (1 for the first), 204 unless told otherwise.
 */
export async function startWebhookReceiver(answer: (n: number) => number = () => 204) {
  const received: ReceivedWebhook[] = [];
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    received.push({ headers: request.headers as Record<string, string>, body });
    response.writeHead(answer(received.length)).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** The events received whose signature verifies with `secret`; throws on any that does not. */
    verified(secret: string): WebhookEvent[] {
      const webhook = new Webhook(secret);
      return received.map(({ headers, body }) => webhook.verify(body, headers) as WebhookEvent);
    },
    /** Waits until an event matches, verified with `secret`, and answers it. */
    async waitForEvent(secret: string, match: (event: WebhookEvent) => boolean, timeoutMs = 15_000) {
      let found: WebhookEvent | undefined;
      await waitFor(
        () => {
          found = this.verified(secret).find(match);
          return found !== undefined;
        },
        timeoutMs,
        () => `no matching webhook among ${received.length} received: ${received.map((r) => r.body).join('\n')}`,
      );
      return found as WebhookEvent;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
