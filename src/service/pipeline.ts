import { z } from 'zod';
import type { Sql } from '../db/sql';
import { MeceneError } from '../domain/errors';
import { email } from '../domain/schemas';
import { receivedVsGoalSvg, stagesSvg } from '../documents/pipeline-chart';
import { currentLanguage, t, type Lang, type MessageKey } from '../i18n';
import { addDays, goalProgress, today as parisToday, isoDay, type GoalProgress } from './goal';
import { personWithRole } from './people';
import { parseInput } from './validate';

/**
 * The treasurer's pipeline: every sponsor dossier and funding application in one read model
 * (`pipeline_items`, rewritten by the activities in the transaction that moves the process, see
 * migrations/0002_funding.sql and 0003_pipeline.sql), summed by stage in SQL, with the campaign
 * goal, overdue money and reports, and the money expected in the next 30 days.
 */

export const PIPELINE_KINDS = ['sponsor', 'application'] as const;
export type PipelineKind = (typeof PIPELINE_KINDS)[number];
export const PIPELINE_STATUSES = ['open', 'won', 'lost', 'withdrawn'] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

/** Stages in the order a process goes through them (the order of tables and charts). */
export const STAGE_ORDER: Record<PipelineKind, readonly string[]> = {
  sponsor: ['preparing', 'contacted', 'followed_up', 'escalated', 'interested', 'meeting', 'declined', 'opted_out', 'closed'],
  application: ['drafting', 'review', 'signoff', 'ready', 'submitted', 'awarded', 'completed', 'refused', 'withdrawn'],
};

/** The four amounts of the pipeline, in integer cents. */
export interface PipelineMoney {
  askedCents: number;
  /** Pledged (sponsors) or awarded (applications). */
  committedCents: number;
  receivedCents: number;
  /** Received plus what is still expected weighted by the probability (see pipeline_weigh). */
  weightedCents: number;
}

export interface StageTotal extends PipelineMoney {
  kind: PipelineKind;
  stage: string;
  count: number;
}

export interface StatusTotal extends PipelineMoney {
  status: PipelineStatus;
  count: number;
}

export interface PersonRef {
  id: number;
  name: string;
  email: string;
}

export interface OverduePayment {
  refId: string;
  kind: PipelineKind;
  counterpart: string;
  title: string | null;
  owner: PersonRef;
  /** The tranche (applications); null for money expected without tranches. */
  trancheN: number | null;
  dueOn: string;
  /** What is still expected for that tranche. */
  expectedCents: number;
  daysLate: number;
}

export interface OverdueReport {
  refId: string;
  kind: PipelineKind;
  counterpart: string;
  title: string | null;
  owner: PersonRef;
  reportN: number;
  reportKind: 'interim' | 'final';
  dueOn: string;
  daysLate: number;
}

export interface ExpectedMoney {
  refId: string;
  kind: PipelineKind;
  counterpart: string;
  title: string | null;
  owner: PersonRef;
  trancheN: number | null;
  expectedOn: string;
  expectedCents: number;
}

export interface PipelineSummary {
  /** The day the summary is computed for (Paris), YYYY-MM-DD. */
  today: string;
  /** Per kind and stage, in process order; only stages that hold items. */
  stages: StageTotal[];
  byStatus: StatusTotal[];
  totals: PipelineMoney & { count: number };
  goal: GoalProgress | null;
  overduePayments: OverduePayment[];
  overdueReports: OverdueReport[];
  next30Days: { from: string; to: string; totalCents: number; items: ExpectedMoney[] };
}

const cents = (v: unknown) => Number(v ?? 0);
const person = (id: unknown, name: string, mail: string): PersonRef => ({ id: Number(id), name, email: mail });
const stageRank = (kind: PipelineKind, stage: string) => {
  const i = STAGE_ORDER[kind].indexOf(stage);
  return i < 0 ? STAGE_ORDER[kind].length : i;
};

/** The stage in words ("rendez-vous", "déposée"); the code itself when no label exists. */
export function stageLabel(stage: string, lang: Lang = currentLanguage()): string {
  const key = `stage.${stage}` as MessageKey;
  const label = t(key, {}, lang);
  return label === key ? stage : label;
}

