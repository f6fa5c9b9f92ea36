import { formatDay } from '../domain/dates';
import { formatEuros, type Lang } from '../domain/money';
import { t, type MessageKey } from '../i18n';
import type { AssociationProfile } from '../templates/association';
import type { MailTemplates, MailVariables, RenderedMail } from '../templates/mail';
import type { DigestItem, MoneyLine, TreasurerDigest, TutorDigest } from './compose';

/**
 * Turns a digest into its email's variables: every date, amount and label formatted here, in
 * the recipient's language, so the templates stay logic-free (lists through `each` only).
 */

const MS_PER_DAY = 86_400_000;
const dayNumber = (day: string) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / MS_PER_DAY;

/** "today" / "in 3 d" / "2 d late", from the digest day. */
function due(on: string, day: string, lang: Lang): string {
  const n = dayNumber(on) - dayNumber(day);
  if (n === 0) return t('digest.due.today', {}, lang);
  return n > 0 ? t('digest.due.in', { n }, lang) : t('digest.due.late', { n: -n }, lang);
}

function itemLabel(i: DigestItem, lang: Lang): string {
  return i.kind === 'sponsor'
    ? t('digest.item.sponsor', { counterpart: i.counterpart }, lang)
    : t('digest.item.application', { counterpart: i.counterpart, programme: i.programme ?? '' }, lang);
}

function stageLabel(i: DigestItem & { stage: string }, lang: Lang): string {
  return t((i.kind === 'sponsor' ? `stage.${i.stage}` : `digest.appStage.${i.stage}`) as MessageKey, {}, lang);
}

const day = (d: Date | string | null, lang: Lang) => (d ? formatDay(d, lang) : t('digest.noDate', {}, lang));
const total = (lines: MoneyLine[]) => lines.reduce((sum, l) => sum + l.amountCents, 0);
const moneyItem = (l: MoneyLine, lang: Lang) => (l.trancheN === null ? itemLabel(l, lang) : t('digest.item.tranche', { item: itemLabel(l, lang), n: l.trancheN }, lang));

function header(d: TutorDigest | TreasurerDigest, lang: Lang, association: AssociationProfile) {
  const p = d.period;
  return {
    association: { name: association.name, website: association.website ?? '', email: association.email },
    recipient: { name: d.recipient.name, email: d.recipient.email },
    period: {
      day: formatDay(p.day, lang),
      since: formatDay(p.since, lang),
      horizonEnd: formatDay(new Date((dayNumber(p.day) + p.horizonDays) * MS_PER_DAY), lang),
      stalledDays: String(p.stalledDays),
      horizonDays: String(p.horizonDays),
    },
  };
}

/** The subject's short account: only what there is ("2 to validate, 1 escalated, €1,200.00 received"). */
export function digestSummary(d: TutorDigest | TreasurerDigest, lang: Lang): string {
  const parts: string[] = [];
  const count = (key: MessageKey, list: unknown[]) => list.length && parts.push(t(key, { n: list.length }, lang));
  const amount = (key: MessageKey, lines: MoneyLine[]) => lines.length && parts.push(t(key, { amount: formatEuros(total(lines), lang) }, lang));
  if (d.role === 'tutor') {
    count('digest.summary.awaiting', d.awaiting);
    count('digest.summary.escalated', d.escalated);
    count('digest.summary.stalled', d.stalled);
    count('digest.summary.deadlines', d.deadlines);
    count('digest.summary.meetings', d.meetings);
    amount('digest.summary.moneyIn', d.moneyIn);
    amount('digest.summary.expected', d.moneyExpected);
  } else {
    amount('digest.summary.moneyIn', d.moneyIn);
    amount('digest.summary.expected', d.moneyExpected);
    amount('digest.summary.overdue', d.overdue);
    count('digest.summary.signoffs', d.signoffs);
    if (d.goal) parts.push(t('digest.summary.goal', { percent: goalPercent(d.goal) }, lang));
  }
  return parts.length ? parts.join(', ') : t('digest.summary.nothing', {}, lang);
}

const goalPercent = (g: NonNullable<TreasurerDigest['goal']>) => Math.floor((g.receivedCents * 100) / g.amountCents);

