import type { Sql } from '../db/sql';
import { parseDuration } from '../domain/duration';
import { MeceneError } from '../domain/errors';
import { frenchHolidayName, sendRulesFor } from '../domain/holidays';
import type { Lang } from '../domain/money';
import { policySchema, type Policy } from '../domain/schemas';
import type { SendSettings } from '../domain/send-rules';
import { formatDay, parseParisDateTime, parisWallTime } from '../domain/dates';
import { planOutreach, type ClosedReason, type SendRules } from '../workflows/shared/send-window';
import { requireSponsor } from './sponsors';

/** One email or alert of the preview, with why it was moved. */
export interface PlannedStep {
  kind: 'initial' | 'followup' | 'escalation';
  n?: number;
  /** When it falls due, and when it goes out (ISO). */
  dueAt: string;
  sendAt: string;
  /** Closed days and hours it waited through (empty: it goes when due). */
  moved: { day: string; reason: ClosedReason; holiday?: string; blackout?: { from: string; to: string } }[];
}

/** What `mecene outreach plan` shows: the process's emails and alert, before anything starts. */
export interface OutreachPlan {
  sponsor: { id: number; slug: string; name: string };
  contact: { name: string; email: string } | null;
  /** When the first email would be due (ISO). */
  from: string;
  policy: { followUps: string[]; grace: string };
  rules: SendRules;
  caps: { daily: number; domain: number };
  steps: PlannedStep[];
}

/**
 * The start of a plan as people type it, Paris time: a day alone is that day from midnight
 * (the plan starts that day), `2027-07-14 10:00` a time; ISO instants as they are.
 */
export function parsePlanStart(text: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const parsed = day ? (parseParisDateTime(text) && parisWallTime(Number(day[1]), Number(day[2]), Number(day[3]), 0, 0)) : parseParisDateTime(text);
  if (!parsed) throw new MeceneError('error.sending.badFrom', { value: text }, 400);
  return parsed;
}

/**
 * Every email and escalation the outreach would produce for a sponsor if nobody replied, with
 * its due time and its send time, through the same date logic as the workflow
 * (src/workflows/shared/send-window.ts `planOutreach`). Reads the sponsor; starts nothing.
 */
export async function planSponsorOutreach(
  sql: Sql,
  request: { sponsor: string; from?: Date; policy?: Policy },
  settings: SendSettings,
  lang: Lang,
  now: Date = new Date(),
): Promise<OutreachPlan> {
  const sponsor = await requireSponsor(sql, request.sponsor);
  const policy = request.policy ?? policySchema.parse({});
  const from = request.from ?? now;
  const rules = sendRulesFor(settings, policy, from);
  const ms = (text: string) => parseDuration(text)!; // validated by policySchema
  let planned;
  try {
    planned = planOutreach({ firstDueAt: from.getTime(), followUpsMs: policy.followUps.map(ms), graceMs: ms(policy.grace), rules });
  } catch {
    throw new MeceneError('error.sending.neverOpens', { day: formatDay(from, lang) }, 422);
  }
  const contact = sponsor.contacts.find((c) => !c.optedOut);
  return {
    sponsor: { id: sponsor.id, slug: sponsor.slug, name: sponsor.name },
    contact: contact ? { name: contact.name, email: contact.email } : null,
    from: from.toISOString(),
    policy: { followUps: policy.followUps, grace: policy.grace },
    rules,
    caps: { daily: settings.dailyCap, domain: settings.domainCap },
    steps: planned.map((p) => ({
      kind: p.kind,
      ...(p.n === undefined ? {} : { n: p.n }),
      dueAt: new Date(p.dueAt).toISOString(),
      sendAt: new Date(p.sendAt).toISOString(),
      moved: p.moved.map((c) => ({
        ...c,
        ...(c.reason === 'holiday' ? { holiday: frenchHolidayName(c.day, lang) } : {}),
        ...(c.reason === 'blackout' ? { blackout: rules.blackouts.find((b) => b.from <= c.day && c.day <= b.to) } : {}),
      })),
    })),
  };
}
