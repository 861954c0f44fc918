import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

let echo: Server;
let proxy: FaultProxy;
const sockets: Socket[] = [];

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
  await once(echo, 'listening');
  proxy = await startFaultProxy({ host: '127.0.0.1', port: (echo.address() as { port: number }).port });
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await proxy.setMode('forward');
});
afterAll(async () => {
  await proxy.close();
  echo.close();
});

async function open(): Promise<Socket> {
  const socket = connect(proxy.port, proxy.host);
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Sends `text`, then collects what comes back until `expected` has or `ms` have passed. */
async function roundTrip(socket: Socket, text: string, expected = text, ms = 300): Promise<string> {
  let received = '';
  const onData = (chunk: Buffer) => {
    received += chunk.toString();
  };
  socket.on('data', onData);
  socket.write(text);
  const deadline = Date.now() + ms;
  while (received.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  socket.off('data', onData);
  return received;
}

describe('the fault proxy', () => {
  it('forwards both ways', async () => {
    expect(await roundTrip(await open(), 'hello')).toBe('hello');
  });

  it('refuses new connections, keeps the open ones, and listens again on the same port', async () => {
    const established = await open();
    await proxy.setMode('refuse');
    const refused = connect(proxy.port, proxy.host);
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    expect(await roundTrip(established, 'still')).toBe('still');
    await proxy.setMode('forward');
    expect(await roundTrip(await open(), 'again')).toBe('again');
  });

  it('black-holes new connections for good, and stalls open ones until it forwards again', async () => {
    const established = await open();
    await proxy.setMode('blackhole');
    const swallowed = await open();
    expect(await roundTrip(swallowed, 'lost')).toBe('');
    expect(await roundTrip(established, 'held', 'held', 150)).toBe('');
    await proxy.setMode('forward');
    expect(await roundTrip(established, '', 'held')).toBe('held');
    expect(await roundTrip(swallowed, 'still lost')).toBe('');
  });

  it('strands the open connections, silent and open for good, while new ones flow', async () => {
    const stranded = await open();
    proxy.strandConnections();
    expect(await roundTrip(stranded, 'gone')).toBe('');
    await proxy.setMode('blackhole');
    await proxy.setMode('forward');
    expect(await roundTrip(stranded, 'still gone')).toBe('');
    expect(stranded.destroyed).toBe(false);
    expect(await roundTrip(await open(), 'fresh')).toBe('fresh');
  });

  it('drops every open connection', async () => {
    const socket = await open();
    const closed = once(socket, 'close');
    proxy.dropConnections();
    await closed;
    expect(socket.destroyed).toBe(true);
  });
});
