import { readFile } from 'node:fs/promises';
import createClient from 'openapi-fetch';
import { Value } from 'typebox/value';
import { beforeAll, describe, expect, it } from 'vitest';
import type { paths } from './generated/openapi.js';
import { signInAdmin } from './helpers/admin.js';
import { PASSWORD, uniqueEmail } from './helpers/client.js';
import { eventReader, type StreamMessage } from './helpers/event-stream.js';
import { useHarness } from './helpers/harness.js';
import { DOCUMENT_PATH, documentText } from './helpers/openapi.js';

// The OpenAPI document proven usable, not just valid: the committed copy (what Spectral lints) is
// the served one, and a client built on the types generated from it (openapi-fetch, type-checked
// against test/generated/openapi.d.ts, which `npm run typecheck` writes first) takes a user through the API.

interface Document {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >;
}

interface StreamMessageSchema {
  properties: { event: { enum: string[] }; data: { contentSchema: object } };
}

/** Whether a message is one the document names for the stream at `path`, with the payload it documents. */
function documented(document: Document, path: string, message: StreamMessage): boolean {
  const media = document.paths[path]?.get?.responses['200']?.content?.['text/event-stream'];
  const schema = media?.schema as { anyOf: StreamMessageSchema[] } | undefined;
  const named = schema?.anyOf.find((option) => option.properties.event.enum.includes(message.event));
  return named !== undefined && Value.Check(named.properties.data.contentSchema, JSON.parse(message.data));
}

/** Reads Server-Sent Events until one satisfies `wanted`, and answers it. */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  wanted: (message: StreamMessage) => boolean,
): Promise<StreamMessage> {
  const stream = eventReader(body);
  try {
    return (await stream.until(wanted)).at(-1) as StreamMessage;
  } finally {
    await stream.close();
  }
}

const file = useHarness();
let served: Document;
let baseUrl: string;

