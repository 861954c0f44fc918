import type { FastifyReply } from 'fastify';

/** Aborts when the client's connection closes before its answer was sent: nobody will read it. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
