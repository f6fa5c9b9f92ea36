// `npm run api`: the HTTP API alone, against the services named by the environment or a running `npm start`.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { createSql } from '../db/sql';
import { describeError } from '../i18n/errors';
import { openMailStore } from '../mail/catcher';
import { resolveEndpoints } from '../runtime/discovery';
import { resolveSecret } from '../runtime/secret';
import { loadAssociation } from '../templates/association';
import { buildApp } from './app';

try {
  const config = loadConfig();
  const { databaseUrl, temporalAddress: address, mailDir } = await resolveEndpoints(config);
  if (!databaseUrl || !address) throw new ConfigError('DATABASE_URL et TEMPORAL_ADDRESS sont requis quand `npm start` ne tourne pas / are required when `npm start` is not running.');
  const sql = createSql(databaseUrl);
  const connection = await Connection.connect({ address });
  const association = await loadAssociation(config.templatesDir);
  const app = await buildApp({
    sql,
    client: new Client({ connection, namespace: config.temporal.namespace }),
    taskQueue: config.temporal.taskQueue,
    mailStore: mailDir ? openMailStore(mailDir) : null,
    secret: await resolveSecret(config.secret, config.dataDir),
    associationName: association.name,
    association,
    documentsDir: path.join(config.dataDir, 'documents'),
    logger: { level: config.logLevel },
    sending: config.sending,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      await app.close();
      await connection.close();
      await sql.end();
    });
  }
  await app.listen({ host: config.http.host, port: config.http.port });
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : describeError(error).message);
  process.exit(1);
}
