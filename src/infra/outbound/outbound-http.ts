import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './public-address.js';

export interface OutboundHttpOptions {
  /** Let calls reach loopback, private and link-local addresses (tests, a trusted LAN). @defaultValue false */
  allowPrivate?: boolean;
  /** How long the TCP connection may take to open. */
  connectTimeoutMs: number;
  /** How long the whole call may take, from the first byte sent to the last byte read. */
  responseTimeoutMs: number;
  /** The most of a response body read; the rest is never received. @defaultValue 1024 */
  maxBodyBytes?: number;
}

/** What came back. Redirects are not followed: a 3xx is an answer like any other. */
export interface OutboundResponse {
  status: number;
  /** The start of the body, at most `maxBodyBytes`, as text. */
  body: string;
}

/**
 * The call was refused before any byte was sent, because of where it would go: running it again
 * reaches the same place.
 */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
}

export interface OutboundHttp {
  post(url: string, headers: Record<string, string>, body: string): Promise<OutboundResponse>;
}

// Says no more than that: which internal address a name resolved to would map our network for
// whoever registered the endpoint, and the message ends up in the delivery's lastError.
function refusal(): OutboundRefusedError {
  return new OutboundRefusedError('refused: private address');
}

/**
 * A DNS lookup that answers only public addresses, so the connection can only open to one of
 * them: the check is on the very address connected to, not on an earlier, separate resolution a
 * second DNS answer could contradict (DNS rebinding). Any private answer refuses the whole name.
 */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    if (addresses.some((entry) => !isPublicAddress(entry.address))) return callback(refusal(), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
    callback(null, first.address, first.family);
  });
};

/** Reads at most `limit` bytes of a response, then lets go of the connection. */
function readStart(response: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      response.destroy();
      resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
    };
    response.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) done();
    });
    response.on('end', done);
    response.on('error', reject);
  });
}

/**
 * HTTP calls to addresses that users name (webhooks): only to public addresses unless told
 * otherwise, checked after DNS; bounded in time (connect, and the whole call) and in how much of
 * the answer is read; no redirects followed, no connection kept alive or shared.
 */
export function createOutboundHttp(options: OutboundHttpOptions): OutboundHttp {
  const { allowPrivate = false, connectTimeoutMs, responseTimeoutMs, maxBodyBytes = 1024 } = options;

  return {
    post(url, headers, body) {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        return Promise.reject(new OutboundRefusedError(`refused to call a ${target.protocol} URL`));
      }
      const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
      // A literal address is connected to without a lookup: it is checked here instead.
      if (!allowPrivate && isIP(host) && !isPublicAddress(host)) return Promise.reject(refusal());
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;

      return new Promise<OutboundResponse>((resolve, reject) => {
        const request = send(target, {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: false,
          ...(allowPrivate ? {} : { lookup: publicLookup }),
        });
        const fail = (error: Error) => {
          clearTimeout(overall);
          request.destroy(error);
          reject(error);
        };
        const overall = setTimeout(
          () => fail(new Error(`no complete answer within ${responseTimeoutMs} ms`)),
          responseTimeoutMs,
        );
        request.on('socket', (socket) => {
          if (!socket.connecting) return;
          const connecting = setTimeout(
            () => fail(new Error(`could not connect within ${connectTimeoutMs} ms`)),
            connectTimeoutMs,
          );
          socket.once('connect', () => clearTimeout(connecting));
          socket.once('close', () => clearTimeout(connecting));
        });
        request.on('error', fail);
        request.on('response', (response) => {
          readStart(response, maxBodyBytes).then((text) => {
            clearTimeout(overall);
            resolve({ status: response.statusCode ?? 0, body: text });
          }, fail);
        });
        request.end(body);
      });
    },
  };
}