export const kindLabel = (kind: PipelineKind, lang: Lang = currentLanguage()) => t(`pipeline.kind.${kind}`, {}, lang);
export const statusLabel = (status: PipelineStatus, lang: Lang = currentLanguage()) => t(`pipeline.status.${status}`, {}, lang);

const sumMoney = <T extends PipelineMoney & { count: number }>(rows: T[]) =>
  rows.reduce(
    (s, r) => ({
      count: s.count + r.count,
      askedCents: s.askedCents + r.askedCents,
      committedCents: s.committedCents + r.committedCents,
      receivedCents: s.receivedCents + r.receivedCents,
      weightedCents: s.weightedCents + r.weightedCents,
    }),
    { count: 0, askedCents: 0, committedCents: 0, receivedCents: 0, weightedCents: 0 },
  );

/**
 * The pipeline as it stands on a day (default: today in Paris). Sums are computed by
 * PostgreSQL over the read model (a few dozen groups come back), so the view stays fast over
 * tens of thousands of dossiers.
 */
export async function pipelineSummary(sql: Sql, opts: { today?: string } = {}): Promise<PipelineSummary> {
  const day = opts.today ? parseInput(isoDay, opts.today) : parisToday();
  const horizon = addDays(day, 30);
  const [groups, goal, overduePayments, overdueReports, expected] = await Promise.all([
    sql<{ kind: PipelineKind; stage: string; status: PipelineStatus; count: number; asked: bigint; committed: bigint; received: bigint; weighted: bigint }[]>`
      SELECT kind, stage, status, count(*)::int AS count,
             sum(asked_cents)::bigint AS asked, sum(committed_cents)::bigint AS committed,
             sum(received_cents)::bigint AS received, sum(weighted_cents)::bigint AS weighted
      FROM pipeline_items GROUP BY kind, stage, status`,
    goalProgress(sql, day),
    // Every tranche past due and not fully paid, on items whose next payment is overdue (the
    // `pipeline` view's overdue_payment, counted on `day`). Items without tranches (sponsor
    // pledges, later) show what is committed and not yet received.
    sql<any[]>`
      SELECT p.ref_id, p.kind, p.counterpart, p.title, p.owner_id, o.name AS owner_name, o.email AS owner_email,
             t.n AS tranche_n, coalesce(t.expected_on, p.next_payment_due_on)::text AS due_on,
             coalesce(t.amount_cents - t.received, greatest(p.committed_cents - p.received_cents, 0))::bigint AS expected,
             (${day}::date - coalesce(t.expected_on, p.next_payment_due_on))::int AS days_late
      FROM pipeline_items p
      JOIN people o ON o.id = p.owner_id
      LEFT JOIN LATERAL (
        SELECT t.n, t.expected_on, t.amount_cents,
               coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.application_id = t.application_id AND m.tranche_n = t.n), 0) AS received
        FROM application_tranches t WHERE t.application_id = p.ref_id AND t.expected_on < ${day}::date
      ) t ON true
      WHERE p.status IN ('open', 'won') AND p.next_payment_due_on < ${day}::date
        AND (t.n IS NULL OR t.amount_cents > t.received)
      ORDER BY due_on, p.counterpart, t.n`,
    sql<any[]>`
      SELECT p.ref_id, p.kind, p.counterpart, p.title, p.owner_id, o.name AS owner_name, o.email AS owner_email,
             r.n, r.kind AS report_kind, r.due_on::text AS due_on, (${day}::date - r.due_on)::int AS days_late
      FROM pipeline_items p
      JOIN people o ON o.id = p.owner_id
      JOIN application_reports r ON r.application_id = p.ref_id AND r.submitted_at IS NULL AND r.due_on < ${day}::date
      WHERE p.status IN ('open', 'won') AND p.next_report_due_on < ${day}::date
      ORDER BY r.due_on, p.counterpart, r.n`,
    // Money expected from today to today + 30: tranches not fully received. (Sponsor pledge
    // instalments join here with a UNION when pledges exist.)
    sql<any[]>`
      SELECT p.ref_id, p.kind, p.counterpart, p.title, p.owner_id, o.name AS owner_name, o.email AS owner_email,
             t.n AS tranche_n, t.expected_on::text AS expected_on, (t.amount_cents - coalesce(r.cents, 0))::bigint AS expected
      FROM application_tranches t
      JOIN pipeline_items p ON p.ref_id = t.application_id
      JOIN people o ON o.id = p.owner_id
      LEFT JOIN LATERAL (SELECT sum(m.amount_cents) AS cents FROM money_received m WHERE m.application_id = t.application_id AND m.tranche_n = t.n) r ON true
      WHERE t.expected_on BETWEEN ${day}::date AND ${horizon}::date
        AND p.status IN ('open', 'won') AND t.amount_cents > coalesce(r.cents, 0)
      ORDER BY t.expected_on, p.counterpart, t.n`,
  ]);

  const byStage = new Map<string, StageTotal>();
  const byStatus = new Map<PipelineStatus, StatusTotal>();
  for (const g of groups) {
    const money = { count: g.count, askedCents: cents(g.asked), committedCents: cents(g.committed), receivedCents: cents(g.received), weightedCents: cents(g.weighted) };
    const stageKey = `${g.kind}:${g.stage}`;
    const s = byStage.get(stageKey);
    byStage.set(stageKey, s ? { ...s, ...sumMoney([s, money]) } : { kind: g.kind, stage: g.stage, ...money });
    const st = byStatus.get(g.status);
    byStatus.set(g.status, st ? { ...st, ...sumMoney([st, money]) } : { status: g.status, ...money });
  }
  const stages = [...byStage.values()].sort(
    (a, b) => PIPELINE_KINDS.indexOf(a.kind) - PIPELINE_KINDS.indexOf(b.kind) || stageRank(a.kind, a.stage) - stageRank(b.kind, b.stage) || a.stage.localeCompare(b.stage),
  );
  const items = expected.map(
    (r): ExpectedMoney => ({
      refId: r.ref_id, kind: r.kind, counterpart: r.counterpart, title: r.title, owner: person(r.owner_id, r.owner_name, r.owner_email),
      trancheN: r.tranche_n, expectedOn: r.expected_on, expectedCents: cents(r.expected),
    }),
  );
  return {
    today: day,
    stages,
    byStatus: PIPELINE_STATUSES.filter((s) => byStatus.has(s)).map((s) => byStatus.get(s)!),
    totals: sumMoney(stages),
    goal,
    overduePayments: overduePayments.map((r) => ({
      refId: r.ref_id, kind: r.kind, counterpart: r.counterpart, title: r.title, owner: person(r.owner_id, r.owner_name, r.owner_email),
      trancheN: r.tranche_n, dueOn: r.due_on, expectedCents: cents(r.expected), daysLate: r.days_late,
    })),
    overdueReports: overdueReports.map((r) => ({
      refId: r.ref_id, kind: r.kind, counterpart: r.counterpart, title: r.title, owner: person(r.owner_id, r.owner_name, r.owner_email),
      reportN: r.n, reportKind: r.report_kind, dueOn: r.due_on, daysLate: r.days_late,
    })),
    next30Days: { from: day, to: horizon, totalCents: items.reduce((s, i) => s + i.expectedCents, 0), items },
  };
}

