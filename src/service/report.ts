import { z } from 'zod';
import type { Sql } from '../db/sql';
import { parisDay } from '../domain/dates';
import { InvalidInputError, MeceneError } from '../domain/errors';
import type { Lang } from '../domain/money';
import { describeIssues, langSchema } from '../domain/schemas';
import { t, type MessageKey } from '../i18n';
import { localise, type AssociationProfile } from '../templates/association';

/**
 * The end-of-project report ("bilan") for the association's board: the goal against the money
 * received, what became of every sponsor dossier and funding application, the contacts made,
 * the meetings obtained, why requests failed, and the period month by month.
 *
 * Everything is read from PostgreSQL as it stands when the report is built; the period selects
 * which dossiers, applications, emails, events and money count. Amounts are integer cents, days
 * are calendar days in Europe/Paris (YYYY-MM-DD), words are in the report's language.
 */

/** Longest period a report covers: the month-by-month table stays readable. */
export const MAX_REPORT_MONTHS = 60;

const SPONSOR_STAGES = ['preparing', 'contacted', 'followed_up', 'escalated', 'interested', 'meeting', 'declined', 'opted_out', 'closed', 'validation', 'changes_requested', 'approved', 'callback', 'pledged', 'won', 'lost', 'withdrawn'] as const;
const APPLICATION_STAGES = ['drafting', 'review', 'signoff', 'ready', 'submitted', 'awarded', 'completed', 'refused', 'withdrawn'] as const;

export type ItemStatus = 'open' | 'won' | 'lost' | 'withdrawn';

export interface ReportAssociation {
  name: string;
  address?: string[];
  email?: string;
  phone?: string;
  website?: string;
  rna?: string;
  siret?: string;
  purpose?: string;
}

export interface SponsorOutcome {
  sponsor: string;
  slug: string;
  student: string;
  stage: string;
  /** The stage in words, in the report's language. */
  outcome: string;
  status: ItemStatus;
  askedCents: number;
  /** Pledged (sponsor pledges come with a later issue; 0 until then). */
  committedCents: number;
  /** Received in the period. */
  receivedCents: number;
  openedOn: string;
  closedOn: string | null;
  /** Why it ended without money: the decline note or the close reason, in words. */
  reason: string | null;
}

export interface FunderOutcome {
  funder: string;
  slug: string;
  programme: string;
  stage: string;
  outcome: string;
  status: ItemStatus;
  requestedCents: number;
  awardedCents: number | null;
  /** Awarded, as the pipeline counts it (0 until a decision). */
  committedCents: number;
  /** Received in the period. */
  receivedCents: number;
  openedOn: string;
  closedOn: string | null;
  reason: string | null;
}

export interface RefusalReason {
  reason: string;
  count: number;
  sponsors: number;
  funders: number;
  /** Sponsors and funders concerned, in report order, each once. */
  counterparts: string[];
}

export interface TimelineMonth {
  /** YYYY-MM */
  month: string;
  dossiersOpened: number;
  /** Emails to sponsors (first emails and follow-ups) that left. */
  emailsSent: number;
  replies: number;
  applicationsSubmitted: number;
  decisions: number;
  receivedCents: number;
  cumulativeReceivedCents: number;
}

export interface Report {
  lang: Lang;
  /** The Paris day the report was built: what "current stage" means. */
  generatedOn: string;
  period: { from: string; to: string; source: 'requested' | 'goal' | 'last12Months' };
  association: ReportAssociation;
  projectTitle: string | null;
  goal: {
    label: string | null;
    goalCents: number | null;
    receivedCents: number;
    receivedSponsorCents: number;
    receivedApplicationCents: number;
    committedCents: number;
    /** received / goal, in percent with one decimal (62.5), null without a goal. */
    percentOfGoal: number | null;
    committedPercentOfGoal: number | null;
    remainingCents: number | null;
  };
  sponsors: SponsorOutcome[];
  funders: FunderOutcome[];
  contacts: {
    contactsEmailed: number;
    organisationsContacted: number;
    initialEmails: number;
    followUps: number;
    tutorAlerts: number;
    replies: { interested: number; meeting: number; declined: number; total: number };
    optOuts: number;
  };
  /** Meetings obtained; `source: 'reply'` = a reply asking for one (dated meetings join later). */
  meetings: { count: number; items: { sponsor: string; slug: string; on: string; stage: string; stageLabel: string; source: 'reply' }[] };
  refusals: { total: number; reasons: RefusalReason[] };
  timeline: TimelineMonth[];
  /** The chart: cumulative money received, one point per day money came in, from 0 on `from`. */
  chart: { goalCents: number | null; points: { on: string; cumulativeCents: number }[] };
  outcomesByStage: { kind: 'sponsor' | 'application'; stage: string; label: string; count: number }[];
}

