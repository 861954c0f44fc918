import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutboundHttp, OutboundRefusedError } from './outbound-http.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A receiver on 127.0.0.1 that counts the connections it was opened with. */
async function serve(listener: RequestListener) {
  const server = createServer(listener);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { port, connections: () => connections };
}

const timeouts = { connectTimeoutMs: 5000, responseTimeoutMs: 10_000 };

describe('outbound HTTP', () => {
  it('refuses a loopback address, literal or behind a name, before connecting', async () => {
    const receiver = await serve((_request, response) => response.end());
    const http = createOutboundHttp(timeouts);
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const call = http.post(`http://${host}:${receiver.port}/hook`, {}, '{}');
      await expect(call).rejects.toBeInstanceOf(OutboundRefusedError);
    }
    const refused = await http.post(`http://localhost:${receiver.port}/`, {}, '{}').catch((e: Error) => e);
    expect((refused as Error).message).toBe('refused: private address');
    expect(receiver.connections()).toBe(0);
  });

  it('posts the body with its headers when private addresses are allowed', async () => {
    let received: { headers: Record<string, unknown>; body: string } | undefined;
    const receiver = await serve(async (request, response) => {
      let body = '';
      for await (const chunk of request) body += chunk;
      received = { headers: request.headers, body };
      response.writeHead(201).end('ok');
    });
    const http = createOutboundHttp({ ...timeouts, allowPrivate: true });
    const answer = await http.post(`http://localhost:${receiver.port}/hook`, { 'x-test': 'yes' }, '{"a":1}');
    expect(answer).toEqual({ status: 201, body: 'ok' });
    expect(received).toMatchObject({ body: '{"a":1}', headers: { 'x-test': 'yes' } });
  });

  it('reads no more of an endless body than its limit', async () => {
    const receiver = await serve((_request, response) => {
      response.writeHead(500);
      const chunk = 'x'.repeat(16 * 1024);
      const write = () => {
        while (response.write(chunk));
        response.once('drain', write);
      };
      write();
    });
    const http = createOutboundHttp({ ...timeouts, allowPrivate: true, maxBodyBytes: 100 });
    const answer = await http.post(`http://127.0.0.1:${receiver.port}/`, {}, '');
    expect(answer.status).toBe(500);
    expect(answer.body).toBe('x'.repeat(100));
  });

  it('does not follow a redirect', async () => {
    const elsewhere = await serve((_request, response) => response.end());
    const receiver = await serve((_request, response) =>
      response.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/` }).end(),
    );
    const http = createOutboundHttp({ ...timeouts, allowPrivate: true });
    expect((await http.post(`http://127.0.0.1:${receiver.port}/`, {}, '')).status).toBe(307);
    expect(elsewhere.connections()).toBe(0);
  });

  it('gives up on an endpoint that never answers', async () => {
    const receiver = await serve(() => {});
    const http = createOutboundHttp({ connectTimeoutMs: 5000, responseTimeoutMs: 200, allowPrivate: true });
    await expect(http.post(`http://127.0.0.1:${receiver.port}/`, {}, '')).rejects.toThrow(
      'no complete answer within 200 ms',
    );
  });

  it('refuses other schemes', async () => {
    const http = createOutboundHttp({ ...timeouts, allowPrivate: true });
    await expect(http.post('ftp://example.com/', {}, '')).rejects.toBeInstanceOf(OutboundRefusedError);
  });
});
