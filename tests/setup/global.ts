import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../../scripts/temporal-cli.mjs';
import { bundleMeceneWorkflows } from '../../worker';
import { freePort, startDevServer, type DevServer } from '../../src/runtime/temporal-dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    adminDatabaseUrl: string;
    workflowBundlePath: string;
    runId: string;
  }
}

let server: DevServer | undefined;

/**
 * One Temporal dev server and one workflow bundle for the whole run; each test file makes its
 * own throw-away PostgreSQL database (see tests/support/stack.ts).
 */
export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`SELECT 1`;
  } catch (error) {
    throw new Error(
      `PostgreSQL injoignable pour les tests (${adminDatabaseUrl.replace(/:[^:@/]*@/, ':***@')}) : démarrez-le ou définissez TEST_DATABASE_URL.\n` +
        `PostgreSQL unreachable for the tests: start it (pg_ctlcluster … main start) or set TEST_DATABASE_URL. (${(error as Error).message})`,
    );
  }
  const cli = process.env.TEMPORAL_CLI ?? resolveTemporalCli();
  const [port, bundle] = await Promise.all([freePort(), bundleMeceneWorkflows()]);
  server = await startDevServer({ cli, port });
  const workflowBundlePath = path.resolve('.tmp', `workflow-bundle-${runId}.js`);
  await mkdir(path.dirname(workflowBundlePath), { recursive: true });
  await writeFile(workflowBundlePath, bundle);

  project.provide('temporalAddress', server.address);
  project.provide('temporalCli', cli);
  project.provide('adminDatabaseUrl', adminDatabaseUrl);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('runId', runId);

  return async () => {
    await server?.stop();
    // Databases of this run that a crashed test file left behind.
    const left = await admin<{ datname: string }[]>`SELECT datname FROM pg_database WHERE datname LIKE ${`mecene_t_${runId}_%`}`;
    for (const { datname } of left) await admin.unsafe(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => {});
    await admin.end();
  };
}
