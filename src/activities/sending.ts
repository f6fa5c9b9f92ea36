import { ApplicationFailure } from '@temporalio/activity';
import type { Sql } from '../db/sql';
// The pure, dependency-free sending dates (no Temporal import): the one implementation the
// workflow, this activity and `mecene outreach plan` share.
import { addDays, nextOpening, parisDayOf, parisInstant, type SendRules } from '../workflows/shared/send-window';

/** Serialises reservations: one at a time, across workers and processes. */
const SEND_SLOTS_LOCK = 727_275;

/** How many days ahead a full queue may push an email before the activity gives up (ten years). */
const MAX_DAYS_AHEAD = 3_660;

export interface ReserveSendSlotInput {
  /** The email's business key (`<dossier>:r<round>:followup:<n>`): a retry finds its slot. */
  key: string;
  /** Recipient domain (`fondation.test`) or the address itself; compared in lower case. */
  domain: string;
  /** When the email is due (ISO). */
  notBefore: string;
  rules: SendRules;
  /** Emails per Paris day from the association, all dossiers together. */
  dailyCap: number;
  /** Emails per Paris day to one recipient domain. */
  domainCap: number;
}

export interface SendSlot {
  /** When the email may go (ISO): inside the window, on a day with room. */
  at: string;
  /** The Paris day it counts against. */
  day: string;
}

/** `Helene@Fondation.test` or `fondation.test` → `fondation.test`. */
export function recipientDomain(text: string): string {
  const s = text.trim().toLowerCase();
  return s.slice(s.lastIndexOf('@') + 1);
}

/**
 * Reserves the email's place in the association's daily queue: the first open day on or after
 * `notBefore` (per the send window) where the day has fewer than `dailyCap` slots and the
 * domain fewer than `domainCap`; the slot's time is the due time, or that day's opening.
 * A domain that is full moves to the next day without holding up other domains. Serialised by
 * an advisory lock in a short transaction, so concurrent reservations are served in order.
 * Idempotent by key: the same input returns the same slot; the same key with another due time
 * (the workflow rescheduled, e.g. after a pause) gives up the old slot for a new one.
 */
export async function reserveSendSlot(sql: Sql, input: ReserveSendSlotInput): Promise<SendSlot> {
  const notBefore = Date.parse(input.notBefore);
  if (!input.key || Number.isNaN(notBefore)) throw ApplicationFailure.nonRetryable(`bad send slot request ${JSON.stringify({ key: input.key, notBefore: input.notBefore })}`, 'InvalidSendSlot');
  for (const cap of [input.dailyCap, input.domainCap]) {
    if (!Number.isInteger(cap) || cap < 1) throw ApplicationFailure.nonRetryable(`caps must be positive integers (daily ${input.dailyCap}, domain ${input.domainCap})`, 'InvalidSendSlot');
  }
  const domain = recipientDomain(input.domain);

  let first: number;
  try {
    first = nextOpening(notBefore, input.rules);
  } catch (error) {
    // Rules that never open stay so on retry: fail the step, the workflow decides.
    throw ApplicationFailure.nonRetryable((error as Error).message, 'InvalidSendRules');
  }

  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${SEND_SLOTS_LOCK})`;
    const [existing] = await tx<{ day: string; domain: string; send_at: Date; not_before: Date }[]>`
      SELECT day::text AS day, domain, send_at, not_before FROM send_slots WHERE key = ${input.key}`;
    if (existing) {
      if (existing.not_before.getTime() === notBefore && existing.domain === domain) return { at: existing.send_at.toISOString(), day: existing.day };
      await tx`DELETE FROM send_slots WHERE key = ${input.key}`;
    }

    let day = parisDayOf(first);
    const counts = new Map(
      (
        await tx<{ day: string; total: number; for_domain: number }[]>`
          SELECT day::text AS day, count(*)::int AS total, count(*) FILTER (WHERE domain = ${domain})::int AS for_domain
          FROM send_slots WHERE day >= ${day}::date GROUP BY day`
      ).map((r) => [r.day, r] as const),
    );
    let at = first;
    for (let i = 0; ; i++) {
      const taken = counts.get(day);
      if (!taken || (taken.total < input.dailyCap && taken.for_domain < input.domainCap)) break;
      if (i >= MAX_DAYS_AHEAD) throw ApplicationFailure.nonRetryable(`no send slot within ${MAX_DAYS_AHEAD} days of ${input.notBefore}`, 'SendQueueFull');
      at = nextOpening(parisInstant(addDays(day), 0), input.rules);
      day = parisDayOf(at);
    }
    await tx`
      INSERT INTO send_slots (key, day, domain, send_at, not_before)
      VALUES (${input.key}, ${day}::date, ${domain}, ${new Date(at)}, ${new Date(notBefore)})`;
    return { at: new Date(at).toISOString(), day };
  });
}

/**
 * Gives a slot back when its email will not go (a reply came first, the dossier ended): the
 * day's room returns to the queue. A slot whose time has come stays counted: its email may be out.
 */
export async function releaseSendSlot(sql: Sql, key: string): Promise<{ released: boolean }> {
  const rows = await sql`DELETE FROM send_slots WHERE key = ${key} AND send_at > now() RETURNING id`;
  return { released: rows.length > 0 };
}

/** The send-slot activities (daily caps), for createActivities. */
export function createSendingActivities(deps: { sql: Sql }) {
  return {
    /** See reserveSendSlot: the email's place in the daily queue, `{ at }` when it may go. */
    async reserveSendSlot(input: ReserveSendSlotInput): Promise<SendSlot> {
      return reserveSendSlot(deps.sql, input);
    },
    /** See releaseSendSlot. */
    async releaseSendSlot(input: { key: string }): Promise<{ released: boolean }> {
      return releaseSendSlot(deps.sql, input.key);
    },
  };
}
