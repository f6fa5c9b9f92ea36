/**
 * The fortnightly digest: types shared by the workflow, the service and tests, and the pure
 * calendar logic that decides which firings are digest weeks. No Node, no clock: the workflow
 * runs it in Temporal's sandbox and must decide the same way on replay.
 */

import { parisParts } from '../shared/send-window';

export type Lang = 'fr' | 'en';
export type Weekday = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
export type DigestRole = 'tutor' | 'treasurer';

/** The schedule of Mécène's digest; tests pass their own id so they never collide on a shared server. */
export const DIGEST_SCHEDULE_ID = 'mecene-digest';
export const DIGEST_TIME_ZONE = 'Europe/Paris';

/** When digests go out: the schedule fires weekly, the workflow keeps one week in `everyWeeks`. */
export interface DigestCadence {
  weekday: Weekday;
  /** HH:MM in Europe/Paris. */
  time: string;
  everyWeeks: number;
  /** A day (YYYY-MM-DD) of the first digest's week: weeks are counted from its Monday. */
  firstDay: string;
}

export interface DigestInput {
  cadence: DigestCadence;
  /** Open items without any event for this many days are listed as stalled. */
  stalledDays: number;
  /** Deadlines, reports and money expected within this many days are listed. */
  horizonDays: number;
  lang: Lang;
  /** The firing instant, for a direct start (tests); otherwise the schedule's TemporalScheduledStartTime. */
  at?: string;
  /** Send whatever the week (a direct start that must not be skipped). */
  force?: boolean;
}

export interface DigestRecipient {
  personId: number;
  role: DigestRole;
  name: string;
  email: string;
}

/** What one recipient got: `sent`, or `empty` (nothing to report: not sent, recorded in the outbox). */
export interface DigestDelivery {
  personId: number;
  role: DigestRole;
  to: string;
  status: 'sent' | 'empty';
  key: string;
  messageId: string;
  subject: string;
}

export interface DigestRunResult {
  /** The digest day in Paris (YYYY-MM-DD) and the firing instant. */
  day: string;
  at: string;
  /** `schedule`: a regular firing; `manual`: `mecene digest send-now` (or a direct start). */
  trigger: 'schedule' | 'manual';
  onWeek: boolean;
  /** Nothing sent: a regular firing on an off week. */
  skippedOffWeek: boolean;
  deliveries: DigestDelivery[];
  failed: { personId: number; role: DigestRole; to: string; error: string }[];
}

/** One key per digest day and recipient: the outbox sends it once, however often the schedule fires that day. */
export function digestKey(day: string, role: DigestRole, personId: number): string {
  return `digest:${day}:${role}:${personId}`;
}

const WEEKDAYS: readonly Weekday[] = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MS_PER_DAY = 86_400_000;

/** Temporal's name of a weekday in a calendar spec. */
export function scheduleWeekday(day: Weekday): 'MONDAY' | 'TUESDAY' | 'WEDNESDAY' | 'THURSDAY' | 'FRIDAY' | 'SATURDAY' | 'SUNDAY' {
  return day.toUpperCase() as never;
}

/** The wall clock in Paris at an instant: calendar day, weekday, HH:MM and seconds. */
export function parisClock(at: Date): { day: string; weekday: Weekday; time: string; second: number } {
  const p = parisParts(at.getTime());
  return { day: p.day, weekday: weekdayOf(p.day), time: `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`, second: p.second };
}

/** Days since 1970-01-01 of a calendar day: arithmetic on days, never on instants (no DST). */
function dayNumber(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return Date.UTC(y, m - 1, d) / MS_PER_DAY;
}

/** The calendar day `n` days after `day` (YYYY-MM-DD). */
export function addDays(day: string, n: number): string {
  return new Date((dayNumber(day) + n) * MS_PER_DAY).toISOString().slice(0, 10);
}

export function weekdayOf(day: string): Weekday {
  // 1970-01-01 was a Thursday (index 3 from Monday).
  return WEEKDAYS[(((dayNumber(day) + 3) % 7) + 7) % 7];
}

/** Weeks from the first digest's week to this day's week (Monday-based, negative before it). */
export function weekIndex(day: string, firstDay: string): number {
  const monday = (d: string) => dayNumber(d) - WEEKDAYS.indexOf(weekdayOf(d));
  return Math.round((monday(day) - monday(firstDay)) / 7);
}

/**
 * Whether a digest goes out in this day's week: one week in `everyWeeks`, counted from the
 * first digest's week. Counting weeks, not ISO week numbers, keeps the rhythm across years
 * with 53 ISO weeks; counting calendar days keeps it across daylight-saving changes.
 */
export function isOnWeek(day: string, cadence: Pick<DigestCadence, 'everyWeeks' | 'firstDay'>): boolean {
  const every = Math.max(1, Math.trunc(cadence.everyWeeks));
  return ((weekIndex(day, cadence.firstDay) % every) + every) % every === 0;
}

/**
 * Whether an instant is one the calendar spec produces (the weekday at HH:MM:00 in Paris).
 * The schedule stamps a regular firing with exactly that instant and a manual trigger with the
 * moment of the trigger (to the second), so this tells them apart: only a trigger pressed within
 * the very second of a firing would be taken for one.
 */
export function isScheduledFiring(at: Date, cadence: Pick<DigestCadence, 'weekday' | 'time'>): boolean {
  const clock = parisClock(at);
  return at.getUTCMilliseconds() === 0 && clock.second === 0 && clock.weekday === cadence.weekday && clock.time === cadence.time;
}
