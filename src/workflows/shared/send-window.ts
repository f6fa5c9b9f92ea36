/**
 * When the association may send: the send window (weekdays and hours, Paris time), French
 * public holidays and blackout periods (exam weeks).
 *
 * PURE and deterministic: no imports, no Node built-ins, no Intl, no clock. The workflow sandbox
 * bundles it, the activities (send slots) and the CLI (`mecene outreach plan`) import it: this is
 * the one implementation of the sending dates, so the plan a person previews is what the
 * workflow does. Paris time follows the EU rule (UTC+1; UTC+2 from the last Sunday of March
 * 01:00 UTC to the last Sunday of October 01:00 UTC), computed with integer arithmetic.
 */

/** The rules a send obeys. Holidays and blackouts are Paris calendar days. */
export interface SendRules {
  /** Days sends may go out: 1 = Monday … 7 = Sunday. */
  weekdays: number[];
  /** Opening time, 'HH:MM' Paris (included). */
  opens: string;
  /** Closing time, 'HH:MM' Paris (excluded; '24:00' is the end of the day). */
  closes: string;
  /** Public holidays, 'YYYY-MM-DD'. */
  holidays: string[];
  /** Periods without sends, both days included. */
  blackouts: { from: string; to: string }[];
}

/** Why an instant is outside the window. */
export type ClosedReason = 'weekend' | 'closed_day' | 'holiday' | 'blackout' | 'outside_hours';

/** A Paris calendar day the send skipped, and why. */
export interface Closure {
  day: string;
  reason: ClosedReason;
}

/** An instant read on a Paris wall clock. */
export interface ParisParts {
  /** 'YYYY-MM-DD'. */
  day: string;
  year: number;
  month: number;
  date: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Offset from UTC, in minutes (60 in winter, 120 in summer). */
  offsetMinutes: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How far a search for an opening goes before the rules are declared never open. */
const SEARCH_DAYS = 400;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, days counted from 1970-01-01).

/** Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The civil date of a day count (H. Hinnant's civil_from_days). */
function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: era * 400 + yoe + (m <= 2 ? 1 : 0), m, d };
}

