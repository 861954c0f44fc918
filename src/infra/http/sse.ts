import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EventBus } from '../events/event-bus.js';

declare module 'fastify' {
  interface FastifyInstance {
    eventStreams: Set<EventStream>;
  }
}

export interface EventStream {
  /** The session the stream was opened in: it ends when that session does. */
  readonly sessionId: string;
  send(event: string, data: unknown): void;
  /** Runs when the client goes away or the server shuts down. */
  onClose(callback: () => void): void;
  close(): void;
}

const HEARTBEAT_MS = 15_000;

/** Tracks the app's open streams and ends them on close: shutting down must not wait for clients to leave. */
export function registerEventStreams(app: FastifyInstance): void {
  app.decorate('eventStreams', new Set<EventStream>());
  app.addHook('preClose', async () => {
    for (const stream of app.eventStreams) stream.close();
  });
}

/**
 * Streams a channel of the event bus to the client: subscribed before the stream opens, so a
 * client that sees it open misses nothing after; unsubscribed when it closes.
 */
export async function streamChannel(
  request: FastifyRequest,
  reply: FastifyReply,
  bus: EventBus,
  channel: string,
  sessionId: string,
  forward: (stream: EventStream, message: unknown) => void,
): Promise<EventStream> {
  let stream: EventStream | undefined;
  const unsubscribe = await bus.subscribe(channel, (message) => {
    if (stream) forward(stream, message);
  });
  stream = openEventStream(request, reply, sessionId);
  stream.onClose(unsubscribe);
  return stream;
}

/** Takes over the reply and answers `text/event-stream`; comments every 15 s keep proxies from timing out. */
function openEventStream(request: FastifyRequest, reply: FastifyReply, sessionId: string): EventStream {
  const open = request.server.eventStreams;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    // Written past Fastify's hooks (the reply is hijacked), so the API's headers are set here too.
    'cache-control': 'no-store, no-transform',
    'x-content-type-options': 'nosniff',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  raw.write(': connected\n\n');
  const callbacks: Array<() => void> = [];
  let closed = false;
  const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
  const stream: EventStream = {
    sessionId,
    send(event, data) {
      if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(callback) {
      callbacks.push(callback);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      open.delete(stream);
      for (const callback of callbacks) callback();
      raw.end();
    },
  };
  open.add(stream);
  request.raw.on('close', () => stream.close());
  // The client may have left while the stream was being set up.
  if (request.raw.destroyed) stream.close();
  return stream;
}
