import type { Client } from '@temporalio/client';
import { createActivities } from '../src/activities';
import type { Sql } from '../src/db/sql';
import { recordRelationshipReplyUpdate, sponsorOutreachId } from '../src/workflows/sponsor-outreach/messages';
import { benchRelationshipInput } from './relationship-input';
import { buildTestActivityDeps } from '../tests/support/deps';
import { seedSponsors } from './seed';
import { pool } from './stats';

export const CONCURRENCY = 50;

const inputFor = (seed: Awaited<ReturnType<typeof seedSponsors>>, s: { id: number; slug: string; name: string; contactId: number }) => benchRelationshipInput(seed, s, 250_000);

/**
 * The campaign through Temporal: start N processes, and as each sponsor's first email goes
 * out, record its reply ("declined" closes the dossier). Seconds from first start to last close.
 */
export async function campaignWithTemporal(opts: { sql: Sql; client: Client; taskQueue: string; n: number; prefix: string }): Promise<number> {
  const seed = await seedSponsors(opts.sql, opts.n, opts.prefix);
  const ids = seed.sponsors.map((s) => s.id);
  const started = performance.now();
  const starting = pool(seed.sponsors, CONCURRENCY, (s) =>
    opts.client.workflow.start('sponsorOutreach', { taskQueue: opts.taskQueue, workflowId: sponsorOutreachId(s.id), args: [inputFor(seed, s)], workflowIdConflictPolicy: 'FAIL' }),
  );
  const replied = new Set<number>();
  const replies: Promise<unknown>[] = [];
  while (replied.size < ids.length) {
    const contacted = await opts.sql<{ organisation_id: number }[]>`
      SELECT organisation_id FROM dossiers WHERE organisation_id IN ${opts.sql(ids)} AND stage = 'contacted'`;
    const fresh = contacted.map((r) => Number(r.organisation_id)).filter((id) => !replied.has(id));
    fresh.forEach((id) => replied.add(id));
    replies.push(
      pool(fresh, CONCURRENCY, (id) =>
        opts.client.workflow.getHandle(sponsorOutreachId(id)).executeUpdate(recordRelationshipReplyUpdate, { args: [{ outcome: 'declined', reason: 'other', note: 'bench' }] }),
      ),
    );
    if (!fresh.length) await new Promise((r) => setTimeout(r, 50));
  }
  await starting;
  await Promise.all(replies);
  const [{ count }] = await opts.sql<{ count: number }[]>`
    SELECT count(*)::int AS count FROM dossiers WHERE organisation_id IN ${opts.sql(ids)} AND closed_at IS NOT NULL`;
  if (count !== opts.n) throw new Error(`campaign: ${count} of ${opts.n} dossiers closed`);
  return (performance.now() - started) / 1000;
}

/**
 * The same work as a plain script: the same activity code (PDF, outbox and SMTP, database
 * writes) called directly, same concurrency, no Temporal.
 */
export async function campaignBaseline(opts: { sql: Sql; smtpPort: number; dataDir: string; n: number; prefix: string }): Promise<number> {
  const seed = await seedSponsors(opts.sql, opts.n, opts.prefix);
  const deps = await buildTestActivityDeps(opts.sql, opts.smtpPort, opts.dataDir);
  const a = createActivities(deps);
  const started = performance.now();
  await pool(seed.sponsors, CONCURRENCY, async (s) => {
    const input = inputFor(seed, s);
    const d = input.dossierId;
    await a.openDossier(input);
    const doc = await a.renderProposal({ dossierId: d, version: 1 });
    await a.recordDossierStep({ dossierId: d, eventKey: `${d}:1`, kind: 'proposal_generated', stage: 'approved', detail: { documentId: doc.documentId }, next: null });
    await a.reserveSendSlot({ key: `${d}:initial`, domain: input.recipientDomain, notBefore: new Date().toISOString(), rules: input.timings.sendRules, dailyCap: input.timings.dailyCap, domainCap: input.timings.domainCap });
    const sent = await a.sendDossierEmail({ dossierId: d, key: `${d}:initial`, kind: 'initial', contactId: s.contactId });
    await a.recordDossierStep({ dossierId: d, eventKey: `${d}:2`, kind: 'email_sent', stage: 'contacted', detail: { messageId: sent.messageId }, next: { action: 'followup', n: 1, at: new Date().toISOString() } });
    await a.recordDossierStep({ dossierId: d, eventKey: `${d}:3`, kind: 'reply_recorded', stage: 'lost', detail: { outcome: 'declined' }, next: null, close: { reason: 'declined:other' } });
  });
  const elapsed = (performance.now() - started) / 1000;
  deps.transport.close();
  return elapsed;
}