/** 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday). */
function weekdayOfDays(days: number): number {
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const dayText = (days: number) => {
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
};

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a 'YYYY-MM-DD' day; throws on anything else. */
function daysOf(text: string): number {
  const m = DAY_PATTERN.exec(text);
  if (!m) throw new Error(`not a day (YYYY-MM-DD): ${JSON.stringify(text)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = daysFromCivil(y, mo, d);
  if (dayText(days) !== text) throw new Error(`not a real day: ${text}`);
  return days;
}

/** The day after (or `n` days after) a 'YYYY-MM-DD' day. */
export function addDays(day: string, n = 1): string {
  return dayText(daysOf(day) + n);
}

// ---------------------------------------------------------------------------------------------
// Paris time by the EU rule.

/** The instant (ms) of the last Sunday of a month at 01:00 UTC: when the EU clocks change. */
function lastSundayChange(year: number, month: number): number {
  const nextMonthFirst = month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
  const last = nextMonthFirst - 1;
  const sunday = last - (weekdayOfDays(last) % 7);
  return sunday * DAY + HOUR;
}

/** Paris's offset from UTC at an instant: one hour in winter, two in summer (ms). */
export function parisOffsetMs(instantMs: number): number {
  const year = civilFromDays(Math.floor(instantMs / DAY)).y;
  return instantMs >= lastSundayChange(year, 3) && instantMs < lastSundayChange(year, 10) ? 2 * HOUR : HOUR;
}

/** An instant read on a Paris wall clock. */
export function parisParts(instantMs: number): ParisParts {
  const offset = parisOffsetMs(instantMs);
  const wall = instantMs + offset;
  const days = Math.floor(wall / DAY);
  const inDay = wall - days * DAY;
  const { y, m, d } = civilFromDays(days);
  return {
    day: dayText(days),
    year: y,
    month: m,
    date: d,
    hour: Math.floor(inDay / HOUR),
    minute: Math.floor((inDay % HOUR) / MINUTE),
    second: Math.floor((inDay % MINUTE) / 1000),
    weekday: weekdayOfDays(days),
    offsetMinutes: offset / MINUTE,
  };
}

/** The Paris calendar day of an instant, 'YYYY-MM-DD'. */
export function parisDayOf(instantMs: number): string {
  return parisParts(instantMs).day;
}

/**
 * The instant a Paris wall-clock time denotes, `minutes` after midnight of `day`. In the
 * repeated autumn hour the earlier instant; a time skipped in spring moves forward by the gap.
 */
export function parisInstant(day: string, minutes: number): number {
  const wall = daysOf(day) * DAY + minutes * MINUTE;
  for (const offset of [2 * HOUR, HOUR]) {
    if (parisOffsetMs(wall - offset) === offset) return wall - offset;
  }
  return wall - HOUR; // skipped by the spring change: read with the winter offset, i.e. one hour later
}

// ---------------------------------------------------------------------------------------------
// The window.

const TIME_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after midnight of 'HH:MM' ('24:00' allowed as a closing time). */
function minutesOf(text: string, closing: boolean): number {
  if (closing && text === '24:00') return 24 * 60;
  const m = TIME_PATTERN.exec(text);
  if (!m) throw new Error(`not a time (HH:MM): ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Rules made ready for searching: parsed once, checked once. */
interface CompiledRules {
  weekdays: Set<number>;
  opens: number;
  closes: number;
  holidays: Set<string>;
  blackouts: { from: number; to: number }[];
}

function compile(rules: SendRules): CompiledRules {
  const opens = minutesOf(rules.opens, false);
  const closes = minutesOf(rules.closes, true);
  if (closes <= opens) throw new Error(`send window closes (${rules.closes}) before it opens (${rules.opens})`);
  for (const w of rules.weekdays) if (!Number.isInteger(w) || w < 1 || w > 7) throw new Error(`weekday out of 1..7: ${w}`);
  const blackouts = rules.blackouts.map((b) => {
    const period = { from: daysOf(b.from), to: daysOf(b.to) };
    if (period.to < period.from) throw new Error(`blackout ends before it starts: ${b.from}..${b.to}`);
    return period;
  });
  for (const h of rules.holidays) daysOf(h);
  return { weekdays: new Set(rules.weekdays), opens, closes, holidays: new Set(rules.holidays), blackouts };
}

/** Why a Paris day has no window at all, or null when sends may go out that day. */
function dayClosure(c: CompiledRules, day: string): Exclude<ClosedReason, 'outside_hours'> | null {
  const days = daysOf(day);
  if (c.holidays.has(day)) return 'holiday';
  if (c.blackouts.some((b) => days >= b.from && days <= b.to)) return 'blackout';
  const weekday = weekdayOfDays(days);
  if (!c.weekdays.has(weekday)) return weekday >= 6 ? 'weekend' : 'closed_day';
  return null;
}

/** Why sends may not go out at this instant, or null when the window is open. */
export function closedReason(instantMs: number, rules: SendRules): ClosedReason | null {
  const c = compile(rules);
  const day = parisDayOf(instantMs);
  const closure = dayClosure(c, day);
  if (closure) return closure;
  return instantMs >= parisInstant(day, c.opens) && instantMs < parisInstant(day, c.closes) ? null : 'outside_hours';
}

/** True when a send may go out at this instant. */
export function isOpen(instantMs: number, rules: SendRules): boolean {
  return closedReason(instantMs, rules) === null;
}

/**
 * The earliest instant at or after `instantMs` inside the window: an instant inside it is
 * returned unchanged; otherwise the next opening (a Saturday 23:00 → Monday 09:00 Paris).
 * Throws when the rules never open within about 400 days (no weekdays, a blackout over years).
 */
export function nextOpening(instantMs: number, rules: SendRules): number {
  const c = compile(rules);
  let day = parisDayOf(instantMs);
  for (let i = 0; i <= SEARCH_DAYS; i++, day = addDays(day)) {
    if (dayClosure(c, day)) continue;
    const closesAt = parisInstant(day, c.closes);
    if (instantMs < closesAt) return Math.max(instantMs, parisInstant(day, c.opens));
  }
  throw new Error(
    `the send window never opens within ${SEARCH_DAYS} days after ${parisDayOf(instantMs)} ` +
      `(weekdays [${rules.weekdays.join(',')}], ${rules.opens}–${rules.closes}, ${rules.blackouts.length} blackout(s)): check the sending rules`,
  );
}

/** The first Paris day on or after `day` with a window (its opening may still be hours away). */
export function nextOpenDay(day: string, rules: SendRules): string {
  return parisDayOf(nextOpening(parisInstant(day, 0), rules));
}

/**
 * What kept a send due at `dueMs` from going before `sendMs`: the reason of the due instant,
 * then every closed Paris day strictly between (weekends, holidays, blackouts). Empty when the
 * send went when due.
 */
export function closuresBetween(dueMs: number, sendMs: number, rules: SendRules): Closure[] {
  if (sendMs <= dueMs) return [];
  const c = compile(rules);
  const first = parisDayOf(dueMs);
  const last = parisDayOf(sendMs);
  const reason = closedReason(dueMs, rules);
  const found: Closure[] = reason ? [{ day: first, reason }] : [];
  for (let day = addDays(first); day < last; day = addDays(day)) {
    const closure = dayClosure(c, day);
    if (closure) found.push({ day, reason: closure });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The outreach's dates.

/** A follow-up is due its offset after the first email actually went out. */
export function followUpDueAt(firstSentMs: number, offsetMs: number): number {
  return firstSentMs + offsetMs;
}

/** The tutor's alert is due `graceMs` of silence after the last email actually sent. */
export function escalationDueAt(lastSentMs: number, graceMs: number): number {
  return lastSentMs + graceMs;
}

export interface OutreachPlanInput {
  /** When the first email is due (the process starts). */
  firstDueAt: number;
  /** Follow-up offsets from the first email's actual send, increasing (ms). */
  followUpsMs: number[];
  /** Silence after the last email before the tutor is alerted (ms). */
  graceMs: number;
  rules: SendRules;
}

export interface PlannedSend {
  kind: 'initial' | 'followup' | 'escalation';
  /** Follow-up number, from 1. */
  n?: number;
  /** When the step falls due (ms). */
  dueAt: number;
  /** When it goes out: the next opening at or after dueAt (ms). */
  sendAt: number;
  /** Why it was moved (empty when sent when due). */
  moved: Closure[];
}

/**
 * Every email and escalation a round of outreach produces when nobody replies: the first email,
 * the follow-ups at their offsets from the first email's actual send, the tutor's alert `grace`
 * after the last email sent; each moved to the next opening of the window. The workflow
 * computes each date with the same functions (followUpDueAt, escalationDueAt, nextOpening)
 * from what actually happened; daily caps may push a send further (send slots).
 */
export function planOutreach(input: OutreachPlanInput): PlannedSend[] {
  const step = (kind: PlannedSend['kind'], dueAt: number, n?: number): PlannedSend => {
    const sendAt = nextOpening(dueAt, input.rules);
    return { kind, ...(n === undefined ? {} : { n }), dueAt, sendAt, moved: closuresBetween(dueAt, sendAt, input.rules) };
  };
  const first = step('initial', input.firstDueAt);
  const plan = [first];
  let lastSent = first.sendAt;
  input.followUpsMs.forEach((offset, i) => {
    const followUp = step('followup', Math.max(followUpDueAt(first.sendAt, offset), lastSent), i + 1);
    plan.push(followUp);
    lastSent = followUp.sendAt;
  });
  plan.push(step('escalation', escalationDueAt(lastSent, input.graceMs)));
  return plan;
}
