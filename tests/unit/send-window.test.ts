import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { MeceneError } from '../../src/domain/errors';
import { defaultSendRules, frenchHolidayName, frenchPublicHolidays, sendRulesFor } from '../../src/domain/holidays';
import { policySchema } from '../../src/domain/schemas';
import { parseBlackouts, parseWeekdays, settingsWithPolicy, type SendSettings } from '../../src/domain/send-rules';
import {
  closedReason,
  closuresBetween,
  isOpen,
  nextOpening,
  parisInstant,
  parisParts,
  planOutreach,
  type SendRules,
} from '../../src/workflows/shared/send-window';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

/** The default rules: Monday–Friday 09:00–18:00 Paris, French public holidays 2026–2028. */
const rules: SendRules = {
  weekdays: [1, 2, 3, 4, 5],
  opens: '09:00',
  closes: '18:00',
  holidays: frenchPublicHolidays(2026, 2028),
  blackouts: [],
};
const next = (instant: string, r: SendRules = rules) => iso(nextOpening(at(instant), r));

describe('Paris time without Intl', () => {
  it('agrees with the time zone database every hour from 2020 to 2030', () => {
    const f = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' });
    const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
    const mismatches: string[] = [];
    for (let t = at('2020-01-01T00:00:00Z'); t < at('2031-01-01T00:00:00Z'); t += 3_600_000) {
      const p = parisParts(t);
      const q = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
      const ours = `${p.day} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')} ${p.weekday}`;
      const theirs = `${q.year}-${q.month}-${q.day} ${q.hour}:${q.minute} ${weekdays[q.weekday]}`;
      if (ours !== theirs) mismatches.push(`${iso(t)}: ${ours} ≠ ${theirs}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('changes on the last Sundays of March and October at 01:00 UTC', () => {
    expect(parisParts(at('2026-03-29T00:59:59Z')).offsetMinutes).toBe(60);
    expect(parisParts(at('2026-03-29T01:00:00Z')).offsetMinutes).toBe(120);
    expect(parisParts(at('2026-10-25T00:59:59Z')).offsetMinutes).toBe(120);
    expect(parisParts(at('2026-10-25T01:00:00Z')).offsetMinutes).toBe(60);
    expect(parisParts(at('2027-03-28T01:00:00Z')).offsetMinutes).toBe(120);
    expect(parisParts(at('2027-10-31T01:00:00Z')).offsetMinutes).toBe(60);
  });

  it('turns wall-clock times into instants, a skipped spring time moving forward, a repeated autumn time the first', () => {
    expect(iso(parisInstant('2026-07-14', 9 * 60))).toBe('2026-07-14T07:00:00.000Z');
    expect(iso(parisInstant('2026-12-24', 9 * 60))).toBe('2026-12-24T08:00:00.000Z');
    expect(iso(parisInstant('2026-03-29', 2 * 60 + 30))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(parisInstant('2026-10-25', 2 * 60 + 30))).toBe('2026-10-25T00:30:00.000Z'); // the first 02:30
    expect(iso(parisInstant('2026-10-26', 24 * 60))).toBe('2026-10-26T23:00:00.000Z');
  });
});

describe('nextOpening', () => {
  it('sends a message due on 14 July the next working morning (15 July 09:00 Paris)', () => {
    expect(next('2027-07-14T08:00:00Z')).toBe('2027-07-15T07:00:00.000Z');
    expect(closedReason(at('2027-07-14T08:00:00Z'), rules)).toBe('holiday');
  });

  it('sends a message due on a Saturday night on Monday at 09:00', () => {
    expect(next('2026-06-13T21:00:00Z')).toBe('2026-06-15T07:00:00.000Z'); // Saturday 23:00 Paris
    expect(closedReason(at('2026-06-13T21:00:00Z'), rules)).toBe('weekend');
  });

  it('keeps an instant inside the window, up to 17:59, and moves 18:00 to the next working morning', () => {
    expect(next('2026-06-12T15:59:00Z')).toBe('2026-06-12T15:59:00.000Z'); // Friday 17:59
    expect(isOpen(at('2026-06-12T15:59:59Z'), rules)).toBe(true);
    expect(next('2026-06-12T16:00:00Z')).toBe('2026-06-15T07:00:00.000Z'); // Friday 18:00 → Monday 09:00
    expect(closedReason(at('2026-06-12T16:00:00Z'), rules)).toBe('outside_hours');
    expect(next('2026-06-10T06:59:00Z')).toBe('2026-06-10T07:00:00.000Z'); // Wednesday 08:59 → 09:00
    expect(next('2026-06-10T07:00:00Z')).toBe('2026-06-10T07:00:00.000Z'); // 09:00 is open
  });

  it('crosses the daylight-saving changes of 2026 and 2027 at the right hour', () => {
    // Spring 2026: Saturday 28 March 23:00 (UTC+1) → Monday 30 March 09:00 (UTC+2) = 07:00 UTC.
    expect(next('2026-03-28T22:00:00Z')).toBe('2026-03-30T07:00:00.000Z');
    // Autumn 2026: Saturday 24 October 23:00 (UTC+2) → Monday 26 October 09:00 (UTC+1) = 08:00 UTC.
    expect(next('2026-10-24T21:00:00Z')).toBe('2026-10-26T08:00:00.000Z');
    // Friday 18:30 before each change.
    expect(next('2026-03-27T17:30:00Z')).toBe('2026-03-30T07:00:00.000Z');
    expect(next('2026-10-23T16:30:00Z')).toBe('2026-10-26T08:00:00.000Z');
    // Spring 2027: Saturday 27 March → Monday 29 is Easter Monday → Tuesday 30 March 09:00 = 07:00 UTC.
    expect(next('2027-03-27T22:00:00Z')).toBe('2027-03-30T07:00:00.000Z');
    // Autumn 2027: Saturday 30 October → Monday 1 November (Toussaint) → Tuesday 2 November 09:00 = 08:00 UTC.
    expect(next('2027-10-30T21:00:00Z')).toBe('2027-11-02T08:00:00.000Z');
  });

  it('skips Easter Monday, Ascension, 1 May, 11 November and Christmas', () => {
    expect(next('2026-04-06T08:00:00Z')).toBe('2026-04-07T07:00:00.000Z'); // Easter Monday 2026 → Tuesday
    expect(next('2026-05-14T08:00:00Z')).toBe('2026-05-15T07:00:00.000Z'); // Ascension (Thursday) → Friday
    expect(next('2026-05-01T08:00:00Z')).toBe('2026-05-04T07:00:00.000Z'); // 1 May (Friday) → Monday 4
    expect(next('2026-05-07T16:30:00Z')).toBe('2026-05-11T07:00:00.000Z'); // Thursday evening → 8 May (Friday) → Monday 11
    expect(next('2026-11-11T08:00:00Z')).toBe('2026-11-12T08:00:00.000Z'); // 11 November (Wednesday) → Thursday
    expect(next('2026-12-24T17:00:00Z')).toBe('2026-12-28T08:00:00.000Z'); // 24 Dec evening → Christmas (Friday) → Monday 28
    expect(next('2027-12-24T17:00:00Z')).toBe('2027-12-27T08:00:00.000Z'); // Christmas 2027 is a Saturday
  });

  it('skips blackout periods, both days included', () => {
    const exams: SendRules = { ...rules, blackouts: [{ from: '2027-01-11', to: '2027-01-22' }] };
    expect(next('2027-01-11T08:00:00Z', exams)).toBe('2027-01-25T08:00:00.000Z');
    expect(next('2027-01-22T16:59:00Z', exams)).toBe('2027-01-25T08:00:00.000Z');
    expect(next('2027-01-08T16:59:00Z', exams)).toBe('2027-01-08T16:59:00.000Z'); // the Friday before: open
    expect(next('2027-01-08T17:00:00Z', exams)).toBe('2027-01-25T08:00:00.000Z');
    expect(closedReason(at('2027-01-13T10:00:00Z'), exams)).toBe('blackout');
    // A blackout ending on a Friday before a holiday Monday.
    const spring: SendRules = { ...rules, blackouts: [{ from: '2027-03-22', to: '2027-03-26' }] };
    expect(next('2027-03-22T08:00:00Z', spring)).toBe('2027-03-30T07:00:00.000Z');
  });

  it('follows custom weekdays and hours', () => {
    const saturdays: SendRules = { ...rules, weekdays: [6], opens: '10:30', closes: '24:00' };
    expect(next('2026-06-10T08:00:00Z', saturdays)).toBe('2026-06-13T08:30:00.000Z');
    expect(next('2026-06-13T21:59:00Z', saturdays)).toBe('2026-06-13T21:59:00.000Z'); // 23:59 Saturday: open until midnight
    expect(closedReason(at('2026-06-10T08:00:00Z'), { ...rules, weekdays: [1, 2, 4, 5] })).toBe('closed_day');
  });

  it('refuses rules that never open, with a clear message', () => {
    expect(() => nextOpening(at('2026-06-10T08:00:00Z'), { ...rules, weekdays: [] })).toThrow(/never opens within 400 days/);
    expect(() => nextOpening(at('2026-06-10T08:00:00Z'), { ...rules, blackouts: [{ from: '2026-01-01', to: '2030-12-31' }] })).toThrow(/never opens/);
    expect(() => nextOpening(at('2026-06-10T08:00:00Z'), { ...rules, opens: '18:00', closes: '09:00' })).toThrow(/closes \(09:00\) before it opens/);
    expect(() => nextOpening(at('2026-06-10T08:00:00Z'), { ...rules, opens: '9h' })).toThrow(/HH:MM/);
  });

  it('says which closed days a moved send waited through', () => {
    const due = at('2026-12-24T17:00:00Z'); // Thursday 18:00, then Christmas, then the weekend
    expect(closuresBetween(due, nextOpening(due, rules), rules)).toEqual([
      { day: '2026-12-24', reason: 'outside_hours' },
      { day: '2026-12-25', reason: 'holiday' },
      { day: '2026-12-26', reason: 'weekend' },
      { day: '2026-12-27', reason: 'weekend' },
    ]);
    expect(closuresBetween(at('2026-06-10T08:00:00Z'), at('2026-06-10T08:00:00Z'), rules)).toEqual([]);
  });
});

describe('planOutreach', () => {
  it('moves each send to the next opening, follow-ups counted from the actual first send, the alert after the last send', () => {
    const plan = planOutreach({ firstDueAt: at('2027-07-14T08:00:00Z'), followUpsMs: [7 * DAY, 14 * DAY], graceMs: 7 * DAY, rules });
    expect(plan.map((p) => ({ kind: p.kind, n: p.n, dueAt: iso(p.dueAt), sendAt: iso(p.sendAt), moved: p.moved.map((m) => m.reason) }))).toEqual([
      { kind: 'initial', n: undefined, dueAt: '2027-07-14T08:00:00.000Z', sendAt: '2027-07-15T07:00:00.000Z', moved: ['holiday'] },
      { kind: 'followup', n: 1, dueAt: '2027-07-22T07:00:00.000Z', sendAt: '2027-07-22T07:00:00.000Z', moved: [] },
      { kind: 'followup', n: 2, dueAt: '2027-07-29T07:00:00.000Z', sendAt: '2027-07-29T07:00:00.000Z', moved: [] },
      { kind: 'escalation', n: undefined, dueAt: '2027-08-05T07:00:00.000Z', sendAt: '2027-08-05T07:00:00.000Z', moved: [] },
    ]);
  });

  it('moves follow-ups and the alert that fall on weekends, nights and holidays, across a DST change', () => {
    // Friday 23 October 2026 17:00: the first email goes at once.
    const plan = planOutreach({ firstDueAt: at('2026-10-23T15:00:00Z'), followUpsMs: [1 * DAY + 2 * HOUR, 19 * DAY], graceMs: 2 * HOUR, rules });
    expect(plan.map((p) => [p.kind, iso(p.dueAt), iso(p.sendAt)])).toEqual([
      ['initial', '2026-10-23T15:00:00.000Z', '2026-10-23T15:00:00.000Z'],
      // Saturday 19:00 (summer time) → Monday 26 October 09:00 (winter time).
      ['followup', '2026-10-24T17:00:00.000Z', '2026-10-26T08:00:00.000Z'],
      // 19 days after the first send: Wednesday 11 November (Armistice) → Thursday 09:00.
      ['followup', '2026-11-11T15:00:00.000Z', '2026-11-12T08:00:00.000Z'],
      // The tutor's alert, two hours after the last send: inside the window.
      ['escalation', '2026-11-12T10:00:00.000Z', '2026-11-12T10:00:00.000Z'],
    ]);
    expect(plan[2].moved).toEqual([{ day: '2026-11-11', reason: 'holiday' }]);
  });

  it('never sends a follow-up before the previous one', () => {
    const plan = planOutreach({ firstDueAt: at('2026-06-12T15:00:00Z'), followUpsMs: [HOUR, 2 * HOUR], graceMs: 1000, rules });
    const sends = plan.map((p) => p.sendAt);
    expect([...sends].sort((a, b) => a - b)).toEqual(sends);
    expect(iso(plan[1].sendAt)).toBe('2026-06-15T07:00:00.000Z'); // Friday 18:00 → Monday
    expect(iso(plan[2].sendAt)).toBe('2026-06-15T07:00:00.000Z');
    expect(iso(plan[3].sendAt)).toBe('2026-06-15T07:00:01.000Z');
  });
});

describe('French public holidays (date-holidays)', () => {
  it('lists the eleven public holidays of metropolitan France', () => {
    expect(frenchPublicHolidays(2027, 2027)).toEqual([
      '2027-01-01', '2027-03-29', '2027-05-01', '2027-05-06', '2027-05-08', '2027-05-17',
      '2027-07-14', '2027-08-15', '2027-11-01', '2027-11-11', '2027-12-25',
    ]);
    expect(frenchPublicHolidays(2026, 2028)).toHaveLength(33);
  });

  it('names them in French and English', () => {
    expect(frenchHolidayName('2027-07-14', 'fr')).toMatch(/Fête Nationale/i);
    expect(frenchHolidayName('2027-07-14', 'en')).toBe('Bastille Day');
    expect(frenchHolidayName('2027-07-15', 'fr')).toBeUndefined();
  });
});

describe('sending settings', () => {
  const settings: SendSettings = { days: [1, 2, 3, 4, 5], opens: '09:00', closes: '18:00', blackouts: [], dailyCap: 40, domainCap: 5 };

  it('reads days in English or French, ranges and lists', () => {
    expect(parseWeekdays('mon-fri')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWeekdays('lun-ven')).toEqual([1, 2, 3, 4, 5]);
    expect(parseWeekdays('Mon,Wed, vendredi')).toEqual([1, 3, 5]);
    expect(parseWeekdays('sat-mon')).toEqual([1, 6, 7]);
    expect(parseWeekdays(['mon-tue', 'thu'])).toEqual([1, 2, 4]);
    for (const bad of ['', 'mon-', 'weekdays', 'mon-tue-wed', 'mon,,fri']) expect(parseWeekdays(bad)).toBeNull();
  });

  it('reads blackout periods', () => {
    expect(parseBlackouts('2027-01-11..2027-01-22, 2027-05-10..2027-05-21,2027-06-01')).toEqual([
      { from: '2027-01-11', to: '2027-01-22' },
      { from: '2027-05-10', to: '2027-05-21' },
      { from: '2027-06-01', to: '2027-06-01' },
    ]);
    expect(parseBlackouts('')).toEqual([]);
    for (const bad of ['2027-01-22..2027-01-11', '2027-02-30', '2027-01-11...2027-01-12', 'janvier']) expect(parseBlackouts(bad)).toBeNull();
  });

  it('defaults to Monday–Friday 09:00–18:00, 40 a day, 5 per domain', () => {
    expect(loadConfig({}, '/tmp').sending).toEqual(settings);
    const rulesNow = defaultSendRules(settings, new Date('2026-06-10T10:00:00Z'));
    expect(rulesNow).toMatchObject({ weekdays: [1, 2, 3, 4, 5], opens: '09:00', closes: '18:00', blackouts: [] });
    expect(rulesNow.holidays).toContain('2026-07-14');
    expect(rulesNow.holidays).toContain('2028-12-25');
    expect(rulesNow.holidays).not.toContain('2029-01-01');
  });

  it('reads the environment and refuses wrong values, naming the variable in French and English', () => {
    const c = loadConfig({ SEND_WINDOW_DAYS: 'lun-sam', SEND_WINDOW_OPENS: '08:30', SEND_WINDOW_CLOSES: '19:00', SEND_BLACKOUTS: '2027-01-11..2027-01-22', SEND_DAILY_CAP: '100', SEND_DOMAIN_DAILY_CAP: '3' }, '/tmp');
    expect(c.sending).toEqual({ days: [1, 2, 3, 4, 5, 6], opens: '08:30', closes: '19:00', blackouts: [{ from: '2027-01-11', to: '2027-01-22' }], dailyCap: 100, domainCap: 3 });
    const failure = (env: Record<string, string>) => {
      try {
        loadConfig(env, '/tmp');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(failure({ SEND_WINDOW_DAYS: 'weekdays' })).toMatch(/SEND_WINDOW_DAYS invalide.*jours attendus.*Invalid environment variable SEND_WINDOW_DAYS: days expected/);
    expect(failure({ SEND_WINDOW_OPENS: '9h' })).toMatch(/SEND_WINDOW_OPENS invalide.*heure attendue HH:MM.*time expected as HH:MM/);
    expect(failure({ SEND_BLACKOUTS: '2027-01-22..2027-01-11' })).toMatch(/SEND_BLACKOUTS invalide.*périodes attendues.*periods expected/);
    expect(failure({ SEND_WINDOW_OPENS: '18:00', SEND_WINDOW_CLOSES: '09:00' })).toMatch(/SEND_WINDOW_CLOSES invalide.*fermer après son ouverture.*close after it opens/);
    expect(failure({ SEND_DAILY_CAP: '0' })).toMatch(/SEND_DAILY_CAP/);
  });

  it('lets a policy file override the window and the blackouts, without changing the other defaults', () => {
    const defaults = policySchema.parse({});
    expect(defaults).toMatchObject({ followUps: ['7d', '14d'], grace: '7d', sendTimeout: '2m' });
    expect(defaults).not.toHaveProperty('sendWindow');
    expect(defaults).not.toHaveProperty('blackouts');
    const policy = policySchema.parse({ sendWindow: { days: 'mon-thu', opens: '10:00' }, blackouts: [{ from: '2027-01-11', to: '2027-01-22' }, { from: new Date('2027-05-10T00:00:00Z'), to: '2027-05-10' }] });
    expect(policy.sendWindow).toEqual({ days: [1, 2, 3, 4], opens: '10:00' });
    expect(policy.blackouts).toEqual([{ from: '2027-01-11', to: '2027-01-22' }, { from: '2027-05-10', to: '2027-05-10' }]);
    const withBlackout = { ...settings, blackouts: [{ from: '2026-01-01', to: '2026-01-02' }] };
    expect(settingsWithPolicy(withBlackout, policy)).toEqual({ ...settings, days: [1, 2, 3, 4], opens: '10:00', blackouts: policy.blackouts });
    expect(settingsWithPolicy(withBlackout, {})).toEqual(withBlackout);
    const r = sendRulesFor(settings, policy, new Date('2027-01-05T10:00:00Z'));
    expect(iso(nextOpening(at('2027-01-08T10:00:00Z'), r))).toBe('2027-01-25T09:00:00.000Z'); // a Friday: closed by the policy, then exams
    expect(r.holidays).toContain('2027-07-14');
    expect(sendRulesFor(settings, { ...policy, holidays: false }, new Date('2027-01-05T10:00:00Z')).holidays).toEqual([]);
  });

  it('explains a wrong policy window in French and English', () => {
    const issues = (input: unknown) => {
      const r = policySchema.safeParse(input);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(issues({ sendWindow: { days: 'weekdays' } })).toMatch(/sendWindow\.days: jours attendus.* \/ days expected/);
    expect(issues({ sendWindow: { opens: '9h' } })).toMatch(/sendWindow\.opens: heure attendue .* \/ time expected/);
    expect(issues({ sendWindow: { opens: '18:00', closes: '09:00' } })).toMatch(/sendWindow\.closes: la fenêtre doit fermer après son ouverture \/ the window must close after it opens/);
    expect(issues({ sendWindow: { hours: '9-18' } })).toMatch(/sendWindow/);
    expect(issues({ blackouts: [{ from: '2027-01-22', to: '2027-01-11' }] })).toMatch(/blackouts\.0\.to: la période se termine avant de commencer \/ the period ends before it starts/);
    expect(issues({ blackouts: [{ from: '2027-02-30', to: '2027-03-01' }] })).toMatch(/blackouts\.0\.from: date attendue AAAA-MM-JJ/);
    // The policy alone is fine, the mix with the configuration is not: refused when the rules are made.
    const late = policySchema.parse({ sendWindow: { opens: '19:00' } });
    expect(() => settingsWithPolicy(settings, late)).toThrow(MeceneError);
  });
});
