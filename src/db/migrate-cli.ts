// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the running `npm start`'s database).
import { ConfigError, loadConfig } from '../config';
import { describeError } from '../i18n/errors';
import { resolveEndpoints } from '../runtime/discovery';
import { migrate } from './migrate';
import { createSql } from './sql';

try {
  const config = loadConfig();
  const url = (await resolveEndpoints(config)).databaseUrl;
  if (!url) throw new ConfigError('DATABASE_URL manquant et `npm start` ne tourne pas / DATABASE_URL missing and `npm start` is not running.');
  const sql = createSql(url, { max: 1 });
  try {
    const report = await migrate(sql);
    console.log(
      report.applied.length
        ? `Migrations appliquées / applied: ${report.applied.join(', ')}`
        : `Base à jour / database up to date (${report.alreadyApplied} migration(s)).`,
    );
  } finally {
    await sql.end();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : describeError(error).message);
  process.exit(1);
}