/** One row of the read model as the treasurer reads it. */
export interface PipelineItem extends PipelineMoney {
  refId: string;
  kind: PipelineKind;
  counterpart: string;
  counterpartSlug: string;
  title: string | null;
  owner: PersonRef;
  tutor: PersonRef;
  stage: string;
  status: PipelineStatus;
  /** The effective probability (percent) and the treasurer's override, if any. */
  probability: number;
  probabilityOverride: number | null;
  expectedMoneyOn: string | null;
  nextPaymentDueOn: string | null;
  nextReportDueOn: string | null;
  nextAction: string | null;
  nextActionAt: string | null;
  lastContactAt: string | null;
  openedAt: string;
  closedAt: string | null;
  overduePayment: boolean;
  overdueReport: boolean;
}

export const itemFilters = z.strictObject({
  kind: z.enum(PIPELINE_KINDS).optional(),
  status: z.enum(PIPELINE_STATUSES).optional(),
  stage: z.string().trim().regex(/^[a-z_]+$/).optional(),
  tutor: email.optional(),
  owner: email.optional(),
  /** Only items with an overdue payment or report. */
  overdue: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
  limit: z.coerce.number().int().min(1).max(20_000).default(500),
  offset: z.coerce.number().int().min(0).default(0),
});
export type ItemFilters = z.input<typeof itemFilters>;

