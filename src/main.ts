import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { createMeceneWorker, installRuntime } from '../worker';
import { createActivities } from './activities';
import { buildApp } from './api/app';
import { loadConfigOrExit, type Config } from './config';
import { startEmbeddedDatabase } from './db/embedded';
import { migrate } from './db/migrate';
import { createSql } from './db/sql';
import { t } from './i18n';
import { describeError } from './i18n/errors';
import { startMailCatcher } from './mail/catcher';
import { buildActivityDeps } from './runtime/activity-deps';
import { clearRuntime, writeRuntime } from './runtime/discovery';
import { startDevServer } from './runtime/temporal-dev-server';
import { ensureDigestSchedule } from './service/digest';

/**
 * `npm start`: the whole system in the foreground, on embedded defaults unless the environment
 * points elsewhere. Stops in reverse order on Ctrl-C; everything persists under DATA_DIR.
 */
async function start(config: Config): Promise<void> {
  const log = pino({ level: config.logLevel, transport: { target: 'pino-pretty', options: { colorize: process.stdout.isTTY, ignore: 'pid,hostname' } } });
  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    log.info(t('start.stopping'));
    for (const stop of stops.reverse()) await stop().catch((error) => log.warn({ err: error }, 'stop'));
    log.info(t('start.stopped', { dir: config.dataDir }));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll().then(() => process.exit(0));
    });
  }
  try {
    log.info(t('start.header'));
    stops.push(() => clearRuntime(config.dataDir));

    // Database
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const db = await startEmbeddedDatabase(config.dataDir, config.embeddedDbPort);
      stops.push(() => db.close());
      databaseUrl = db.url;
    }
    const sql = createSql(databaseUrl);
    stops.push(() => sql.end({ timeout: 5 }));
    const migrations = await migrate(sql);
    log.info({ applied: migrations.applied, alreadyApplied: migrations.alreadyApplied }, 'migrations');

    // Temporal
    let address = config.temporal.address;
    let temporalUi: string | null = null;
    if (!address) {
      if (!config.temporal.cli) throw new Error('TEMPORAL_CLI manquant : lancez Mécène avec `npm start` / start Mécène with `npm start`.');
      const server = await startDevServer({
        cli: config.temporal.cli,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.temporal.port,
        uiPort: config.temporal.uiPort,
        namespace: config.temporal.namespace,
        retention: config.temporal.retention,
      });
      stops.push(() => server.stop());
      address = server.address;
      temporalUi = server.uiUrl;
    }

    // Mail
    let smtpUrl = config.smtpUrl;
    let smtp: { host: string; port: number } | null = null;
    const mailDir = path.join(config.dataDir, 'mail');
    let mailStore = null;
    if (!smtpUrl) {
      const catcher = await startMailCatcher({ dir: mailDir, port: config.catcherPort });
      stops.push(() => catcher.close());
      smtp = { host: catcher.host, port: catcher.port };
      smtpUrl = `smtp://${catcher.host}:${catcher.port}`;
      mailStore = catcher.store;
    }

    // Worker
    installRuntime();
    const deps = await buildActivityDeps(config, sql, smtpUrl);
    stops.push(async () => deps.transport.close());
    const workerConnection = await NativeConnection.connect({ address });
    stops.push(() => workerConnection.close());
    const worker = await createMeceneWorker({ connection: workerConnection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, activities: createActivities(deps), maxCachedWorkflows: config.temporal.workflowCache });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
    });

    // HTTP API
    const clientConnection = await Connection.connect({ address });
    stops.push(() => clientConnection.close());

    // The digest's schedule, created or brought in line with DIGEST_* once its worker polls.
    const digestSchedule = await ensureDigestSchedule({ client: new Client({ connection: clientConnection, namespace: config.temporal.namespace }), taskQueue: config.temporal.taskQueue }, config.digest, config.lang);
    log.info(t(`digest.ensure.${digestSchedule}`));
    const app = await buildApp({
      sql,
      client: new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
      taskQueue: config.temporal.taskQueue,
      mailStore,
      secret: deps.secret,
      associationName: deps.association.name,
      association: deps.association,
      documentsDir: deps.documentsDir,
      sending: config.sending,
    });
    await app.listen({ host: config.http.host, port: config.http.port });
    stops.push(() => app.close());
    const apiUrl = `http://${config.http.host}:${config.http.port}`;

    await writeRuntime(config.dataDir, { pid: process.pid, databaseUrl, temporalAddress: address, temporalUi, apiUrl, smtp, mailDir: smtp ? mailDir : null });
    const lines = [
      `  API HTTP        ${apiUrl}/api/health`,
      `  Temporal        ${address}${temporalUi ? `   (interface web : ${temporalUi})` : ''}`,
      `  PostgreSQL      ${config.databaseUrl ? '(DATABASE_URL)' : `${databaseUrl}   (PGlite, ${path.join(config.dataDir, 'pglite')})`}`,
      `  SMTP            ${smtp ? `smtp://${smtp.host}:${smtp.port}   (collecteur local : mecene mail list, ${apiUrl}/api/mail)` : '(SMTP_URL)'}`,
      `  Données / data  ${config.dataDir}`,
      `  CLI             npm run mecene -- --help`,
    ];
    process.stdout.write(`\n${lines.join('\n')}\n\n`);
    log.info(t('start.ready'));
    await running; // a worker that dies takes the stack down rather than leaving a half system
    if (!stopping) throw new Error('worker stopped');
  } catch (error) {
    log.error(describeError(error).message);
    await stopAll();
    process.exit(1);
  }
}

await start(loadConfigOrExit());
