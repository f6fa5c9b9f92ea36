// A worker in its own process, so a test can kill it (SIGKILL) like a crashed machine.
// Configured by environment: TEST_DB_URL, TEST_SMTP_PORT, TEST_TEMPORAL_ADDRESS, TEST_TASK_QUEUE,
// TEST_BUNDLE, TEST_DATA_DIR. Prints "ready" once polling.
import { NativeConnection } from '@temporalio/worker';
import { createMeceneWorker, installRuntime } from '../../worker';
import { createActivities } from '../../src/activities';
import { createSql } from '../../src/db/sql';
import { buildTestActivityDeps } from './deps';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

installRuntime('ERROR'); // expected failures (SMTP down, killed workers) would flood the log
const sql = createSql(env('TEST_DB_URL'), { max: 4 });
const deps = await buildTestActivityDeps(sql, Number(env('TEST_SMTP_PORT')), env('TEST_DATA_DIR'));
const connection = await NativeConnection.connect({ address: env('TEST_TEMPORAL_ADDRESS') });
const worker = await createMeceneWorker({
  connection,
  namespace: 'default',
  taskQueue: env('TEST_TASK_QUEUE'),
  activities: createActivities(deps),
  workflowBundlePath: env('TEST_BUNDLE'),
  maxCachedWorkflows: process.env.MECENE_WORKFLOW_CACHE ? Number(process.env.MECENE_WORKFLOW_CACHE) : undefined,
});
process.once('SIGTERM', () => worker.shutdown());
const running = worker.run();
process.stdout.write('ready\n');
await running;
await connection.close();
await sql.end();
