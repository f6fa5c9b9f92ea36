import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TreasurerDigest, TutorDigest } from '../../src/digest/compose';
import { digestSummary, renderDigest, tutorDigestVariables } from '../../src/digest/present';
import { loadConfig } from '../../src/config';
import { loadAssociation } from '../../src/templates/association';
import { loadMailTemplates } from '../../src/templates/mail';
import { addDays, isOnWeek, isScheduledFiring, parisClock, weekIndex, weekdayOf, type DigestCadence } from '../../src/workflows/digest/messages';

const cadence: DigestCadence = { weekday: 'monday', time: '08:00', everyWeeks: 2, firstDay: '2026-01-05' };

/** Every Monday from `from`, `n` of them. */
const mondays = (from: string, n: number) => Array.from({ length: n }, (_, i) => addDays(from, 7 * i));

describe('digest weeks', () => {
  it('alternates on and off weeks from the first digest, every Monday of the year', () => {
    const year = mondays('2026-01-05', 52);
    expect(year.map((d) => isOnWeek(d, cadence))).toEqual(year.map((_, i) => i % 2 === 0));
    expect(isOnWeek('2026-01-19', cadence)).toBe(true);
    expect(isOnWeek('2026-01-12', cadence)).toBe(false);
    // Before the first digest the rhythm runs backwards the same way.
    expect(isOnWeek('2025-12-29', cadence)).toBe(false);
    expect(isOnWeek('2025-12-22', cadence)).toBe(true);
  });

  it('keeps the rhythm across a year with 53 ISO weeks (ISO week parity would not)', () => {
    // 2026 has 53 ISO weeks: 28 December 2026 is week 53, 4 January 2027 week 1 — both odd.
    expect([weekIndex('2026-12-28', '2026-01-05'), weekIndex('2027-01-04', '2026-01-05')]).toEqual([51, 52]);
    expect(mondays('2026-12-14', 5).map((d) => isOnWeek(d, cadence))).toEqual([false, true, false, true, false]);
  });

  it('counts whole weeks whatever day of the week the anchor or the day is', () => {
    for (const firstDay of ['2026-01-05', '2026-01-07', '2026-01-11']) {
      expect(isOnWeek('2026-03-30', { everyWeeks: 2, firstDay })).toBe(true);
      expect(isOnWeek('2026-04-02', { everyWeeks: 2, firstDay })).toBe(true);
      expect(isOnWeek('2026-04-06', { everyWeeks: 2, firstDay })).toBe(false);
    }
    expect(weekdayOf('2026-03-29')).toBe('sunday');
    expect(weekdayOf('2026-03-30')).toBe('monday');
    expect(mondays('2026-01-05', 6).map((d) => isOnWeek(d, { everyWeeks: 1, firstDay: '2026-01-05' }))).toEqual([true, true, true, true, true, true]);
    expect(mondays('2026-01-05', 6).map((d) => isOnWeek(d, { everyWeeks: 3, firstDay: '2026-01-05' }))).toEqual([true, false, false, true, false, false]);
  });

  it('recognises the schedule’s firings across daylight-saving changes (08:00 Paris is 07:00 or 06:00 UTC)', () => {
    // Spring forward on Sunday 29 March 2026: the Monday before is UTC+1, the one after UTC+2.
    const before = new Date('2026-03-23T07:00:00Z');
    const after = new Date('2026-03-30T06:00:00Z');
    expect(parisClock(before)).toEqual({ day: '2026-03-23', weekday: 'monday', time: '08:00', second: 0 });
    expect(parisClock(after)).toEqual({ day: '2026-03-30', weekday: 'monday', time: '08:00', second: 0 });
    expect(isScheduledFiring(before, cadence)).toBe(true);
    expect(isScheduledFiring(after, cadence)).toBe(true);
    expect([isOnWeek('2026-03-23', cadence), isOnWeek('2026-03-30', cadence)]).toEqual([false, true]);
    // The same UTC hour is not 08:00 on the other side of the change.
    expect(isScheduledFiring(new Date('2026-03-30T07:00:00Z'), cadence)).toBe(false);
    expect(isScheduledFiring(new Date('2026-03-23T06:00:00Z'), cadence)).toBe(false);

    // Fall back on Sunday 25 October 2026.
    expect(isScheduledFiring(new Date('2026-10-19T06:00:00Z'), cadence)).toBe(true);
    expect(isScheduledFiring(new Date('2026-10-26T07:00:00Z'), cadence)).toBe(true);
    expect(isScheduledFiring(new Date('2026-10-26T06:00:00Z'), cadence)).toBe(false);
    expect([isOnWeek('2026-10-19', cadence), isOnWeek('2026-10-26', cadence)]).toEqual([false, true]);
  });

  it('tells a manual trigger from a firing, and takes the day in Paris, not in UTC', () => {
    expect(isScheduledFiring(new Date('2026-03-30T06:00:01Z'), cadence)).toBe(false); // a trigger, a second later
    expect(isScheduledFiring(new Date('2026-03-30T06:00:00.250Z'), cadence)).toBe(false);
    expect(isScheduledFiring(new Date('2026-03-31T06:00:00Z'), cadence)).toBe(false); // a Tuesday
    // 00:30 on a summer Monday in Paris is still Sunday in UTC.
    const lateNight: DigestCadence = { ...cadence, time: '00:30' };
    const at = new Date('2026-06-28T22:30:00Z');
    expect(parisClock(at).day).toBe('2026-06-29');
    expect(isScheduledFiring(at, lateNight)).toBe(true);
    expect(isOnWeek(parisClock(at).day, lateNight)).toBe(isOnWeek('2026-06-29', cadence));
  });

  it('does calendar arithmetic on days, across months, years and DST', () => {
    expect(addDays('2026-03-28', 2)).toBe('2026-03-30');
    expect(addDays('2026-12-21', 14)).toBe('2027-01-04');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('digest configuration', () => {
  it('defaults to every other Monday at 08:00, and names a wrong variable', () => {
    expect(loadConfig({}).digest).toEqual({ enabled: true, weekday: 'monday', time: '08:00', everyWeeks: 2, firstDay: '2026-01-05', stalledDays: 14, horizonDays: 14 });
    expect(weekdayOf(loadConfig({}).digest.firstDay)).toBe('monday');
    expect(loadConfig({ DIGEST_WEEKDAY: 'Jeudi', DIGEST_ENABLED: 'non', DIGEST_TIME: '07:30', DIGEST_EVERY_WEEKS: '1' }).digest).toMatchObject({ weekday: 'thursday', enabled: false, time: '07:30', everyWeeks: 1 });
    expect(() => loadConfig({ DIGEST_TIME: '8h' })).toThrow(/Variable d'environnement DIGEST_TIME invalide .* \/ Invalid environment variable DIGEST_TIME/);
    expect(() => loadConfig({ DIGEST_WEEKDAY: 'funday' })).toThrow(/DIGEST_WEEKDAY/);
    expect(() => loadConfig({ DIGEST_FIRST_DAY: '2026-02-30' })).toThrow(/DIGEST_FIRST_DAY/);
    expect(() => loadConfig({ DIGEST_EVERY_WEEKS: '0' })).toThrow(/DIGEST_EVERY_WEEKS/);
    expect(() => loadConfig({ DIGEST_ENABLED: 'peut-être' })).toThrow(/DIGEST_ENABLED/);
  });
});

describe('digest presentation', () => {
  const period = { at: new Date('2026-12-07T07:00:00Z'), day: '2026-12-07', since: '2026-11-23', stalledDays: 14, horizonDays: 14 };
  const item = (counterpart: string, kind: 'sponsor' | 'application' = 'application') => ({
    kind,
    id: counterpart,
    counterpart,
    slug: counterpart.toLowerCase(),
    programme: kind === 'application' ? 'Appel 2027' : null,
    student: 'Léa Fournier',
  });
  const tutor: TutorDigest = {
    role: 'tutor',
    recipient: { id: 1, name: 'Marc Roux', email: 'marc@asso.test' },
    period,
    awaiting: [{ ...item('Région'), since: new Date('2026-12-01T10:00:00Z'), dueAt: new Date('2026-12-10T11:00:00Z'), deadlineAt: new Date('2026-12-24T11:00:00Z') }],
    escalated: [],
    stalled: [{ ...item('Crédit Coopératif', 'sponsor'), stage: 'interested', lastActivityAt: new Date('2026-11-10T07:00:00Z') }],
    deadlines: [
      { ...item('Région'), what: 'milestone.tutor_review', on: '2026-12-04' },
      { ...item('Région'), what: 'deadline', on: '2026-12-07' },
      { ...item('Région'), what: 'report.final', on: '2026-12-17' },
    ],
    meetings: [],
    moneyIn: [{ ...item('Fondation'), on: '2026-12-01', amountCents: 250_000, trancheN: 1 }, { ...item('Banque', 'sponsor'), on: '2026-12-02', amountCents: 50_050, trancheN: null }],
    moneyExpected: [],
  };

  it('formats every value in code: days, amounts, labels, due and idle times', () => {
    const v = tutorDigestVariables(tutor, 'fr', { name: 'Asso', email: 'contact@asso.test' } as never);
    expect(v.period).toEqual({ day: '7 décembre 2026', since: '23 novembre 2026', horizonEnd: '21 décembre 2026', stalledDays: '14', horizonDays: '14' });
    expect(v.deadlines.map((d) => [d.status, d.label])).toEqual([
      ['en retard de 3 j', 'relecture du tuteur'],
      ['aujourd’hui', 'date limite de dépôt'],
      ['dans 10 j', 'rapport final'],
    ]);
    expect(v.stalled[0]).toMatchObject({ item: 'Crédit Coopératif, mécénat', stage: 'intéressé', idle: '27 j sans nouvelle' });
    expect(v.moneyIn.map((m) => [m.item, m.amount])).toEqual([
      ['Fondation, Appel 2027, tranche 1', '2\u202f500,00\u00a0€'],
      ['Banque, mécénat', '500,50\u00a0€'],
    ]);
    expect(v.moneyInTotal).toBe('3\u202f000,50\u00a0€');
    expect(digestSummary(tutor, 'fr')).toBe('1 à valider, 1 à l’arrêt, 3 échéance(s), 3\u202f000,50\u00a0€ reçus');
    expect(digestSummary(tutor, 'en')).toBe('1 to validate, 1 stalled, 3 deadline(s), €3,000.50 received');
  });

  it('renders both digests from the templates, saying briefly when a section is empty', async () => {
    const dir = path.resolve('templates');
    const [templates, association] = await Promise.all([loadMailTemplates(dir), loadAssociation(dir)]);
    const mail = renderDigest(templates, tutor, 'fr', association);
    // The subject is one line of plain spaces (the loader folds every whitespace).
    expect(mail.subject).toBe('[Mécène] Votre point du 7 décembre 2026 : 1 à valider, 1 à l’arrêt, 3 échéance(s), 3 000,50 € reçus');
    expect(mail.text).toContain('À valider par vous\n- Région, Appel 2027 (Léa Fournier) : brouillon terminé le 1 décembre 2026, relecture attendue pour le 10 décembre 2026, dépôt avant le 24 décembre 2026\n');
    expect(mail.text).toContain('En alerte\n- aucune alerte\n');
    expect(mail.text).toContain('Rendez-vous\n- aucun rendez-vous en vue\n');
    expect(mail.html).toContain('<li>aucune alerte</li>');

    const treasurer: TreasurerDigest = {
      role: 'treasurer',
      recipient: { id: 2, name: 'Nadia Benali', email: 'nadia@asso.test' },
      period,
      moneyIn: tutor.moneyIn,
      moneyExpected: [],
      overdue: [{ ...item('Région'), on: '2026-12-01', amountCents: 100_000, trancheN: 2 }],
      signoffs: [],
      goal: { label: 'Campagne 2027', amountCents: 1_000_000, startsOn: '2026-09-01', endsOn: '2027-06-30', receivedCents: 300_050, expectedCents: 100_000 },
    };
    const money = renderDigest(templates, treasurer, 'en', association);
    expect(money.subject).toBe('[Mécène] Money digest of 7 December 2026: €3,000.50 received, €1,000.00 overdue, goal 30% reached');
    expect(money.text).toContain('Overdue payments: €1,000.00\n- expected on 1 December 2026 (6 d late): €1,000.00, Région, Appel 2027, instalment 2 (Léa Fournier)\n');
    expect(money.text).toContain('Campaign goal\n- Campagne 2027 (from 1 September 2026 to 30 June 2027): €3,000.50 received of €10,000.00 (30%), €6,999.50 to go; expected by the end: €1,000.00\n');
    expect(money.text).toContain('Sign-offs to give\n- no sign-off waiting\n');
  });
});