beforeAll(async () => {
  served = (await file.harness.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  baseUrl = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
});

describe('the committed OpenAPI document', () => {
  it('is the one the app serves (run `npm run openapi` after changing a route)', async () => {
    expect(documentText(served)).toBe(await readFile(DOCUMENT_PATH, 'utf8'));
  });
});

describe('a client generated from the document', () => {
  it('takes a user through the API', { timeout: 60_000 }, async () => {
    const { harness } = file;
    const api = createClient<paths>({ baseUrl });
    let accessToken: string | undefined;
    api.use({
      onRequest: ({ request }) => {
        if (accessToken) request.headers.set('authorization', `Bearer ${accessToken}`);
        return request;
      },
    });
    const email = uniqueEmail('client');

    const registered = await api.POST('/api/v1/auth/register', {
      body: { name: 'Ada Lovelace', email, password: PASSWORD, birthDate: '1990-04-12' },
    });
    expect(registered.response.status, JSON.stringify(registered.error)).toBe(201);
    const userId = registered.data!.user.id;
    const login = await api.POST('/api/v1/auth/login', { body: { email, password: PASSWORD } });
    expect(login.data?.tokenType).toBe('Bearer');
    accessToken = login.data!.accessToken;

    const welcome = await harness.mailbox.waitFor(email, 'Welcome');
    const verifyLink = new URL(welcome.links.find((link) => link.includes('/verify-email?'))!);
    const verified = await api.POST('/api/v1/auth/verify-email', {
      body: { token: verifyLink.searchParams.get('token')! },
    });
    expect(verified.response.status).toBe(204);
    const me = await api.GET('/api/v1/users/me');
    expect(me.data).toMatchObject({ id: userId, email, name: 'Ada Lovelace', birthDate: '1990-04-12', role: 'user' });
    expect(me.data?.emailVerifiedAt).not.toBeNull();

    // The pool's stream, opened before the lease, tells of it as the document says it will.
    const events = await api.GET('/api/v1/tokens/events', { parseAs: 'stream' });
    expect(events.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const lease = await api.POST('/api/v1/tokens/lease', { body: {} });
    expect(lease.response.status).toBe(201);
    const tokenId = lease.data!.tokenId;
    expect(lease.data).toMatchObject({ userId, evictedUserId: null });
    const leased = await readUntil(events.data!, (message) => message.data.includes(tokenId));
    expect(leased.event).toBe('leased');
    expect(documented(served, '/api/v1/tokens/events', leased)).toBe(true);

    const active = await api.GET('/api/v1/tokens', { params: { query: { status: 'active' } } });
    expect(active.data?.data).toContainEqual(expect.objectContaining({ id: tokenId, status: 'active', userId }));
    const token = await api.GET('/api/v1/tokens/{id}', { params: { path: { id: tokenId } } });
    expect(token.data).toMatchObject({ id: tokenId, status: 'active', userId });
    expect(token.data?.history[0]).toMatchObject({ userId, endedAt: null });
    const released = await api.POST('/api/v1/tokens/{id}/release', { params: { path: { id: tokenId } } });
    expect(released.data).toMatchObject({ userId, endReason: 'released' });
    const again = await api.POST('/api/v1/tokens/{id}/release', { params: { path: { id: tokenId } } });
    expect(again.error?.code).toBe('TOKEN_NOT_ACTIVE');

    // page and pageSize have defaults, so the client need not send them.
    const logs = await api.GET('/api/v1/logs');
    expect(logs.data?.meta).toMatchObject({ page: 1, pageSize: 10 });
    expect(logs.data?.data.map((entry) => entry.action)).toEqual(
      expect.arrayContaining([
        'user.registered',
        'auth.login',
        'auth.email_verified',
        'token.leased',
        'token.released',
      ]),
    );

    const forgot = await api.POST('/api/v1/auth/forgot-password', { body: { email } });
    expect(forgot.response.status).toBe(202);
    const reset = await harness.mailbox.waitFor(email, 'Reset your Tokenpool password');
    const resetLink = new URL(reset.links.find((link) => link.includes('/reset-password?'))!);
    const newPassword = 'a new and longer passphrase';
    const changed = await api.POST('/api/v1/auth/reset-password', {
      body: { token: resetLink.searchParams.get('token')!, password: newPassword },
    });
    expect(changed.response.status).toBe(204);
    // A reset ends every session, this one too.
    expect((await api.GET('/api/v1/users/me')).error?.code).toBe('UNAUTHENTICATED');

    const relogin = await api.POST('/api/v1/auth/login', { body: { email, password: newPassword } });
    const refreshed = await api.POST('/api/v1/auth/refresh', { body: { refreshToken: relogin.data!.refreshToken } });
    expect(refreshed.data?.refreshToken).not.toBe(relogin.data?.refreshToken);
    accessToken = refreshed.data!.accessToken;
    expect((await api.GET('/api/v1/users/me')).data?.id).toBe(userId);

    const logout = await api.POST('/api/v1/auth/logout');
    expect(logout.response.status).toBe(204);
    const after = await api.GET('/api/v1/users/me');
    expect(after.response.status).toBe(401);
    expect(after.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('a client generated from the document, signed in as an admin', () => {
  it('imports users and follows the import to its end', { timeout: 60_000 }, async () => {
    const admin = await signInAdmin(file.harness);
    const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${admin.accessToken}` } });
    const csv = `name,email\nGrace Hopper,${uniqueEmail('grace')}\nNo Address,not-an-e-mail\n`;

    const queued = await api.POST('/api/v1/users/imports', {
      body: { file: csv },
      bodySerializer: ({ file }) => {
        const form = new FormData();
        form.append('file', new Blob([file], { type: 'text/csv' }), 'users.csv');
        return form;
      },
    });
    expect(queued.response.status, JSON.stringify(queued.error)).toBe(202);
    const id = queued.data!.id;
    expect(queued.response.headers.get('location')).toBe(`/api/v1/users/imports/${id}`);

    const events = await api.GET('/api/v1/users/imports/{id}/events', { params: { path: { id } }, parseAs: 'stream' });
    const last = await readUntil(events.data!, (message) => JSON.parse(message.data).status === 'completed');
    expect(last.event).toBe('progress');
    expect(documented(served, '/api/v1/users/imports/{id}/events', last)).toBe(true);

    const done = await api.GET('/api/v1/users/imports/{id}', { params: { path: { id } } });
    expect(done.data).toMatchObject({ status: 'completed', createdRows: 1, invalidRows: 1, percent: 100 });
    const listed = await api.GET('/api/v1/users/imports');
    expect(listed.data?.data.map((entry) => entry.id)).toContain(id);
    const bad = await api.GET('/api/v1/users/imports/{id}/errors.csv', { params: { path: { id } }, parseAs: 'text' });
    expect(bad.response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(bad.data).toMatch(/^"line","row","reason"\n"3",/);
  });
});
