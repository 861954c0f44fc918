import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does with a new connection:
 * - `forward`: passes it on to the target;
 * - `refuse`: nothing listens, so connecting fails at once (ECONNREFUSED);
 * - `blackhole`: accepts it and reads, but never forwards or answers, like a lost network.
 *
 * Connections already open keep flowing under `forward` and `refuse` (drop them to cut them) and
 * stall under `blackhole`, to flow again, nothing lost, when the mode is `forward` once more.
 */
export type FaultMode = 'forward' | 'refuse' | 'blackhole';

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: FaultMode;
  setMode(mode: FaultMode): Promise<void>;
  /** Destroys every open connection, on both sides. */
  dropConnections(): void;
  /**
   * Leaves every open connection open and silent for good, as a peer that vanished without closing
   * them does (a dead host, a lost NAT entry); new connections go on as the mode says.
   */
  strandConnections(): void;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  /** Absent for a connection the black hole took: it never reaches the target. */
  upstream?: Socket;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target`, for tests that take a dependency away from one
 * service without touching the PostgreSQL or Redis that other test files share.
 */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const host = '127.0.0.1';
  const links = new Set<Link>();
  // Open, silent for good, and never made to flow again by a change of mode.
  const stranded = new Set<Link>();
  let mode: FaultMode = 'forward';
  let server: Server | undefined;
  let port = 0;

  const flow = ({ client, upstream }: Link) => {
    if (!upstream) return;
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const stall = ({ client, upstream }: Link) => {
    if (!upstream) return;
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const destroy = (link: Link) => {
    link.client.destroy();
    link.upstream?.destroy();
    links.delete(link);
    stranded.delete(link);
  };

  function accept(client: Socket): void {
    const link: Link = { client };
    links.add(link);
    client.on('error', () => destroy(link));
    client.on('close', () => destroy(link));
    if (mode === 'blackhole') {
      client.resume();
      return;
    }
    const upstream = connect(target.port, target.host);
    link.upstream = upstream;
    upstream.on('error', () => destroy(link));
    upstream.on('close', () => destroy(link));
    flow(link);
  }

  async function listen(): Promise<void> {
    const next = createServer(accept);
    next.listen(port, host);
    await once(next, 'listening');
    port = (next.address() as { port: number }).port;
    server = next;
  }

  function stopListening(): void {
    // Open connections are left as they are; close() only stops new ones.
    server?.close();
    server = undefined;
  }

  const dropConnections = () => {
    for (const link of [...links]) destroy(link);
  };
  const strandConnections = () => {
    for (const link of [...links]) {
      stall(link);
      // Read and dropped, as the black hole does with what it takes.
      link.client.resume();
      links.delete(link);
      stranded.add(link);
    }
  };

  await listen();
  return {
    host,
    port,
    get mode() {
      return mode;
    },
    async setMode(next) {
      const previous = mode;
      mode = next;
      if (next === 'refuse') stopListening();
      else if (!server) await listen();
      if (next === 'blackhole') for (const link of links) stall(link);
      if (previous === 'blackhole' && next !== 'blackhole') for (const link of links) flow(link);
    },
    dropConnections,
    strandConnections,
    async close() {
      stopListening();
      dropConnections();
      for (const link of [...stranded]) destroy(link);
    },
  };
}

/** The connection string `url` with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: FaultProxy): string {
  const rewritten = new URL(url);
  rewritten.hostname = proxy.host;
  rewritten.port = String(proxy.port);
  return rewritten.toString();
}

/** The host and port a connection string points at, as a proxy's target. */
export function targetOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) };
}