const ITEM_COLUMNS = (sql: Sql, day: string) => sql`
  p.ref_id, p.kind, p.counterpart, p.counterpart_slug, p.title, p.stage, p.status,
  p.asked_cents, p.committed_cents, p.received_cents, p.weighted_cents, p.probability, p.probability_override,
  p.expected_money_on::text AS expected_money_on, p.next_payment_due_on::text AS next_payment_due_on,
  p.next_report_due_on::text AS next_report_due_on, p.next_action, p.next_action_at, p.last_contact_at, p.opened_at, p.closed_at,
  o.id AS owner_id, o.name AS owner_name, o.email AS owner_email, tu.id AS tutor_id, tu.name AS tutor_name, tu.email AS tutor_email,
  coalesce(p.status IN ('open', 'won') AND p.next_payment_due_on < ${day}::date, false) AS overdue_payment,
  coalesce(p.status IN ('open', 'won') AND p.next_report_due_on < ${day}::date, false) AS overdue_report`;

const toItem = (r: any): PipelineItem => ({
  refId: r.ref_id,
  kind: r.kind,
  counterpart: r.counterpart,
  counterpartSlug: r.counterpart_slug,
  title: r.title,
  owner: person(r.owner_id, r.owner_name, r.owner_email),
  tutor: person(r.tutor_id, r.tutor_name, r.tutor_email),
  stage: r.stage,
  status: r.status,
  askedCents: cents(r.asked_cents),
  committedCents: cents(r.committed_cents),
  receivedCents: cents(r.received_cents),
  weightedCents: cents(r.weighted_cents),
  probability: r.probability,
  probabilityOverride: r.probability_override,
  expectedMoneyOn: r.expected_money_on,
  nextPaymentDueOn: r.next_payment_due_on,
  nextReportDueOn: r.next_report_due_on,
  nextAction: r.next_action,
  nextActionAt: r.next_action_at?.toISOString() ?? null,
  lastContactAt: r.last_contact_at?.toISOString() ?? null,
  openedAt: r.opened_at.toISOString(),
  closedAt: r.closed_at?.toISOString() ?? null,
  overduePayment: r.overdue_payment,
  overdueReport: r.overdue_report,
});

async function personId(sql: Sql, address: string | undefined): Promise<number | null> {
  if (!address) return null;
  const [row] = await sql<{ id: number }[]>`SELECT id FROM people WHERE email = ${address}`;
  if (!row) throw new MeceneError('error.unknownPerson', { email: address }, 404);
  return Number(row.id);
}

/** Items of the pipeline, filtered; `total` counts every match, `items` holds one page. */
export async function pipelineItems(sql: Sql, raw: unknown = {}): Promise<{ total: number; limit: number; offset: number; items: PipelineItem[] }> {
  const f = parseInput(itemFilters, raw);
  const day = parisToday();
  const [tutorId, ownerId] = await Promise.all([personId(sql, f.tutor), personId(sql, f.owner)]);
  const rows = await sql<any[]>`
    SELECT ${ITEM_COLUMNS(sql, day)}, count(*) OVER () AS total
    FROM pipeline_items p JOIN people o ON o.id = p.owner_id JOIN people tu ON tu.id = p.tutor_id
    WHERE true
      ${f.kind ? sql`AND p.kind = ${f.kind}` : sql``}
      ${f.status ? sql`AND p.status = ${f.status}` : sql``}
      ${f.stage ? sql`AND p.stage = ${f.stage}` : sql``}
      ${tutorId !== null ? sql`AND p.tutor_id = ${tutorId}` : sql``}
      ${ownerId !== null ? sql`AND p.owner_id = ${ownerId}` : sql``}
      ${f.overdue ? sql`AND p.status IN ('open', 'won') AND (p.next_payment_due_on < ${day}::date OR p.next_report_due_on < ${day}::date)` : sql``}
    ORDER BY p.kind DESC, p.status = 'open' DESC, p.opened_at DESC, p.ref_id
    LIMIT ${f.limit} OFFSET ${f.offset}`;
  return { total: rows.length ? Number(rows[0].total) : 0, limit: f.limit, offset: f.offset, items: rows.map(toItem) };
}

