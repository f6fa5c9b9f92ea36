import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationReport {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies `migrations/NNNN_name.sql` in order, each in its own transaction, once.
 * Concurrent starters serialise on an advisory lock; an edited migration that was already
 * applied is refused (migrations are never edited once merged: add a new one).
 */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
  const applied: string[] = [];
  let alreadyApplied = 0;
  for (const file of files) {
    const text = await readFile(new URL(file, `file://${dir.endsWith('/') ? dir : dir + '/'}`), 'utf8');
    const checksum = createHash('sha256').update(text).digest('hex');
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(727274)`;
      const [row] = await tx<{ checksum: string }[]>`SELECT checksum FROM schema_migrations WHERE version = ${file}`;
      if (row) {
        if (row.checksum !== checksum) {
          throw new Error(`Migration ${file} a été modifiée après application / was edited after being applied: add a new migration instead.`);
        }
        return false;
      }
      await tx.unsafe(text);
      await tx`INSERT INTO schema_migrations (version, checksum) VALUES (${file}, ${checksum})`;
      return true;
    });
    if (done) applied.push(file);
    else alreadyApplied++;
  }
  return { applied, alreadyApplied };
}
