import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Sql } from '../src/db/sql';
import { recordRelationshipReplyUpdate, sponsorOutreachId } from '../src/workflows/sponsor-outreach/messages';
import { benchRelationshipInput } from './relationship-input';
import { seedSponsors } from './seed';
import { percentile, pool, rssMiB } from './stats';


/** Starts N processes and returns once every one has sent its first email and waits on its timers. */
export async function fillWaiting(opts: { sql: Sql; client: Client; taskQueue: string; n: number; prefix: string }) {
  const seed = await seedSponsors(opts.sql, opts.n, opts.prefix);
  const started = performance.now();
  await pool(seed.sponsors, 50, (s) =>
    opts.client.workflow.start('sponsorOutreach', {
      taskQueue: opts.taskQueue,
      workflowId: sponsorOutreachId(s.id),
      workflowIdConflictPolicy: 'FAIL',
      args: [benchRelationshipInput(seed, s, 100_000)],
    }),
  );
  const ids = seed.sponsors.map((s) => s.id);
  for (;;) {
    const [{ count }] = await opts.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM dossiers WHERE organisation_id IN ${opts.sql(ids)} AND stage = 'contacted'`;
    if (count === opts.n) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { sponsors: seed.sponsors, fillSeconds: (performance.now() - started) / 1000 };
}

export interface WaitingFootprint {
  workerRssMb: number;
  serverRssMb: number;
  databaseMb: number;
  temporalDbMb: number;
}

export async function footprint(opts: { sql: Sql; databaseName: string; workerPid: number; serverPid: number; dir: string }): Promise<WaitingFootprint> {
  const [{ size }] = await opts.sql<{ size: string }[]>`SELECT pg_database_size(${opts.databaseName})::text AS size`;
  let temporalBytes = 0;
  for (const f of ['temporal.db', 'temporal.db-wal']) temporalBytes += await stat(path.join(opts.dir, f)).then((s) => s.size).catch(() => 0);
  return {
    workerRssMb: await rssMiB(opts.workerPid),
    serverRssMb: await rssMiB(opts.serverPid),
    databaseMb: Number(size) / 2 ** 20,
    temporalDbMb: temporalBytes / 2 ** 20,
  };
}

/**
 * Reaction latency: replies recorded one at a time through the HTTP API while the others
 * wait; each call returns once the follow-ups are cancelled and PostgreSQL has the stage.
 */
export async function reactionLatency(opts: { app: FastifyInstance; baseUrl: string; sql: Sql; slugs: { id: number; slug: string }[] }) {
  const latencies: number[] = [];
  for (const s of opts.slugs) {
    const t = performance.now();
    const res = await fetch(`${opts.baseUrl}/api/outreach/${s.slug}/reply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome: 'interested', note: 'bench' }) });
    latencies.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`reply ${s.slug}: ${res.status} ${await res.text()}`);
  }
  // Checked after the measure: every replied dossier has its stage in PostgreSQL.
  const [{ count }] = await opts.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM dossiers WHERE organisation_id IN ${opts.sql(opts.slugs.map((s) => s.id))} AND stage = 'interested' AND next_action = 'next_step_reminder'`;
  if (count !== opts.slugs.length) throw new Error(`reaction: ${count} of ${opts.slugs.length} stages written`);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), n: latencies.length };
}

/** Every waiting dossier receives a reply at once (50 in flight): seconds until all are closed. */
export async function drain(opts: { sql: Sql; client: Client; ids: number[] }): Promise<number> {
  const started = performance.now();
  await pool(opts.ids, 50, (id) => opts.client.workflow.getHandle(sponsorOutreachId(id)).executeUpdate(recordRelationshipReplyUpdate, { args: [{ outcome: 'declined', reason: 'other', note: 'bench' }] }));
  const [{ count }] = await opts.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM dossiers WHERE organisation_id IN ${opts.sql(opts.ids)} AND closed_at IS NOT NULL`;
  if (count !== opts.ids.length) throw new Error(`drain: ${count} of ${opts.ids.length} closed`);
  return (performance.now() - started) / 1000;
}

/** p95 of the treasurer's views over the whole history: the pipeline totals and the CSV export. */
export async function pipelineLatency(baseUrl: string, calls: number) {
  const measure = async (url: string) => {
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      const res = await fetch(`${baseUrl}${url}`);
      await res.arrayBuffer();
      times.push(performance.now() - t);
    }
    return { p50: percentile(times, 50), p95: percentile(times, 95) };
  };
  return { view: await measure('/api/pipeline'), csv: await measure('/api/outreach.csv') };
}
