import { randomUUID } from 'node:crypto';
import type { Sql } from '../../src/db/sql';

/**
 * Writes funding data straight into PostgreSQL, as the workflows' activities would leave it,
 * for tests of read-side features (pipeline, digest, report) that need many rows in given
 * states without running each process. The pipeline read model is refreshed the same way the
 * activities refresh it.
 */

export interface SeedPeople {
  studentId: number;
  tutorId: number;
}

export async function seedFunder(sql: Sql, name: string, kind: 'public_funder' | 'foundation' = 'public_funder'): Promise<{ id: number; slug: string; name: string }> {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  const [row] = await sql<{ id: number }[]>`
    INSERT INTO organisations (slug, name, kind) VALUES (${slug}, ${name}, ${kind}) RETURNING id`;
  return { id: Number(row.id), slug, name };
}

export interface SeedApplication extends SeedPeople {
  funderId: number;
  programme?: string;
  amountRequestedCents: number;
  /** Default: in 30 days. */
  deadline?: Date;
  decisionExpectedOn?: string;
  stage?: 'drafting' | 'review' | 'signoff' | 'ready' | 'submitted' | 'awarded' | 'completed' | 'refused' | 'withdrawn';
  amountAwardedCents?: number;
  outcomeReason?: string;
  tranches?: { expectedOn: string; amountCents: number }[];
  reports?: { kind: 'interim' | 'final'; dueOn: string; submitted?: boolean }[];
  /** Money already received: tranche number, amount, day. */
  received?: { tranche: number; amountCents: number; on: string }[];
  nextAction?: { action: string; at: Date };
  createdAt?: Date;
}

const MILESTONES = [
  { key: 'draft', role: 'student', days: 21 },
  { key: 'tutor_review', role: 'tutor', days: 14 },
  { key: 'treasurer_signoff', role: 'treasurer', days: 7 },
  { key: 'submitted', role: 'student', days: 2 },
] as const;
const REACHED_BY_STAGE: Record<string, number> = { drafting: 0, review: 1, signoff: 2, ready: 3, submitted: 4, awarded: 4, completed: 4, refused: 4, withdrawn: 0 };

