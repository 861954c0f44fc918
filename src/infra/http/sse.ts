import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type, { type TSchema } from 'typebox';
import type { EventBus } from '../events/event-bus.js';
import type { HeldSlots } from '../rate-limit/held-slots.js';
import { errors } from './errors.js';
import type { Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyInstance {
    eventStreams: Set<EventStream>;
    eventStreamLimits: EventStreamLimits;
  }
}

export interface EventStreamLimits {
  /** Where open streams are counted: shared by every process when Redis is there. */
  slots: HeldSlots;
  /** Streams one user may hold open at once, over every stream route (MAX_STREAMS_PER_USER). */
  perUser: number;
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

/**
 * The `200` of a stream route for the OpenAPI document: `text/event-stream`, each message named by
 * its `event:` line, its `data:` line the JSON of that event's payload. OpenAPI 3.1 has no schema
 * for one item of a stream (3.2's `itemSchema`), so the schema describes one message the way 3.2
 * and its media type registry model SSE; the body as a whole is a sequence of them. Documentation
 * only: the route hijacks its reply (below), so Fastify never serializes through this schema.
 */
export function eventStreamResponse(description: string, payloads: Record<string, TSchema>) {
  const messages = Object.entries(payloads).map(([event, payload]) =>
    Type.Object({
      event: Type.Literal(event),
      data: Type.String({ contentMediaType: 'application/json', contentSchema: payload }),
    }),
  );
  return {
    description,
    content: {
      'text/event-stream': {
        schema: Type.Union(messages, {
          description:
            'One Server-Sent Event; the stream sends them one after another, with `:` comment lines between ' +
            'to keep it open.',
        }),
      },
    },
  };
}

/** Tracks the app's open streams and ends them on close: shutting down must not wait for clients to leave. */
export function registerEventStreams(app: FastifyInstance, limits: EventStreamLimits): void {
  app.decorate('eventStreams', new Set<EventStream>());
  app.decorate('eventStreamLimits', limits);
  app.addHook('preClose', async () => {
    for (const stream of app.eventStreams) stream.close();
  });
}

/**
 * Streams a channel of the event bus to the client: subscribed before the stream opens, so a
 * client that sees it open misses nothing after; unsubscribed when it closes. The stream holds one
 * of the caller's slots while it is open; past the cap the answer is 429 and nothing is opened.
 */
export async function streamChannel(
  request: FastifyRequest,
  reply: FastifyReply,
  bus: EventBus,
  channel: string,
  caller: Principal,
  forward: (stream: EventStream, message: unknown) => void,
): Promise<EventStream> {
  const { slots, perUser } = request.server.eventStreamLimits;
  const slot = await slots.acquire(`streams:user:${caller.userId}`, perUser);
  if (!slot) throw errors.tooManyStreams(perUser);
  let stream: EventStream | undefined;
  const unsubscribe = await bus
    .subscribe(channel, (message) => {
      if (stream) forward(stream, message);
    })
    .catch(async (error: unknown) => {
      await slot.release();
      throw error;
    });
  stream = openEventStream(request, reply, caller.sessionId);
  stream.onClose(unsubscribe);
  stream.onClose(() => void slot.release());
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
