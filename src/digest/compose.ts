import type { Sql } from '../db/sql';

/**
 * What a digest says, read from PostgreSQL for one tutor or one treasurer at one moment.
 * Pure reads with the moment passed in (never `now()`), so the activity that sends a digest
 * and `mecene digest --preview` compose exactly the same thing for the same day.
 *
 * Rules (README "The fortnightly digest"):
 * - a tutor's digest covers the dossiers and applications whose tutor they are;
 * - awaiting validation: applications whose draft is done and whose tutor review is pending
 *   (stage `review`); sponsor dossiers' validation joins with the sponsor-pledge issue;
 * - escalated: open dossiers in stage `escalated`; open applications with an `escalated`
 *   event and no later progress (milestone reached, deadline moved, submitted, decided, withdrawn);
 * - stalled: open items with no event for `stalledDays`, except those already listed as awaiting
 *   or escalated, and applications waiting on the funder (`submitted`) or in the money phase
 *   (`awarded`), where silence is normal;
 * - deadlines: submission deadlines and pending milestones of applications not yet submitted,
 *   reports owed, due by the horizon (overdue ones included);
 * - meetings: open dossiers in stage `meeting` (dated meetings join with the pledge issue);
 * - money in: the ledger between the previous digest day (included) and this one (excluded);
 *   money expected: tranches not fully received, due by the horizon (overdue included).
 */

export interface DigestPeriod {
  /** The firing instant: stalled items are measured from it. */
  at: Date;
  /** The digest day in Paris (YYYY-MM-DD). */
  day: string;
  /** The previous digest day: money received from it (included) to `day` (excluded). */
  since: string;
  stalledDays: number;
  horizonDays: number;
}

/** A dossier (sponsor) or an application (funder and programme), and the student behind it. */
export interface DigestItem {
  kind: 'sponsor' | 'application';
  id: string;
  counterpart: string;
  slug: string;
  programme: string | null;
  student: string;
}

export type DeadlineKind = 'deadline' | 'milestone.draft' | 'milestone.tutor_review' | 'milestone.treasurer_signoff' | 'milestone.submitted' | 'report.interim' | 'report.final';

export interface Recipient {
  id: number;
  name: string;
  email: string;
}

export interface MoneyLine extends DigestItem {
  on: string;
  amountCents: number;
  trancheN: number | null;
}

export interface TutorDigest {
  role: 'tutor';
  recipient: Recipient;
  period: DigestPeriod;
  awaiting: (DigestItem & { since: Date | null; dueAt: Date; deadlineAt: Date })[];
  escalated: (DigestItem & { since: Date | null })[];
  stalled: (DigestItem & { stage: string; lastActivityAt: Date })[];
  deadlines: (DigestItem & { what: DeadlineKind; on: string })[];
  meetings: (DigestItem & { since: Date | null; note: string | null })[];
  moneyIn: MoneyLine[];
  moneyExpected: MoneyLine[];
}

export interface TreasurerDigest {
  role: 'treasurer';
  recipient: Recipient;
  period: DigestPeriod;
  moneyIn: MoneyLine[];
  /** Due from the digest day to the horizon. */
  moneyExpected: MoneyLine[];
  /** Due before the digest day and not fully received. */
  overdue: MoneyLine[];
  signoffs: (DigestItem & { tutor: string; amountCents: number; dueAt: Date; deadlineAt: Date })[];
  /** The campaign goal covering the digest day, if one is set. */
  goal: { label: string; amountCents: number; startsOn: string; endsOn: string; receivedCents: number; expectedCents: number } | null;
}

export type Digest = TutorDigest | TreasurerDigest;

/** Nothing to report: such a digest is not sent (the outbox records it as skipped). */
export function isEmptyDigest(d: Digest): boolean {
  if (d.role === 'tutor') {
    return [d.awaiting, d.escalated, d.stalled, d.deadlines, d.meetings, d.moneyIn, d.moneyExpected].every((list) => list.length === 0);
  }
  return d.goal === null && [d.moneyIn, d.moneyExpected, d.overdue, d.signoffs].every((list) => list.length === 0);
}

