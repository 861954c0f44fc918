import Fastify from 'fastify';

// The ceiling of this machine for one Node process answering small JSON over HTTP: what the
// service would reach if a lease cost nothing.
const app = Fastify({ logger: false });
app.post('/lease', async (request) => ({ ok: true, body: request.body }));
const address = await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
process.stdout.write(`${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