/** One funding application with its milestones, tranches, reports and money, in one transaction. */
export async function seedApplication(sql: Sql, a: SeedApplication): Promise<string> {
  const id = randomUUID();
  const deadline = a.deadline ?? new Date(Date.now() + 30 * 86_400_000);
  const stage = a.stage ?? 'drafting';
  const closed = ['completed', 'refused', 'withdrawn'].includes(stage);
  const createdAt = a.createdAt ?? new Date();
  await sql.begin(async (tx) => {
    await tx`
      INSERT INTO applications (id, organisation_id, programme, amount_requested_cents, amount_awarded_cents, deadline_at,
                                decision_expected_on, student_id, tutor_id, stage, workflow_id, policy, next_action, next_action_at,
                                outcome_reason, created_at, closed_at)
      VALUES (${id}, ${a.funderId}, ${a.programme ?? 'Appel à projets 2027'}, ${a.amountRequestedCents}, ${a.amountAwardedCents ?? null},
              ${deadline}, ${a.decisionExpectedOn ?? new Date(deadline.getTime() + 60 * 86_400_000).toISOString().slice(0, 10)},
              ${a.studentId}, ${a.tutorId}, ${stage}, ${`application-${id}`}, ${tx.json({})},
              ${a.nextAction?.action ?? null}, ${a.nextAction?.at ?? null}, ${a.outcomeReason ?? null}, ${createdAt},
              ${closed ? new Date() : null})`;
    await tx`INSERT INTO application_events (application_id, event_key, kind, stage, at) VALUES (${id}, ${`${id}:0`}, 'started', 'drafting', ${createdAt})`;
    for (const [i, m] of MILESTONES.entries()) {
      const reached = i < REACHED_BY_STAGE[stage];
      await tx`
        INSERT INTO application_milestones (application_id, key, position, owner_role, due_at, reached_at, reached_by)
        VALUES (${id}, ${m.key}, ${i + 1}, ${m.role}, ${new Date(deadline.getTime() - m.days * 86_400_000)},
                ${reached ? new Date() : null}, ${reached ? 'seed' : null})`;
    }
    for (const [i, t] of (a.tranches ?? []).entries()) {
      await tx`INSERT INTO application_tranches (application_id, n, expected_on, amount_cents) VALUES (${id}, ${i + 1}, ${t.expectedOn}, ${t.amountCents})`;
    }
    for (const [i, r] of (a.reports ?? []).entries()) {
      await tx`
        INSERT INTO application_reports (application_id, n, kind, due_on, submitted_at, submitted_by)
        VALUES (${id}, ${i + 1}, ${r.kind}, ${r.dueOn}, ${r.submitted ? new Date() : null}, ${r.submitted ? 'seed' : null})`;
    }
    for (const [i, m] of (a.received ?? []).entries()) {
      await tx`
        INSERT INTO money_received (kind, application_id, tranche_n, amount_cents, received_on, recorded_by, idempotency_key)
        VALUES ('application', ${id}, ${m.tranche}, ${m.amountCents}, ${m.on}, 'seed', ${`${id}:seed:${i}`})`;
    }
    if (stage === 'submitted' || REACHED_BY_STAGE[stage] >= 4) {
      await tx`INSERT INTO application_events (application_id, event_key, kind, stage) VALUES (${id}, ${`${id}:1`}, 'submitted', 'submitted')`;
    }
    if (['awarded', 'completed', 'refused'].includes(stage)) {
      await tx`
        INSERT INTO application_events (application_id, event_key, kind, stage, detail)
        VALUES (${id}, ${`${id}:2`}, 'decision_recorded', ${stage === 'refused' ? 'refused' : 'awarded'},
                ${tx.json({ outcome: stage === 'refused' ? 'refused' : 'awarded', amountAwardedCents: a.amountAwardedCents ?? null, reason: a.outcomeReason ?? null })})`;
    }
    await tx`SELECT pipeline_refresh_application(${id})`;
  });
  return id;
}

/** Money received on a sponsor dossier (sponsor payments come with issue 4's pledges). */
export async function seedSponsorPayment(sql: Sql, dossierId: string, amountCents: number, on: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`
      INSERT INTO money_received (kind, dossier_id, amount_cents, received_on, recorded_by, idempotency_key)
      VALUES ('sponsor', ${dossierId}, ${amountCents}, ${on}, 'seed', ${`${dossierId}:seed:${randomUUID()}`})`;
    await tx`SELECT pipeline_refresh_dossier(${dossierId})`;
  });
}

/** A sponsor dossier written directly (no workflow), in a given stage. */
export async function seedDossier(
  sql: Sql,
  d: SeedPeople & { organisationId: number; contactId: number; amountAskedCents: number; stage: string; closeReason?: string; createdAt?: Date },
): Promise<string> {
  const id = randomUUID();
  const closed = ['declined', 'opted_out', 'closed'].includes(d.stage);
  await sql.begin(async (tx) => {
    await tx`
      INSERT INTO dossiers (id, organisation_id, contact_id, student_id, tutor_id, amount_asked_cents, stage, workflow_id, policy,
                            close_reason, created_at, closed_at)
      VALUES (${id}, ${d.organisationId}, ${d.contactId}, ${d.studentId}, ${d.tutorId}, ${d.amountAskedCents}, ${d.stage},
              ${`sponsor-${d.organisationId}`}, ${tx.json({})}, ${d.closeReason ?? null}, ${d.createdAt ?? new Date()}, ${closed ? new Date() : null})`;
    await tx`INSERT INTO events (dossier_id, event_key, kind, stage, at) VALUES (${id}, ${`${id}:0`}, 'started', 'preparing', ${d.createdAt ?? new Date()})`;
    await tx`SELECT pipeline_refresh_dossier(${id})`;
  });
  return id;
}
