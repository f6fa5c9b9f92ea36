import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from './src/activities';
import { loadConfigOrExit, type Config } from './src/config';
import { createSql } from './src/db/sql';
import { t } from './src/i18n';
import { describeError } from './src/i18n/errors';
import { buildActivityDeps } from './src/runtime/activity-deps';
import { resolveEndpoints } from './src/runtime/discovery';
import { ensureDigestSchedule } from './src/service/digest';

/** The workflows, reached by path: the worker bundles them for Temporal's sandbox. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./src/workflows/index.ts', import.meta.url));

/** The workflow bundle built ahead of time (tests, benchmarks): the code, quiet but for errors. */
export async function bundleMeceneWorkflows(): Promise<string> {
  const quiet = { info() {}, warn() {}, debug() {}, trace() {}, log() {}, error: console.error };
  return (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet as never })).code;
}

export interface MeceneWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ReturnType<typeof createActivities>;
  /** A bundle built ahead of time (tests, benchmarks); otherwise built at start (~2 s). */
  workflowBundlePath?: string;
  maxCachedWorkflows?: number;
}

/** The one worker of Mécène: every workflow and activity on one task queue. */
export async function createMeceneWorker(o: MeceneWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    activities: o.activities,
    ...(o.workflowBundlePath ? { workflowBundle: { codePath: o.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    // Explicit: the sticky cache is memory, and thousands of dossiers wait for weeks. A waiting
    // dossier evicted from it costs one replay when its timer fires or a reply comes.
    maxCachedWorkflows: o.maxCachedWorkflows ?? 1000,
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 50,
  });
}

let runtimeInstalled = false;
/** Quiet core logs: warnings and errors only (tests: errors only), once per process. */
export function installRuntime(level: 'WARN' | 'ERROR' = 'WARN'): void {
  if (runtimeInstalled) return;
  // Signals are ours: each entry point stops its parts in order (the SDK would drain the worker on its own).
  Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: [] });
  runtimeInstalled = true;
}

/** Standalone worker: `npm run worker`, against the services named by the environment or by a running `npm start`. */
async function main(config: Config): Promise<void> {
  const { databaseUrl, temporalAddress: address, smtpUrl } = await resolveEndpoints(config);
  if (!databaseUrl || !address || !smtpUrl) throw new Error('DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL are required when `npm start` is not running.');
  installRuntime();
  const sql = createSql(databaseUrl);
  const connection = await NativeConnection.connect({ address });
  try {
    const deps = await buildActivityDeps(config, sql, smtpUrl);
    const worker = await createMeceneWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, activities: createActivities(deps), maxCachedWorkflows: config.temporal.workflowCache });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
    const running = worker.run();
    // A deployment without `npm start` (external Temporal) runs this worker: the digest's schedule
    // is created or brought in line with DIGEST_* here, once the worker polls.
    try {
      const digestSchedule = await ensureDigestSchedule({ client: new Client({ connection, namespace: config.temporal.namespace }), taskQueue: config.temporal.taskQueue }, config.digest, config.lang);
      console.log(t(`digest.ensure.${digestSchedule}`));
    } catch (error) {
      worker.shutdown();
      await running.catch(() => {});
      throw error;
    }
    await running;
    deps.transport.close();
  } finally {
    await connection.close();
    await sql.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(loadConfigOrExit()).catch((error) => {
    console.error(describeError(error).message);
    process.exit(1);
  });
}
