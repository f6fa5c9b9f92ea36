import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { createMeceneWorker, installRuntime } from '../../worker';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { buildApp } from '../../src/api/app';
import type { Sql } from '../../src/db/sql';
import type { SendSettings } from '../../src/domain/send-rules';
import { startMailCatcher, type MailCatcher } from '../../src/mail/catcher';
import type { OutreachDeps } from '../../src/service/outreach';
import { createScratchDatabase, type ScratchDatabase } from './database';
import { TEST_SECRET, buildTestActivityDeps } from './deps';

export type TestDatabase = ScratchDatabase;

/**
 * Tests send at any hour (CI runs at night and on Sundays) and far more than 40 emails a day:
 * the window is always open and the caps out of reach, except where a test sets its own.
 */
export const TEST_SENDING: SendSettings = { days: [1, 2, 3, 4, 5, 6, 7], opens: '00:00', closes: '24:00', blackouts: [], dailyCap: 100_000, domainCap: 100_000 };

/** A policy fragment for tests that are not about validation or holidays: the proposal goes at once, any day. */
export const SEND_NOW = { validation: 'none', holidays: false } as const;

/** A fresh, migrated database for one test file, named after the run (global setup drops leftovers). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const db = await createScratchDatabase(inject('adminDatabaseUrl'), `mecene_t_${inject('runId')}_${Math.random().toString(36).slice(2, 8)}`);
  // Workflow ids derive from sponsor ids (`sponsor-<id>`) and every test file shares one Temporal
  // server: each database numbers its organisations from its own random start, so two files
  // never start the same workflow id.
  await db.sql.unsafe(`ALTER TABLE organisations ALTER COLUMN id RESTART WITH ${1 + Math.floor(Math.random() * 1e9)}`);
  return db;
}

export interface TestStack {
  db: TestDatabase;
  sql: Sql;
  catcher: MailCatcher;
  client: Client;
  taskQueue: string;
  dataDir: string;
  deps: ActivityDeps;
  outreach: OutreachDeps;
  app: FastifyInstance;
  /** Starts the in-process worker (when not started by default). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The same wiring as `npm start` on real services: a throw-away database, a real SMTP catcher,
 * the run's Temporal dev server, a worker on a task queue of its own, and the HTTP app.
 */
export async function startTestStack(opts: { worker?: boolean } = {}): Promise<TestStack> {
  installRuntime('ERROR'); // expected failures (SMTP down, killed workers) would flood the log
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mecene-test-'));
  const catcher = await startMailCatcher({ dir: path.join(dataDir, 'mail'), port: 0 });
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `test-${Math.random().toString(36).slice(2, 10)}`;
  const deps = await buildTestActivityDeps(db.sql, catcher.port, dataDir);
  const app = await buildApp({ sql: db.sql, client, taskQueue, mailStore: catcher.store, secret: TEST_SECRET, associationName: deps.association.name, association: deps.association, documentsDir: deps.documentsDir, sending: TEST_SENDING });

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let workerConnection: NativeConnection | undefined;
  const stack: TestStack = {
    db,
    sql: db.sql,
    catcher,
    client,
    taskQueue,
    dataDir,
    deps,
    outreach: { sql: db.sql, client, taskQueue, sending: TEST_SENDING },
    app,
    async startWorker() {
      workerConnection ??= await NativeConnection.connect({ address });
      worker = await createMeceneWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        activities: createActivities(deps),
        workflowBundlePath: inject('workflowBundlePath'),
        maxCachedWorkflows: 100,
      });
      running = worker.run();
    },
    async stopWorker() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      worker = undefined;
    },
    async stop() {
      await stack.stopWorker();
      await app.close();
      await workerConnection?.close();
      await connection.close();
      deps.transport.close();
      await catcher.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}

/** The stage of the sponsor's dossier in PostgreSQL (undefined before its first step is written). */
export async function stageOf(sql: Sql, sponsorId: number): Promise<string | undefined> {
  const [row] = await sql<{ stage: string }[]>`SELECT stage FROM dossiers WHERE organisation_id = ${sponsorId} ORDER BY created_at DESC LIMIT 1`;
  return row?.stage;
}

/** Polls until `check` returns a truthy value (real services answer asynchronously). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as T;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Registers a student, a tutor and a sponsor with one contact; returns their identifiers. */
export async function seed(sql: Sql, suffix = Math.random().toString(36).slice(2, 7)) {
  const { addPerson } = await import('../../src/service/people');
  const { addSponsor } = await import('../../src/service/sponsors');
  const student = await addPerson(sql, { role: 'student', name: 'Camille Martin', email: `camille.${suffix}@etu.test` });
  const tutor = await addPerson(sql, { role: 'tutor', name: 'Jérôme Leroy', email: `jerome.${suffix}@tuteurs.test` });
  const sponsor = await addSponsor(sql, {
    name: `Fondation Société Générale ${suffix}`,
    kind: 'foundation',
    contactName: 'Hélène Dupré',
    contactEmail: `helene.${suffix}@fondation.test`,
    source: 'Salon des mécènes 2026',
  });
  return { student, tutor, sponsor };
}
