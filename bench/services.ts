import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { resolveTemporalCli } from '../scripts/temporal-cli.mjs';
import { bundleMeceneWorkflows } from '../worker';
import type { Sql } from '../src/db/sql';
import { createScratchDatabase } from '../tests/support/database';
import { freePort, startDevServer, type DevServer } from '../src/runtime/temporal-dev-server';
import { startSink, type Sink } from './sink';

/**
 * The benchmark's own services, shaped like `npm start`: a file-backed Temporal dev server
 * (SQLite WAL), a fresh PostgreSQL database, an SMTP sink, and workers in child processes.
 */
export interface BenchServices {
  dir: string;
  server: DevServer;
  client: Client;
  connection: Connection;
  sql: Sql;
  databaseUrl: string;
  databaseName: string;
  sink: Sink;
  bundlePath: string;
  close(): Promise<void>;
}

export async function startServices(): Promise<BenchServices> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mecene-bench-'));
  const cli = process.env.TEMPORAL_CLI ?? resolveTemporalCli();
  const adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createScratchDatabase(adminUrl, `mecene_bench_${Date.now().toString(36)}`);
  const [server, bundle, sink] = await Promise.all([
    freePort().then((port) => startDevServer({ cli, port, dbFile: path.join(dir, 'temporal.db') })),
    bundleMeceneWorkflows(),
    startSink(),
  ]);
  const bundlePath = path.join(dir, 'workflows.js');
  await writeFile(bundlePath, bundle);
  const connection = await Connection.connect({ address: server.address });
  return {
    dir,
    server,
    client: new Client({ connection }),
    connection,
    sql: db.sql,
    databaseUrl: db.url,
    databaseName: db.name,
    sink,
    bundlePath,
    async close() {
      await connection.close();
      await sink.close();
      await server.stop();
      await db.drop();
    },
  };
}

/** A Mécène worker in its own process (as in production), on its own task queue. */
export async function startWorker(s: BenchServices, taskQueue: string, opts: { profileDir?: string; heapMb?: number } = {}): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('../tests/support/worker-process.ts', import.meta.url));
  const profile = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  if (opts.heapMb) profile.push(`--max-old-space-size=${opts.heapMb}`);
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    env: {
      ...process.env,
      TEST_DB_URL: s.databaseUrl,
      TEST_SMTP_PORT: String(s.sink.port),
      TEST_TEMPORAL_ADDRESS: s.server.address,
      TEST_TASK_QUEUE: taskQueue,
      TEST_BUNDLE: s.bundlePath,
      TEST_DATA_DIR: s.dir,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => String(c).includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`bench worker exited (${code})`)));
  });
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
