import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../src/infra/db/database.js';
import { databaseUrlFor, testEnvironment } from './helpers/environment.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string | undefined;
  }
}

/**
 * On real PostgreSQL, migrates one template database; each test file then gets a fresh copy of it
 * (CREATE DATABASE … TEMPLATE), which is much faster than migrating every time.
 */
export default async function setup(project: TestProject) {
  const { databaseUrl } = testEnvironment;
  if (!databaseUrl) {
    project.provide('templateDatabase', undefined);
    return;
  }
  const template = `tokenpool_template_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create database "${template}"`);
  const database = await createDatabase({ url: databaseUrlFor(databaseUrl, template), dataDir: '', poolSize: 1 });
  await database.migrate();
  await database.close();
  project.provide('templateDatabase', template);

  return async () => {
    await admin.query(`drop database if exists "${template}" with (force)`);
    await admin.end();
  };
}