/** Who gets a digest: every tutor with at least one open dossier or application, and every treasurer. */
export async function digestRecipients(sql: Sql): Promise<(Recipient & { role: 'tutor' | 'treasurer' })[]> {
  const rows = await sql<(Recipient & { role: 'tutor' | 'treasurer' })[]>`
    SELECT p.id, p.name, p.email, p.role FROM people p
    WHERE (p.role = 'tutor' AND (EXISTS (SELECT 1 FROM dossiers d WHERE d.tutor_id = p.id AND d.closed_at IS NULL)
                                 OR EXISTS (SELECT 1 FROM applications a WHERE a.tutor_id = p.id AND a.closed_at IS NULL)))
       OR p.role = 'treasurer'
    ORDER BY p.role DESC, p.id`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

interface ItemRow {
  kind: 'sponsor' | 'application';
  id: string;
  counterpart: string;
  slug: string;
  programme: string | null;
  student: string;
}
const item = (r: ItemRow): DigestItem => ({ kind: r.kind, id: r.id, counterpart: r.counterpart, slug: r.slug, programme: r.programme, student: r.student });
const money = (r: ItemRow & { on_day: string; amount_cents: number; tranche_n: number | null }): MoneyLine => ({
  ...item(r),
  on: r.on_day,
  amountCents: Number(r.amount_cents),
  trancheN: r.tranche_n === null ? null : Number(r.tranche_n),
});

/** Stages of applications before submission: deadlines and milestones still matter. */
const BEFORE_SUBMISSION = ['drafting', 'review', 'signoff', 'ready'];
/** Events after which an application's escalation counts as resolved. */
const PROGRESS_EVENTS = ['milestone_reached', 'deadline_moved', 'submitted', 'decision_recorded', 'withdrawn', 'completed'];

async function recipient(sql: Sql, id: number): Promise<Recipient> {
  const [row] = await sql<Recipient[]>`SELECT id, name, email FROM people WHERE id = ${id}`;
  if (!row) throw new Error(`person ${id} not found`);
  return { ...row, id: Number(row.id) };
}

/** Money received in the period; `tutorId` null: everyone's (the treasurer). */
async function moneyIn(sql: Sql, p: DigestPeriod, tutorId: number | null) {
  const rows = await sql<(ItemRow & { on_day: string; amount_cents: number; tranche_n: number | null })[]>`
    SELECT m.kind, coalesce(d.id, a.id)::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student,
           to_char(m.received_on, 'YYYY-MM-DD') AS on_day, m.amount_cents, m.tranche_n
    FROM money_received m
    LEFT JOIN dossiers d ON d.id = m.dossier_id
    LEFT JOIN applications a ON a.id = m.application_id
    JOIN organisations o ON o.id = coalesce(d.organisation_id, a.organisation_id)
    JOIN people s ON s.id = coalesce(d.student_id, a.student_id)
    WHERE m.received_on >= ${p.since}::date AND m.received_on < ${p.day}::date
      AND (${tutorId}::bigint IS NULL OR coalesce(d.tutor_id, a.tutor_id) = ${tutorId})
    ORDER BY m.received_on, m.id`;
  return rows.map(money);
}

/**
 * Money expected and not yet (fully) received, due by the horizon: awarded applications'
 * tranches, the remainder of each. (Sponsor pledges join here with their issue.)
 */
async function moneyExpected(sql: Sql, p: DigestPeriod, tutorId: number | null) {
  const rows = await sql<(ItemRow & { on_day: string; amount_cents: number; tranche_n: number })[]>`
    SELECT 'application' AS kind, a.id::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student,
           to_char(t.expected_on, 'YYYY-MM-DD') AS on_day, t.n AS tranche_n,
           t.amount_cents - coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.application_id = a.id AND m.tranche_n = t.n), 0) AS amount_cents
    FROM application_tranches t
    JOIN applications a ON a.id = t.application_id
    JOIN organisations o ON o.id = a.organisation_id
    JOIN people s ON s.id = a.student_id
    WHERE a.stage = 'awarded' AND a.closed_at IS NULL
      AND t.expected_on <= ${p.day}::date + ${p.horizonDays}::int
      AND (${tutorId}::bigint IS NULL OR a.tutor_id = ${tutorId})
    ORDER BY t.expected_on, o.name, t.n`;
  return rows.filter((r) => Number(r.amount_cents) > 0).map(money);
}

/** The digest of one tutor: their students' dossiers and applications only. */
export async function tutorDigest(sql: Sql, tutorId: number, period: DigestPeriod): Promise<TutorDigest> {
  const p = period;
  const stalledBefore = new Date(p.at.getTime() - p.stalledDays * 86_400_000);
  const horizon = sql`${p.day}::date + ${p.horizonDays}::int`;
  const [who, awaiting, escalatedDossiers, escalatedApplications, meetings, deadlines, moneyInRows, expectedRows] = await Promise.all([
    recipient(sql, tutorId),
    sql<(ItemRow & { since: Date | null; due_at: Date; deadline_at: Date })[]>`
      SELECT 'application' AS kind, a.id::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student,
             dr.reached_at AS since, tr.due_at, a.deadline_at
      FROM applications a
      JOIN organisations o ON o.id = a.organisation_id
      JOIN people s ON s.id = a.student_id
      JOIN application_milestones dr ON dr.application_id = a.id AND dr.key = 'draft'
      JOIN application_milestones tr ON tr.application_id = a.id AND tr.key = 'tutor_review'
      WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND dr.reached_at IS NOT NULL AND tr.reached_at IS NULL
      ORDER BY tr.due_at, o.name`,
    sql<(ItemRow & { since: Date | null })[]>`
      SELECT 'sponsor' AS kind, d.id::text AS id, o.name AS counterpart, o.slug, NULL AS programme, s.name AS student,
             (SELECT max(e.at) FROM events e WHERE e.dossier_id = d.id AND e.kind = 'escalated') AS since
      FROM dossiers d JOIN organisations o ON o.id = d.organisation_id JOIN people s ON s.id = d.student_id
      WHERE d.tutor_id = ${tutorId} AND d.closed_at IS NULL AND d.stage = 'escalated'
      ORDER BY since NULLS LAST, o.name`,
    sql<(ItemRow & { since: Date })[]>`
      SELECT 'application' AS kind, a.id::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student, esc.at AS since
      FROM applications a
      JOIN organisations o ON o.id = a.organisation_id
      JOIN people s ON s.id = a.student_id
      CROSS JOIN LATERAL (SELECT max(e.at) AS at FROM application_events e WHERE e.application_id = a.id AND e.kind = 'escalated') esc
      WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND esc.at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM application_events r WHERE r.application_id = a.id AND r.kind IN ${sql(PROGRESS_EVENTS)} AND r.at > esc.at)
      ORDER BY esc.at, o.name`,
    sql<(ItemRow & { since: Date | null; note: string | null })[]>`
      SELECT 'sponsor' AS kind, d.id::text AS id, o.name AS counterpart, o.slug, NULL AS programme, s.name AS student,
             r.at AS since, nullif(trim(r.detail->>'note'), '') AS note
      FROM dossiers d JOIN organisations o ON o.id = d.organisation_id JOIN people s ON s.id = d.student_id
      LEFT JOIN LATERAL (SELECT e.at, e.detail FROM events e WHERE e.dossier_id = d.id AND e.kind = 'reply_recorded' ORDER BY e.at DESC LIMIT 1) r ON true
      WHERE d.tutor_id = ${tutorId} AND d.closed_at IS NULL AND d.stage = 'meeting'
      ORDER BY r.at NULLS LAST, o.name`,
    sql<(ItemRow & { what: DeadlineKind; on_day: string })[]>`
      SELECT * FROM (
        SELECT 'application' AS kind, a.id::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student,
               'deadline' AS what, to_char(a.deadline_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS on_day, 9 AS position
        FROM applications a JOIN organisations o ON o.id = a.organisation_id JOIN people s ON s.id = a.student_id
        WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND a.stage IN ${sql(BEFORE_SUBMISSION)}
          AND (a.deadline_at AT TIME ZONE 'Europe/Paris')::date <= ${horizon}
        UNION ALL
        SELECT 'application', a.id::text, o.name, o.slug, a.programme, s.name,
               'milestone.' || m.key, to_char(m.due_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD'), m.position
        FROM application_milestones m JOIN applications a ON a.id = m.application_id
        JOIN organisations o ON o.id = a.organisation_id JOIN people s ON s.id = a.student_id
        WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND a.stage IN ${sql(BEFORE_SUBMISSION)} AND m.reached_at IS NULL
          AND (m.due_at AT TIME ZONE 'Europe/Paris')::date <= ${horizon}
        UNION ALL
        SELECT 'application', a.id::text, o.name, o.slug, a.programme, s.name,
               'report.' || r.kind, to_char(r.due_on, 'YYYY-MM-DD'), 10 + r.n
        FROM application_reports r JOIN applications a ON a.id = r.application_id
        JOIN organisations o ON o.id = a.organisation_id JOIN people s ON s.id = a.student_id
        WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND r.submitted_at IS NULL AND r.due_on <= ${horizon}
      ) x ORDER BY x.on_day, x.counterpart, x.position`,
    moneyIn(sql, p, tutorId),
    moneyExpected(sql, p, tutorId),
  ]);

  const escalated = [...escalatedDossiers, ...escalatedApplications];
  const listed = new Set([...awaiting, ...escalated].map((r) => r.id));
  const stalledRows = await sql<(ItemRow & { stage: string; last_at: Date })[]>`
    SELECT * FROM (
      SELECT 'sponsor' AS kind, d.id::text AS id, o.name AS counterpart, o.slug, NULL AS programme, s.name AS student, d.stage,
             coalesce((SELECT max(e.at) FROM events e WHERE e.dossier_id = d.id), d.created_at) AS last_at
      FROM dossiers d JOIN organisations o ON o.id = d.organisation_id JOIN people s ON s.id = d.student_id
      WHERE d.tutor_id = ${tutorId} AND d.closed_at IS NULL
      UNION ALL
      SELECT 'application', a.id::text, o.name, o.slug, a.programme, s.name, a.stage,
             coalesce((SELECT max(e.at) FROM application_events e WHERE e.application_id = a.id), a.created_at)
      FROM applications a JOIN organisations o ON o.id = a.organisation_id JOIN people s ON s.id = a.student_id
      WHERE a.tutor_id = ${tutorId} AND a.closed_at IS NULL AND a.stage NOT IN ('submitted', 'awarded')
    ) x WHERE x.last_at < ${stalledBefore} ORDER BY x.last_at, x.counterpart`;

  return {
    role: 'tutor',
    recipient: who,
    period,
    awaiting: awaiting.map((r) => ({ ...item(r), since: r.since, dueAt: r.due_at, deadlineAt: r.deadline_at })),
    escalated: escalated.map((r) => ({ ...item(r), since: r.since })),
    stalled: stalledRows.filter((r) => !listed.has(r.id)).map((r) => ({ ...item(r), stage: r.stage, lastActivityAt: r.last_at })),
    deadlines: deadlines.map((r) => ({ ...item(r), what: r.what, on: r.on_day })),
    meetings: meetings.map((r) => ({ ...item(r), since: r.since, note: r.note })),
    moneyIn: moneyInRows,
    moneyExpected: expectedRows,
  };
}

/** The treasurer's digest: money only, across every dossier and application. */
export async function treasurerDigest(sql: Sql, treasurerId: number, period: DigestPeriod): Promise<TreasurerDigest> {
  const p = period;
  const [who, moneyInRows, expectedRows, signoffs, goals] = await Promise.all([
    recipient(sql, treasurerId),
    moneyIn(sql, p, null),
    moneyExpected(sql, p, null),
    sql<(ItemRow & { tutor: string; amount_cents: number; due_at: Date; deadline_at: Date })[]>`
      SELECT 'application' AS kind, a.id::text AS id, o.name AS counterpart, o.slug, a.programme, s.name AS student, t.name AS tutor,
             a.amount_requested_cents AS amount_cents, ts.due_at, a.deadline_at
      FROM applications a
      JOIN organisations o ON o.id = a.organisation_id
      JOIN people s ON s.id = a.student_id
      JOIN people t ON t.id = a.tutor_id
      JOIN application_milestones tr ON tr.application_id = a.id AND tr.key = 'tutor_review'
      JOIN application_milestones ts ON ts.application_id = a.id AND ts.key = 'treasurer_signoff'
      WHERE a.closed_at IS NULL AND tr.reached_at IS NOT NULL AND ts.reached_at IS NULL
      ORDER BY ts.due_at, o.name`,
    sql<{ label: string; amount_cents: number; starts_on: string; ends_on: string }[]>`
      SELECT label, amount_cents, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, to_char(ends_on, 'YYYY-MM-DD') AS ends_on
      FROM campaign_goals WHERE starts_on <= ${p.day}::date AND ends_on >= ${p.day}::date
      ORDER BY set_at DESC, id DESC LIMIT 1`,
  ]);
  let goal: TreasurerDigest['goal'] = null;
  if (goals[0]) {
    const g = goals[0];
    const [totals] = await sql<{ received: number; expected: number }[]>`
      SELECT
        (SELECT coalesce(sum(m.amount_cents), 0) FROM money_received m
          WHERE m.received_on >= ${g.starts_on}::date AND m.received_on <= ${g.ends_on}::date AND m.received_on < ${p.day}::date) AS received,
        (SELECT coalesce(sum(greatest(t.amount_cents - coalesce((SELECT sum(m.amount_cents) FROM money_received m
                                                                 WHERE m.application_id = t.application_id AND m.tranche_n = t.n), 0), 0)), 0)
           FROM application_tranches t JOIN applications a ON a.id = t.application_id
          WHERE a.stage = 'awarded' AND a.closed_at IS NULL AND t.expected_on <= ${g.ends_on}::date) AS expected`;
    goal = { label: g.label, amountCents: Number(g.amount_cents), startsOn: g.starts_on, endsOn: g.ends_on, receivedCents: Number(totals.received), expectedCents: Number(totals.expected) };
  }
  return {
    role: 'treasurer',
    recipient: who,
    period,
    moneyIn: moneyInRows,
    moneyExpected: expectedRows.filter((m) => m.on >= p.day),
    overdue: expectedRows.filter((m) => m.on < p.day),
    signoffs: signoffs.map((r) => ({ ...item(r), tutor: r.tutor, amountCents: Number(r.amount_cents), dueAt: r.due_at, deadlineAt: r.deadline_at })),
    goal,
  };
}