/** A reference typed by a person: a full id or its first 8 or more hex digits (dashes optional). */
export const itemRef = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s) => s.replace(/-/g, ''))
  .pipe(z.string().regex(/^[0-9a-f]{8,32}$/, 'identifiant attendu : 8 chiffres hexadécimaux ou plus / identifier expected: 8 hex digits or more'));

const asUuid = (hex32: string) => `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;

/** The item a reference designates (a range scan on the primary key); clear errors when none or several. */
export async function requireItem(sql: Sql, ref: string): Promise<PipelineItem> {
  const { ref: hex } = parseInput(z.object({ ref: itemRef }), { ref });
  const low = asUuid(hex.padEnd(32, '0'));
  const high = asUuid(hex.padEnd(32, 'f'));
  const rows = await sql<any[]>`
    SELECT ${ITEM_COLUMNS(sql, parisToday())}
    FROM pipeline_items p JOIN people o ON o.id = p.owner_id JOIN people tu ON tu.id = p.tutor_id
    WHERE p.ref_id BETWEEN ${low}::uuid AND ${high}::uuid
    ORDER BY p.ref_id LIMIT 6`;
  if (!rows.length) throw new MeceneError('pipeline.error.unknownItem', { ref }, 404);
  if (rows.length > 1) {
    throw new MeceneError('pipeline.error.ambiguousItem', { ref, candidates: rows.slice(0, 5).map((r) => `${r.ref_id} (${r.counterpart})`).join(', ') }, 409);
  }
  return toItem(rows[0]);
}

export const probabilityInput = z.strictObject({
  /** 0–100, or null to go back to the stage's default. */
  percent: z.union([z.number().int().min(0).max(100), z.null()]),
  as: email,
});

/**
 * The treasurer overrides the probability of one item (null: back to the stage's default);
 * the weighted amount is recomputed in the same transaction. Later refreshes keep the override.
 */
export async function setProbability(sql: Sql, ref: string, raw: unknown): Promise<PipelineItem> {
  const input = parseInput(probabilityInput, raw);
  await personWithRole(sql, input.as, 'treasurer');
  const item = await requireItem(sql, ref);
  await sql.begin(async (tx) => {
    await tx`UPDATE pipeline_items SET probability_override = ${input.percent}, updated_at = now() WHERE ref_id = ${item.refId}`;
    await tx`SELECT pipeline_weigh(${item.refId})`;
  });
  return requireItem(sql, item.refId);
}

/** "50", "50 %", "default" / "défaut" → a percent or null (the stage's default); undefined when unreadable. */
export function parsePercentText(text: string): number | null | undefined {
  const s = text.trim().toLowerCase();
  if (['default', 'defaut', 'défaut', 'auto'].includes(s)) return null;
  const m = /^(\d{1,3})\s*%?$/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** Money received per day over a period (from the ledger), for the received-vs-goal chart. */
export async function receivedByDay(sql: Sql, from: string, to: string): Promise<{ day: string; cents: number }[]> {
  const rows = await sql<{ day: string; cents: bigint }[]>`
    SELECT received_on::text AS day, sum(amount_cents)::bigint AS cents FROM money_received
    WHERE received_on BETWEEN ${from}::date AND ${to}::date GROUP BY received_on ORDER BY received_on`;
  return rows.map((r) => ({ day: r.day, cents: cents(r.cents) }));
}

/** Cumulative money received by day over a period: [{ day, cumulativeCents }], one point per day with money. */
export async function receivedSeries(sql: Sql, from: string, to: string): Promise<{ day: string; cumulativeCents: number }[]> {
  let running = 0;
  return (await receivedByDay(sql, from, to)).map((d) => ({ day: d.day, cumulativeCents: (running += d.cents) }));
}

/**
 * The chart of money received against the goal: over the current goal's period, or the last
 * 12 months without a goal. Standalone SVG.
 */
export async function receivedChartSvg(sql: Sql, opts: { lang?: Lang; today?: string; summary?: PipelineSummary } = {}): Promise<string> {
  const lang = opts.lang ?? currentLanguage();
  const day = opts.today ?? opts.summary?.today ?? parisToday();
  const goal = opts.summary ? opts.summary.goal : await goalProgress(sql, day);
  const from = goal?.startsOn ?? addDays(day, -364);
  const to = goal?.endsOn ?? day;
  return receivedVsGoalSvg({
    lang,
    title: goal ? t('pipeline.chart.receivedTitle', { label: goal.label }, lang) : t('pipeline.chart.receivedTitleNoGoal', {}, lang),
    receivedLabel: t('pipeline.chart.received', {}, lang),
    goalLabel: t('pipeline.chart.goal', {}, lang),
    from,
    to,
    goalCents: goal?.amountCents ?? null,
    days: await receivedByDay(sql, from, to),
    until: day,
  });
}

/** The chart of the pipeline by stage (asked vs weighted), grouped by kind. Standalone SVG. */
export async function stagesChartSvg(sql: Sql, opts: { lang?: Lang; summary?: PipelineSummary } = {}): Promise<string> {
  const lang = opts.lang ?? currentLanguage();
  const summary = opts.summary ?? (await pipelineSummary(sql));
  return stagesSvg({
    lang,
    title: t('pipeline.chart.stagesTitle', {}, lang),
    askedLabel: t('pipeline.chart.asked', {}, lang),
    weightedLabel: t('pipeline.chart.weighted', {}, lang),
    emptyLabel: t('pipeline.empty', {}, lang),
    groups: PIPELINE_KINDS.map((kind) => ({
      label: kindLabel(kind, lang),
      rows: summary.stages
        .filter((s) => s.kind === kind)
        .map((s) => ({ label: `${stageLabel(s.stage, lang)} (${s.count})`, askedCents: s.askedCents, weightedCents: s.weightedCents })),
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// CSV for French spreadsheets: UTF-8 with a BOM, `;` separators, CRLF, amounts in euros with a
// decimal comma, days as YYYY-MM-DD.

/**
 * One CSV cell: quoted when it holds a separator, a quote or a line break; text that a
 * spreadsheet would run as a formula (=, +, -, @ first) is prefixed with an apostrophe.
 */
export function csvCell(value: string | number | null | undefined, opts: { text?: boolean } = {}): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (opts.text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[;"\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cents as euros with a decimal comma and no grouping, as a French spreadsheet reads numbers: "1500,50". */
export const csvEuros = (c: number) => `${c < 0 ? '-' : ''}${Math.trunc(Math.abs(c) / 100)},${String(Math.abs(c) % 100).padStart(2, '0')}`;

/** The whole document: BOM, header, rows, CRLF line ends. */
export const csvDocument = (header: string[], rows: string[][]) => '\ufeff' + [header, ...rows].map((r) => r.join(';')).join('\r\n') + '\r\n';

/**
 * Every dossier as CSV for a spreadsheet: UTF-8 with a BOM and `;` separators, amounts in
 * euros with a decimal comma, so French Excel opens it as it is.
 */
export async function dossiersCsv(sql: Sql): Promise<string> {
  const rows = await sql<any[]>`
    SELECT o.slug, o.name, d.stage, d.amount_asked_cents, s.email AS student, t.email AS tutor,
           d.created_at, d.updated_at, d.closed_at, d.close_reason
    FROM dossiers d JOIN organisations o ON o.id = d.organisation_id
    JOIN people s ON s.id = d.student_id JOIN people t ON t.id = d.tutor_id
    ORDER BY d.created_at`;
  const header = ['identifiant', 'mecene', 'etape', 'montant_sollicite_eur', 'etudiant', 'tuteur', 'cree_le', 'mis_a_jour_le', 'clos_le', 'motif'];
  return csvDocument(
    header,
    rows.map((r) => [
      csvCell(r.slug),
      csvCell(r.name, { text: true }),
      csvCell(r.stage),
      csvEuros(Number(r.amount_asked_cents)),
      csvCell(r.student, { text: true }),
      csvCell(r.tutor, { text: true }),
      r.created_at.toISOString(),
      r.updated_at.toISOString(),
      r.closed_at?.toISOString() ?? '',
      csvCell(r.close_reason, { text: true }),
    ]),
  );
}

const PIPELINE_CSV_COLUMNS = [
  'type', 'identifiant', 'contrepartie', 'programme', 'etape', 'statut', 'responsable', 'responsable_courriel', 'tuteur', 'tuteur_courriel',
  'demande_eur', 'promis_ou_accorde_eur', 'recu_eur', 'probabilite_pct', 'probabilite_forcee', 'pondere_eur',
  'argent_attendu_le', 'prochain_versement_le', 'prochain_rapport_le', 'versement_en_retard', 'rapport_en_retard',
  'prochaine_action', 'prochaine_action_le', 'dernier_contact_le', 'ouvert_le', 'clos_le',
] as const;

/**
 * Every pipeline item as CSV for French Excel (header in French; stage, status and kind in
 * words of `lang`). Timestamps become the Paris day, YYYY-MM-DD.
 */
export async function pipelineCsv(sql: Sql, opts: { lang?: Lang } = {}): Promise<string> {
  const lang = opts.lang ?? currentLanguage();
  const day = parisToday();
  const paris = (column: string) => sql.unsafe(`to_char(${column} AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD')`);
  const rows = await sql<any[]>`
    SELECT p.ref_id, p.kind, p.counterpart, p.title, p.stage, p.status,
           p.asked_cents, p.committed_cents, p.received_cents, p.weighted_cents, p.probability, p.probability_override,
           p.expected_money_on::text AS expected_money_on, p.next_payment_due_on::text AS next_payment_due_on,
           p.next_report_due_on::text AS next_report_due_on, p.next_action,
           o.name AS owner_name, o.email AS owner_email, tu.name AS tutor_name, tu.email AS tutor_email,
           coalesce(p.status IN ('open', 'won') AND p.next_payment_due_on < ${day}::date, false) AS overdue_payment,
           coalesce(p.status IN ('open', 'won') AND p.next_report_due_on < ${day}::date, false) AS overdue_report,
           ${paris('p.next_action_at')} AS next_action_day, ${paris('p.last_contact_at')} AS last_contact_day,
           ${paris('p.opened_at')} AS opened_day, ${paris('p.closed_at')} AS closed_day
    FROM pipeline_items p JOIN people o ON o.id = p.owner_id JOIN people tu ON tu.id = p.tutor_id
    ORDER BY p.kind DESC, p.opened_at, p.ref_id`;
  const yes = t('pipeline.csv.yes', {}, lang);
  const no = t('pipeline.csv.no', {}, lang);
  // A few distinct words over thousands of rows: translate each once.
  const words = new Map<string, string>();
  const word = (key: string, say: () => string) => words.get(key) ?? words.set(key, csvCell(say())).get(key)!;
  return csvDocument(
    [...PIPELINE_CSV_COLUMNS],
    rows.map((r) => [
      word(`k:${r.kind}`, () => kindLabel(r.kind, lang)),
      r.ref_id,
      csvCell(r.counterpart, { text: true }),
      csvCell(r.title, { text: true }),
      word(`s:${r.stage}`, () => stageLabel(r.stage, lang)),
      word(`t:${r.status}`, () => statusLabel(r.status, lang)),
      csvCell(r.owner_name, { text: true }),
      csvCell(r.owner_email, { text: true }),
      csvCell(r.tutor_name, { text: true }),
      csvCell(r.tutor_email, { text: true }),
      csvEuros(cents(r.asked_cents)),
      csvEuros(cents(r.committed_cents)),
      csvEuros(cents(r.received_cents)),
      String(r.probability),
      r.probability_override === null ? no : yes,
      csvEuros(cents(r.weighted_cents)),
      r.expected_money_on ?? '',
      r.next_payment_due_on ?? '',
      r.next_report_due_on ?? '',
      r.overdue_payment ? yes : no,
      r.overdue_report ? yes : no,
      csvCell(r.next_action, { text: true }),
      r.next_action_day ?? '',
      r.last_contact_day ?? '',
      r.opened_day,
      r.closed_day ?? '',
    ]),
  );
}