export function tutorDigestVariables(d: TutorDigest, lang: Lang, association: AssociationProfile): MailVariables<'digest-tutor'> {
  const today = d.period.day;
  return {
    ...header(d, lang, association),
    summary: digestSummary(d, lang),
    awaiting: d.awaiting.map((a) => ({ item: itemLabel(a, lang), student: a.student, since: day(a.since, lang), due: day(a.dueAt, lang), deadline: day(a.deadlineAt, lang) })),
    escalated: d.escalated.map((e) => ({ item: itemLabel(e, lang), student: e.student, since: day(e.since, lang) })),
    stalled: d.stalled.map((s) => ({
      item: itemLabel(s, lang),
      student: s.student,
      stage: stageLabel(s, lang),
      lastActivity: day(s.lastActivityAt, lang),
      idle: t('digest.idle', { n: Math.floor((d.period.at.getTime() - s.lastActivityAt.getTime()) / MS_PER_DAY) }, lang),
    })),
    deadlines: d.deadlines.map((x) => ({
      date: formatDay(x.on, lang),
      status: due(x.on, today, lang),
      label: t(`digest.deadline.${x.what}` as MessageKey, {}, lang),
      item: itemLabel(x, lang),
      student: x.student,
    })),
    meetings: d.meetings.map((m) => ({ item: itemLabel(m, lang), student: m.student, since: day(m.since, lang), note: m.note ? t('digest.note', { note: m.note }, lang) : '' })),
    moneyIn: d.moneyIn.map((m) => ({ date: formatDay(m.on, lang), item: moneyItem(m, lang), student: m.student, amount: formatEuros(m.amountCents, lang) })),
    moneyInTotal: formatEuros(total(d.moneyIn), lang),
    moneyExpected: d.moneyExpected.map((m) => ({ date: formatDay(m.on, lang), status: due(m.on, today, lang), item: moneyItem(m, lang), student: m.student, amount: formatEuros(m.amountCents, lang) })),
    moneyExpectedTotal: formatEuros(total(d.moneyExpected), lang),
  };
}

export function treasurerDigestVariables(d: TreasurerDigest, lang: Lang, association: AssociationProfile): MailVariables<'digest-treasurer'> {
  const today = d.period.day;
  const received = (m: MoneyLine) => ({ date: formatDay(m.on, lang), item: moneyItem(m, lang), student: m.student, amount: formatEuros(m.amountCents, lang) });
  const expected = (m: MoneyLine) => ({ ...received(m), status: due(m.on, today, lang) });
  const g = d.goal;
  return {
    ...header(d, lang, association),
    summary: digestSummary(d, lang),
    moneyIn: d.moneyIn.map(received),
    moneyInTotal: formatEuros(total(d.moneyIn), lang),
    moneyExpected: d.moneyExpected.map(expected),
    moneyExpectedTotal: formatEuros(total(d.moneyExpected), lang),
    overdue: d.overdue.map(expected),
    overdueTotal: formatEuros(total(d.overdue), lang),
    signoffs: d.signoffs.map((s) => ({ item: itemLabel(s, lang), student: s.student, tutor: s.tutor, amount: formatEuros(s.amountCents, lang), due: day(s.dueAt, lang), deadline: day(s.deadlineAt, lang) })),
    goal: g
      ? [
          {
            label: g.label,
            period: t('digest.goal.period', { from: formatDay(g.startsOn, lang), to: formatDay(g.endsOn, lang) }, lang),
            amount: formatEuros(g.amountCents, lang),
            received: formatEuros(g.receivedCents, lang),
            percent: String(goalPercent(g)),
            remaining: formatEuros(Math.max(g.amountCents - g.receivedCents, 0), lang),
            expected: formatEuros(g.expectedCents, lang),
          },
        ]
      : [],
  };
}

/** The digest email, rendered from the templates the students and tutors edit. */
export function renderDigest(templates: MailTemplates, d: TutorDigest | TreasurerDigest, lang: Lang, association: AssociationProfile): RenderedMail {
  return d.role === 'tutor'
    ? templates.render('digest-tutor', lang, tutorDigestVariables(d, lang, association))
    : templates.render('digest-treasurer', lang, treasurerDigestVariables(d, lang, association));
}
