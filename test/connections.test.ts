import { connect, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './helpers/client.js';
import { startHarness, useHarness } from './helpers/harness.js';

// Limits shortened so the test sees them act within a second or two.
const REQUEST_TIMEOUT_MS = 600;
const KEEP_ALIVE_TIMEOUT_MS = 400;
const MAX_STREAMS = 3;
const file = useHarness({
  REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
  MAX_STREAMS_PER_USER: String(MAX_STREAMS),
});
let port: number;

beforeAll(async () => {
  await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
  port = (file.harness.app.server.address() as { port: number }).port;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw connection: what it received so far, and when the server closed it. */
function open(): { socket: Socket; received: () => string; closed: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const started = Date.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)));
  return { socket, received: () => text, closed };
}

/** Writes `text` one byte every `everyMs` until the connection closes or the text is sent. */
async function trickle(socket: Socket, text: string, everyMs: number): Promise<void> {
  for (const byte of text) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(byte);
    await sleep(everyMs);
  }
}

const status = (text: string) => Number(text.split(' ')[1]);
const body = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('slow requests', () => {
  it('answers a body sent one byte at a time with 408 and closes the connection', async () => {
    const connection = open();
    const json = JSON.stringify({ email: 'slow@example.com', password: 'password123' });
    connection.socket.write(
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${json.length}\r\n\r\n`,
    );
    void trickle(connection.socket, json, 100);
    const elapsed = await Promise.race([connection.closed, sleep(5000).then(() => -1)]);
    connection.socket.destroy();
    expect(elapsed, 'the connection was still open after 5 s').toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
    expect(status(connection.received())).toBe(408);
    expect(body(connection.received())).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
  });

  it('answers a header block sent one byte at a time with 408 and closes the connection', async () => {
    const connection = open();
    void trickle(connection.socket, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`, 50);
    const elapsed = await Promise.race([connection.closed, sleep(5000).then(() => -1)]);
    connection.socket.destroy();
    expect(elapsed, 'the connection was still open after 5 s').toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
    expect(status(connection.received())).toBe(408);
  });

  it('closes a keep-alive connection left idle', async () => {
    const connection = open();
    connection.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    const elapsed = await Promise.race([connection.closed, sleep(5000).then(() => -1)]);
    connection.socket.destroy();
    expect(status(connection.received())).toBe(200);
    expect(elapsed, 'the idle connection was still open after 5 s').toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 1500);
  });
});

describe('event streams', () => {
  /** Opens the pool's stream on a raw connection and waits for its status line. */
  async function stream(accessToken: string) {
    const connection = open();
    connection.socket.write(
      `GET /api/v1/tokens/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${accessToken}\r\n\r\n`,
    );
    while (!connection.received().includes('\r\n\r\n')) await sleep(10);
    return { ...connection, status: status(connection.received()) };
  }

  it('are not cut by the request timeout', async () => {
    const alice = await file.api.signUp();
    const open = await stream(alice.accessToken);
    expect(open.status).toBe(200);
    await sleep(REQUEST_TIMEOUT_MS * 2);
    expect(open.socket.destroyed).toBe(false);
    await file.api.post('/tokens/lease', {}, alice.accessToken);
    while (!open.received().includes('event: leased')) await sleep(10);
    open.socket.destroy();
  });

  it('are capped per user: 429 past the cap, and a closed stream gives its slot back', async () => {
    const alice = await file.api.signUp();
    const bob = await file.api.signUp();
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i += 1) streams.push(await stream(alice.accessToken));
    expect(streams.map((s) => s.status)).toEqual(Array(MAX_STREAMS).fill(200));
    const refused = await stream(alice.accessToken);
    expect(refused.status).toBe(429);
    expect(body(refused.received())).toMatchObject({ status: 429, code: 'TOO_MANY_STREAMS' });
    refused.socket.destroy();
    // Another user's streams are counted apart.
    const bobs = await stream(bob.accessToken);
    expect(bobs.status).toBe(200);
    bobs.socket.destroy();

    streams.pop()?.socket.destroy();
    // The slot comes back when the server sees the connection close: shortly, not at once.
    let again = await stream(alice.accessToken);
    for (let tries = 0; again.status !== 200 && tries < 50; tries += 1) {
      again.socket.destroy();
      await sleep(20);
      again = await stream(alice.accessToken);
    }
    expect(again.status).toBe(200);
    for (const open of [...streams, again]) open.socket.destroy();
  });
});

describe('failed attempts to open a stream', () => {
  it('are limited per IP: past AUTH_RATE_LIMIT a minute, 429 before any ticket is looked up', async () => {
    const harness = await startHarness({ AUTH_RATE_LIMIT: '3' });
    try {
      const attempt = () => harness.app.inject({ method: 'GET', url: '/api/v1/tokens/events?ticket=guess' });
      for (let i = 0; i < 3; i += 1) expect((await attempt()).statusCode).toBe(401);
      expectProblem(await attempt(), 429, 'RATE_LIMITED');
    } finally {
      await harness.close();
    }
  });
});