// ---------------------------------------------------------------------------
// Input and period.

const isoDay = (key: MessageKey) =>
  z.string().superRefine((value, ctx) => {
    if (parseDay(value) === null) ctx.addIssue({ code: 'custom', message: key, params: { key } });
  });

/** What a person may ask for, on the command line or in a query string. */
export const reportQuerySchema = z.object({
  from: isoDay('report.error.badFrom').optional(),
  to: isoDay('report.error.badTo').optional(),
  lang: langSchema.optional(),
});
export type ReportQuery = z.input<typeof reportQuerySchema>;

function parseDay(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d : null;
}

const isoOf = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => isoOf(new Date(parseDay(day)!.getTime() + n * 86_400_000));
/** Same day n months later (clamped to the month's end: 31 Jan + 1 month = 28/29 Feb). */
function addMonths(day: string, n: number): string {
  const d = parseDay(day)!;
  const month = d.getUTCMonth() + n;
  const last = new Date(Date.UTC(d.getUTCFullYear(), month + 1, 0)).getUTCDate();
  return isoOf(new Date(Date.UTC(d.getUTCFullYear(), month, Math.min(d.getUTCDate(), last))));
}
const monthsSpanned = (from: string, to: string) =>
  (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7)) + 1;

/** Validates the query: bad dates, a reversed or an overlong period are errors a person can fix. */
export function parseReportQuery(raw: unknown): { from?: string; to?: string; lang?: Lang } {
  const parsed = reportQuerySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path[0];
    if ((field === 'from' || field === 'to') && issue.code === 'custom') {
      throw new MeceneError(field === 'from' ? 'report.error.badFrom' : 'report.error.badTo', { value: String((raw as Record<string, unknown>)[field]) });
    }
    throw new InvalidInputError(describeIssues(parsed.error));
  }
  const { from, to } = parsed.data;
  if (from && to) checkPeriod(from, to);
  return parsed.data;
}

function checkPeriod(from: string, to: string): void {
  if (from > to) throw new MeceneError('report.error.reversed', { from, to });
  const months = monthsSpanned(from, to);
  if (months > MAX_REPORT_MONTHS) throw new MeceneError('report.error.tooLong', { months, max: MAX_REPORT_MONTHS });
}

interface SponsorRow {
  name: string;
  slug: string;
  student: string;
  stage: string;
  asked: string;
  committed: string;
  received: string;
  status: ItemStatus;
  opened_on: string;
  closed_on: string | null;
  close_reason: string | null;
  decline_note: string | null;
}

interface ApplicationRow {
  name: string;
  slug: string;
  programme: string;
  stage: string;
  requested: string;
  awarded: string | null;
  committed: string;
  received: string;
  status: ItemStatus;
  opened_on: string;
  closed_on: string | null;
  outcome_reason: string | null;
}

interface GoalRow {
  label: string;
  amount_cents: string;
  starts_on: string;
  ends_on: string;
}

/**
 * The period: as asked; one side given, the other 12 months away; none, the current campaign
 * goal's (the newest goal covering today, else the goal that ended last), else the last 12 months.
 */
async function resolvePeriod(sql: Sql, q: { from?: string; to?: string }, today: string): Promise<Report['period']> {
  if (q.from && q.to) return { from: q.from, to: q.to, source: 'requested' };
  if (q.from) return { from: q.from, to: addDays(addMonths(q.from, 12), -1), source: 'requested' };
  if (q.to) return { from: addDays(addMonths(q.to, -12), 1), to: q.to, source: 'requested' };
  const [goal] = await sql<GoalRow[]>`
    SELECT label, amount_cents::text, starts_on::text, ends_on::text FROM campaign_goals
    WHERE starts_on <= ${today}
    ORDER BY (ends_on >= ${today}) DESC, CASE WHEN ends_on >= ${today} THEN set_at END DESC NULLS LAST, ends_on DESC, set_at DESC, id DESC
    LIMIT 1`;
  if (goal && monthsSpanned(goal.starts_on, goal.ends_on) <= MAX_REPORT_MONTHS) return { from: goal.starts_on, to: goal.ends_on, source: 'goal' };
  return { from: addDays(addMonths(today, -12), 1), to: today, source: 'last12Months' };
}

