import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { noteLoopbackOnly } from './start-notice.js';

const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), SMTP_URL: 'smtp://m:25', DATA_DIR: '/srv/tp' };

function warnings(env: Record<string, string>): string[] {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line).msg) });
  noteLoopbackOnly({ config: loadConfig(env), logger });
  return lines;
}

describe('the loopback note', () => {
  it('says, in production, that a service on loopback only answers its own machine', () => {
    expect(warnings(PRODUCTION)).toEqual([expect.stringContaining('listening on 127.0.0.1 only')]);
    expect(warnings({ ...PRODUCTION, HOST: '0.0.0.0' })).toEqual([]);
    expect(warnings({})).toEqual([]);
  });
});
