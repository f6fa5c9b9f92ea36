import { z } from 'zod';
import type { Sql } from '../db/sql';
import { parisDay } from '../domain/dates';
import { email, euros } from '../domain/schemas';
import { t } from '../i18n';
import { personWithRole } from './people';
import { parseInput } from './validate';

/** A calendar day typed as YYYY-MM-DD, checked to exist (no 31 February). */
export const isoDay = z
  .string()
  .trim()
  .refine((s) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (!m) return false;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.toISOString().slice(0, 10) === s;
  }, { message: 'date attendue au format AAAA-MM-JJ / date expected as YYYY-MM-DD' });

/** The day `days` after a YYYY-MM-DD day (negative: before). */
export function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Today in Paris, YYYY-MM-DD: the day money, deadlines and overdue flags are counted in. */
export const today = () => parisDay(new Date());

/** The campaign goal the treasurer sets: an amount to raise over a period. */
export interface CampaignGoal {
  id: number;
  label: string;
  amountCents: number;
  /** First and last day of the period, YYYY-MM-DD, both included. */
  startsOn: string;
  endsOn: string;
  /** The treasurer's email. */
  setBy: string;
  setAt: string;
}

/** The goal with the money received in its period (the money_received ledger). */
export interface GoalProgress extends CampaignGoal {
  receivedCents: number;
  /** Received / goal, in percent with one decimal (may exceed 100). */
  percent: number;
  remainingCents: number;
}

export const goalInput = z
  .strictObject({
    label: z.string().trim().max(200).optional(),
    amount: euros,
    from: isoDay,
    to: isoDay,
    as: email,
  })
  .refine((g) => g.to > g.from, { path: ['to'], message: 'la fin doit être après le début / the end must come after the start' });
export type GoalInput = z.input<typeof goalInput>;

interface GoalRow {
  id: number;
  label: string;
  amount_cents: number;
  starts_on: string;
  ends_on: string;
  set_by: string;
  set_at: Date;
}

const toGoal = (r: GoalRow): CampaignGoal => ({
  id: Number(r.id),
  label: r.label,
  amountCents: Number(r.amount_cents),
  startsOn: r.starts_on,
  endsOn: r.ends_on,
  setBy: r.set_by,
  setAt: r.set_at.toISOString(),
});

/**
 * Sets the campaign goal (a new row: earlier goals stay for the record, the newest one covering
 * a day is that day's goal). Only a treasurer may set it.
 */
export async function setCampaignGoal(sql: Sql, raw: unknown): Promise<CampaignGoal> {
  const input = parseInput(goalInput, raw);
  const treasurer = await personWithRole(sql, input.as, 'treasurer');
  const label = input.label || t('pipeline.goal.defaultLabel', { from: input.from, to: input.to });
  const [row] = await sql<GoalRow[]>`
    INSERT INTO campaign_goals (label, amount_cents, starts_on, ends_on, set_by)
    VALUES (${label}, ${input.amount}, ${input.from}, ${input.to}, ${treasurer.email})
    RETURNING id, label, amount_cents, starts_on::text, ends_on::text, set_by, set_at`;
  return toGoal(row);
}

/** The goal of a day: the newest one whose period covers it; null when none does. */
export async function currentGoal(sql: Sql, day: string = today()): Promise<CampaignGoal | null> {
  const [row] = await sql<GoalRow[]>`
    SELECT id, label, amount_cents, starts_on::text, ends_on::text, set_by, set_at
    FROM campaign_goals
    WHERE starts_on <= ${day}::date AND ends_on >= ${day}::date
    ORDER BY set_at DESC, id DESC
    LIMIT 1`;
  return row ? toGoal(row) : null;
}

/** Percent with one decimal, from integer cents (presentation only: the amounts stay exact). */
export const percentOf = (part: number, whole: number) => (whole > 0 ? Math.round((part * 1000) / whole) / 10 : 0);

/** A goal with what came in over its period. */
export async function withProgress(sql: Sql, goal: CampaignGoal): Promise<GoalProgress> {
  const [{ cents }] = await sql<{ cents: number }[]>`
    SELECT coalesce(sum(amount_cents), 0)::bigint AS cents FROM money_received
    WHERE received_on BETWEEN ${goal.startsOn}::date AND ${goal.endsOn}::date`;
  const receivedCents = Number(cents);
  return { ...goal, receivedCents, percent: percentOf(receivedCents, goal.amountCents), remainingCents: Math.max(goal.amountCents - receivedCents, 0) };
}

/** The goal of a day with what came in over its period; null when no goal covers the day. */
export async function goalProgress(sql: Sql, day: string = today()): Promise<GoalProgress | null> {
  const goal = await currentGoal(sql, day);
  return goal ? withProgress(sql, goal) : null;
}