// ---------------------------------------------------------------------------
// The report.

export interface BuildReportOptions extends ReportQuery {
  /** The association's profile (templates/association.yaml), or at least its name. */
  association?: AssociationProfile | ReportAssociation;
  /** The Paris day the report is built (default: today); tests pin it. */
  today?: string;
}

const percent = (part: number, whole: number | null) => (whole ? Math.round((part * 1000) / whole) / 10 : null);
const num = (v: string | number | null | undefined) => Number(v ?? 0);

/** Builds the report; `from`/`to`/`lang` are validated here, whoever calls. */
export async function buildReport(sql: Sql, options: BuildReportOptions = {}): Promise<Report> {
  const query = parseReportQuery({ from: options.from, to: options.to, lang: options.lang });
  const lang: Lang = query.lang ?? 'fr';
  const today = options.today ?? parisDay(new Date());
  const period = await resolvePeriod(sql, query, today);
  checkPeriod(period.from, period.to);
  const { from, to } = period;

  // The period's bounds as instants: Paris midnight of `from`, Paris midnight after `to`.
  const [bounds] = await sql<{ start_at: Date; end_at: Date }[]>`
    SELECT (${from}::date)::timestamp AT TIME ZONE 'Europe/Paris' AS start_at,
           ((${to}::date + 1))::timestamp AT TIME ZONE 'Europe/Paris' AS end_at`;
  const { start_at: startAt, end_at: endAt } = bounds;
  const parisMonth = (column: string) => sql`to_char(${sql(column)} AT TIME ZONE 'Europe/Paris', 'YYYY-MM')`;

  const [goalRows, sponsorRows, applicationRows, emailRows, replyRows, optOutRows, meetingRows, monthRows, dayRows] = await Promise.all([
    // The goal of the period's last day, else the newest goal overlapping the period.
    sql<GoalRow[]>`
      SELECT label, amount_cents::text, starts_on::text, ends_on::text FROM campaign_goals
      WHERE starts_on <= ${to} AND ends_on >= ${from}
      ORDER BY (starts_on <= ${to} AND ends_on >= ${to}) DESC, set_at DESC, id DESC
      LIMIT 1`,
    // Sponsor dossiers open at some point in the period, or with money received in it.
    sql<SponsorRow[]>`
      WITH money AS (
        SELECT dossier_id, sum(amount_cents) AS cents FROM money_received
        WHERE kind = 'sponsor' AND received_on BETWEEN ${from} AND ${to} GROUP BY dossier_id
      )
      SELECT o.name, o.slug, s.name AS student, d.stage, d.amount_asked_cents::text AS asked,
             coalesce(p.committed_cents, 0)::text AS committed, coalesce(m.cents, 0)::text AS received,
             coalesce(p.status, CASE WHEN d.stage IN ('declined', 'opted_out', 'closed') THEN 'lost' ELSE 'open' END) AS status,
             to_char(d.created_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS opened_on,
             to_char(d.closed_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS closed_on,
             d.close_reason,
             (SELECT ev.detail->>'note' FROM events ev
               WHERE ev.dossier_id = d.id AND ev.kind = 'reply_recorded' AND ev.detail->>'outcome' = 'declined'
               ORDER BY ev.at DESC, ev.id DESC LIMIT 1) AS decline_note
      FROM dossiers d
      JOIN organisations o ON o.id = d.organisation_id
      JOIN people s ON s.id = d.student_id
      LEFT JOIN pipeline_items p ON p.ref_id = d.id
      LEFT JOIN money m ON m.dossier_id = d.id
      WHERE (d.created_at < ${endAt} AND (d.closed_at IS NULL OR d.closed_at >= ${startAt})) OR m.cents IS NOT NULL
      ORDER BY d.created_at, o.name, d.id`,
    // Funding applications, likewise.
    sql<ApplicationRow[]>`
      WITH money AS (
        SELECT application_id, sum(amount_cents) AS cents FROM money_received
        WHERE kind = 'application' AND received_on BETWEEN ${from} AND ${to} GROUP BY application_id
      )
      SELECT o.name, o.slug, a.programme, a.stage, a.amount_requested_cents::text AS requested,
             a.amount_awarded_cents::text AS awarded,
             coalesce(p.committed_cents, a.amount_awarded_cents, 0)::text AS committed, coalesce(m.cents, 0)::text AS received,
             coalesce(p.status, CASE WHEN a.stage IN ('awarded', 'completed') THEN 'won' WHEN a.stage = 'refused' THEN 'lost'
                                     WHEN a.stage = 'withdrawn' THEN 'withdrawn' ELSE 'open' END) AS status,
             to_char(a.created_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS opened_on,
             to_char(a.closed_at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS closed_on,
             a.outcome_reason
      FROM applications a
      JOIN organisations o ON o.id = a.organisation_id
      LEFT JOIN pipeline_items p ON p.ref_id = a.id
      LEFT JOIN money m ON m.application_id = a.id
      WHERE (a.created_at < ${endAt} AND (a.closed_at IS NULL OR a.closed_at >= ${startAt})) OR m.cents IS NOT NULL
      ORDER BY a.created_at, o.name, a.id`,
    sql<{ initial: number; contacts: number; organisations: number; followups: number; alerts: number }[]>`
      SELECT count(*) FILTER (WHERE e.kind = 'initial')::int AS initial,
             count(DISTINCT e.to_address) FILTER (WHERE e.kind = 'initial')::int AS contacts,
             count(DISTINCT d.organisation_id) FILTER (WHERE e.kind = 'initial')::int AS organisations,
             count(*) FILTER (WHERE e.kind = 'followup')::int AS followups,
             count(*) FILTER (WHERE e.kind = 'escalation')::int AS alerts
      FROM emails e LEFT JOIN dossiers d ON d.id = e.dossier_id
      WHERE e.status = 'sent' AND e.sent_at >= ${startAt} AND e.sent_at < ${endAt}`,
    sql<{ outcome: string; n: number }[]>`
      SELECT detail->>'outcome' AS outcome, count(*)::int AS n FROM events
      WHERE kind = 'reply_recorded' AND at >= ${startAt} AND at < ${endAt} GROUP BY 1`,
    sql<{ n: number }[]>`SELECT count(*)::int AS n FROM events WHERE kind = 'opted_out' AND at >= ${startAt} AND at < ${endAt}`,
    // Each dossier once: the first reply in the period that asked for a meeting.
    sql<{ name: string; slug: string; stage: string; on: string }[]>`
      SELECT name, slug, stage, to_char(at AT TIME ZONE 'Europe/Paris', 'YYYY-MM-DD') AS on FROM (
        SELECT DISTINCT ON (ev.dossier_id) o.name, o.slug, d.stage, ev.at, ev.id
        FROM events ev JOIN dossiers d ON d.id = ev.dossier_id JOIN organisations o ON o.id = d.organisation_id
        WHERE ev.kind = 'reply_recorded' AND ev.detail->>'outcome' = 'meeting' AND ev.at >= ${startAt} AND ev.at < ${endAt}
        ORDER BY ev.dossier_id, ev.at, ev.id
      ) first_meeting
      ORDER BY at, name, id`,
    sql<{ source: string; month: string; n: number; cents: string }[]>`
      SELECT 'opened' AS source, ${parisMonth('created_at')} AS month, count(*)::int AS n, '0' AS cents
        FROM dossiers WHERE created_at >= ${startAt} AND created_at < ${endAt} GROUP BY 2
      UNION ALL
      SELECT 'emails', ${parisMonth('sent_at')}, count(*)::int, '0'
        FROM emails WHERE status = 'sent' AND kind IN ('initial', 'followup') AND sent_at >= ${startAt} AND sent_at < ${endAt} GROUP BY 2
      UNION ALL
      SELECT 'replies', ${parisMonth('at')}, count(*)::int, '0'
        FROM events WHERE kind = 'reply_recorded' AND at >= ${startAt} AND at < ${endAt} GROUP BY 2
      UNION ALL
      SELECT CASE kind WHEN 'submitted' THEN 'submitted' ELSE 'decisions' END, ${parisMonth('at')}, count(*)::int, '0'
        FROM application_events WHERE kind IN ('submitted', 'decision_recorded') AND at >= ${startAt} AND at < ${endAt} GROUP BY 1, 2
      UNION ALL
      SELECT 'money', to_char(received_on, 'YYYY-MM'), count(*)::int, sum(amount_cents)::text
        FROM money_received WHERE received_on BETWEEN ${from} AND ${to} GROUP BY 2`,
    sql<{ on: string; kind: string; cents: string }[]>`
      SELECT received_on::text AS on, kind, sum(amount_cents)::text AS cents FROM money_received
      WHERE received_on BETWEEN ${from} AND ${to} GROUP BY 1, 2 ORDER BY 1, 2`,
  ]);

  // --- Per sponsor, per funder --------------------------------------------------------------
  const reasonWords = (reason: string | null): string | null => {
    const text = reason?.trim().replace(/\s+/g, ' ');
    if (!text) return null;
    if (text === 'opted_out' || text === 'invalid_recipient' || text === 'declined') return t(`report.reason.${text}`, {}, lang);
    return text;
  };
  const sponsors: SponsorOutcome[] = sponsorRows.map((r) => {
    const status = r.status;
    let reason: string | null = null;
    if (status === 'lost' || status === 'withdrawn') {
      // A refusal: the sponsor's own words when noted, else the reason chosen from the list.
      const declined = r.stage === 'declined' || r.close_reason?.startsWith('declined:');
      const code = r.close_reason?.startsWith('declined:') ? r.close_reason.slice('declined:'.length) : null;
      reason =
        declined ? (reasonWords(r.decline_note) ?? (code ? t(`decline.${code}` as MessageKey, {}, lang) : t('report.reason.none', {}, lang)))
        : r.stage === 'opted_out' ? t('report.reason.opted_out', {}, lang)
        : (reasonWords(r.close_reason) ?? t('report.reason.none', {}, lang));
    }
    return {
      sponsor: r.name,
      slug: r.slug,
      student: r.student,
      stage: r.stage,
      outcome: (SPONSOR_STAGES as readonly string[]).includes(r.stage) ? t(`stage.${r.stage}` as MessageKey, {}, lang) : r.stage,
      status,
      askedCents: num(r.asked),
      committedCents: num(r.committed),
      receivedCents: num(r.received),
      openedOn: r.opened_on,
      closedOn: r.closed_on ?? null,
      reason,
    };
  });
  const funders: FunderOutcome[] = applicationRows.map((r) => {
    const status = r.status;
    return {
      funder: r.name,
      slug: r.slug,
      programme: r.programme,
      stage: r.stage,
      outcome: (APPLICATION_STAGES as readonly string[]).includes(r.stage) ? t(`report.appStage.${r.stage}` as MessageKey, {}, lang) : r.stage,
      status,
      requestedCents: num(r.requested),
      awardedCents: r.awarded === null ? null : num(r.awarded),
      committedCents: num(r.committed),
      receivedCents: num(r.received),
      openedOn: r.opened_on,
      closedOn: r.closed_on ?? null,
      reason: status === 'lost' || status === 'withdrawn' ? (reasonWords(r.outcome_reason) ?? t('report.reason.none', {}, lang)) : null,
    };
  });

  // --- Goal against money ---------------------------------------------------------------------
  const goalRow = goalRows[0];
  const goalCents = goalRow ? num(goalRow.amount_cents) : null;
  let receivedSponsorCents = 0;
  let receivedApplicationCents = 0;
  for (const d of dayRows) {
    if (d.kind === 'sponsor') receivedSponsorCents += num(d.cents);
    else receivedApplicationCents += num(d.cents);
  }
  const receivedCents = receivedSponsorCents + receivedApplicationCents;
  const committedCents = [...sponsors, ...funders].filter((i) => i.status === 'open' || i.status === 'won').reduce((sum, i) => sum + i.committedCents, 0);

  // --- Refusals, grouped by reason --------------------------------------------------------------
  const groups = new Map<string, RefusalReason>();
  const addRefusal = (reason: string, counterpart: string, kind: 'sponsors' | 'funders') => {
    const key = reason.toLowerCase();
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { reason, count: 0, sponsors: 0, funders: 0, counterparts: [] }));
    g.count += 1;
    g[kind] += 1;
    if (!g.counterparts.includes(counterpart)) g.counterparts.push(counterpart);
  };
  for (const s of sponsors) if (s.reason) addRefusal(s.reason, s.sponsor, 'sponsors');
  for (const f of funders) if (f.reason) addRefusal(f.reason, f.funder, 'funders');
  // Most frequent first; ties by reason, compared by code unit (no locale data: same order everywhere).
  const reasons = [...groups.values()].sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));

  // --- Contacts, meetings -----------------------------------------------------------------------
  const replies = { interested: 0, meeting: 0, declined: 0, total: 0 };
  for (const r of replyRows) {
    if (r.outcome === 'interested' || r.outcome === 'meeting' || r.outcome === 'declined') replies[r.outcome] += r.n;
    replies.total += r.n;
  }
  const e = emailRows[0];

  // --- Month by month ---------------------------------------------------------------------------
  const months: TimelineMonth[] = [];
  for (let m = from.slice(0, 7); m <= to.slice(0, 7); m = addMonths(`${m}-01`, 1).slice(0, 7)) {
    months.push({ month: m, dossiersOpened: 0, emailsSent: 0, replies: 0, applicationsSubmitted: 0, decisions: 0, receivedCents: 0, cumulativeReceivedCents: 0 });
  }
  const byMonth = new Map(months.map((m) => [m.month, m]));
  for (const row of monthRows) {
    const m = byMonth.get(row.month);
    if (!m) continue;
    if (row.source === 'opened') m.dossiersOpened += row.n;
    else if (row.source === 'emails') m.emailsSent += row.n;
    else if (row.source === 'replies') m.replies += row.n;
    else if (row.source === 'submitted') m.applicationsSubmitted += row.n;
    else if (row.source === 'decisions') m.decisions += row.n;
    else if (row.source === 'money') m.receivedCents += num(row.cents);
  }
  let running = 0;
  for (const m of months) m.cumulativeReceivedCents = running += m.receivedCents;

  // --- Chart: cumulative money per day ----------------------------------------------------------
  const points: Report['chart']['points'] = [{ on: from, cumulativeCents: 0 }];
  let cumulative = 0;
  for (const d of dayRows) {
    cumulative += num(d.cents);
    const last = points[points.length - 1];
    if (last.on === d.on) last.cumulativeCents = cumulative;
    else points.push({ on: d.on, cumulativeCents: cumulative });
  }

  const outcomesByStage: Report['outcomesByStage'] = [];
  for (const stage of SPONSOR_STAGES) {
    const count = sponsors.filter((s) => s.stage === stage).length;
    if (count) outcomesByStage.push({ kind: 'sponsor', stage, label: t(`stage.${stage}`, {}, lang), count });
  }
  for (const stage of APPLICATION_STAGES) {
    const count = funders.filter((f) => f.stage === stage).length;
    if (count) outcomesByStage.push({ kind: 'application', stage, label: t(`report.appStage.${stage}`, {}, lang), count });
  }

  const profile = options.association;
  const isProfile = (p: typeof profile): p is AssociationProfile => !!p && 'project' in p;
  const association: ReportAssociation = isProfile(profile) ? stripUndefined(localise(profile, lang).association) : profile ? stripUndefined({ ...profile }) : { name: '' };

  return {
    lang,
    generatedOn: today,
    period,
    association,
    projectTitle: isProfile(profile) ? profile.project[lang].title : null,
    goal: {
      label: goalRow?.label ?? null,
      goalCents,
      receivedCents,
      receivedSponsorCents,
      receivedApplicationCents,
      committedCents,
      percentOfGoal: percent(receivedCents, goalCents),
      committedPercentOfGoal: percent(committedCents, goalCents),
      remainingCents: goalCents === null ? null : Math.max(goalCents - receivedCents, 0),
    },
    sponsors,
    funders,
    contacts: {
      contactsEmailed: e?.contacts ?? 0,
      organisationsContacted: e?.organisations ?? 0,
      initialEmails: e?.initial ?? 0,
      followUps: e?.followups ?? 0,
      tutorAlerts: e?.alerts ?? 0,
      replies,
      optOuts: optOutRows[0]?.n ?? 0,
    },
    meetings: {
      count: meetingRows.length,
      items: meetingRows.map((m) => ({ sponsor: m.name, slug: m.slug, on: m.on, stage: m.stage, stageLabel: t(`stage.${m.stage}` as MessageKey, {}, lang), source: 'reply' as const })),
    },
    refusals: { total: reasons.reduce((sum, r) => sum + r.count, 0), reasons },
    timeline: months,
    chart: { goalCents, points },
    outcomesByStage,
  };
}

/** JSON without `undefined` members: the same report always serialises (and hashes) the same. */
function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
