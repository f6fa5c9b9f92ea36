import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import type { ReserveSendSlotInput } from '../../src/activities/sending';
import { frenchPublicHolidays } from '../../src/domain/holidays';
import type { SendRules } from '../../src/workflows/shared/send-window';
import { sponsorOutreachId } from '../../src/workflows/sponsor-outreach/messages';
import { runMecene } from '../support/cli';
import { seed, startTestStack, type TestStack } from '../support/stack';

/**
 * Daily caps on real PostgreSQL through the activities the worker runs (createActivities), and
 * `mecene outreach plan` in its own process.
 */

let stack: TestStack;
let activities: ReturnType<typeof createActivities>;
let work: string;

const rules: SendRules = { weekdays: [1, 2, 3, 4, 5], opens: '09:00', closes: '18:00', holidays: frenchPublicHolidays(2027, 2028), blackouts: [] };
const reserve = (input: Partial<ReserveSendSlotInput> & { key: string; notBefore: string }) =>
  activities.reserveSendSlot({ domain: 'fondation.test', rules, dailyCap: 40, domainCap: 1000, ...input });

/** Slots per Paris day, in reservation order. */
async function perDay(): Promise<Record<string, number>> {
  const rows = await stack.sql<{ day: string; n: number }[]>`SELECT day::text AS day, count(*)::int AS n FROM send_slots GROUP BY day ORDER BY day`;
  return Object.fromEntries(rows.map((r) => [r.day, r.n]));
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  activities = createActivities(stack.deps);
  work = await mkdtemp(path.join(os.tmpdir(), 'mecene-plan-'));
});
afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  await stack.sql`DELETE FROM send_slots`;
});

describe('reserveSendSlot', () => {
  it('serves 100 concurrent reservations with a cap of 40 as exactly 40, 40 and 20 on consecutive open days', async () => {
    // Friday 9 July 2027 17:00 Paris; then the weekend; Monday 12 and Tuesday 13 July.
    const notBefore = '2027-07-09T15:00:00.000Z';
    const slots = await Promise.all(Array.from({ length: 100 }, (_, i) => reserve({ key: `burst:${i}`, domain: `sponsor${i}.test`, notBefore })));
    expect(await perDay()).toEqual({ '2027-07-09': 40, '2027-07-12': 40, '2027-07-13': 20 });
    const byDay = (day: string) => slots.filter((s) => s.day === day).map((s) => s.at);
    // Friday's slots go when due; later days' at the opening (09:00 Paris = 07:00 UTC in July).
    expect(new Set(byDay('2027-07-09'))).toEqual(new Set([notBefore]));
    expect(new Set(byDay('2027-07-12'))).toEqual(new Set(['2027-07-12T07:00:00.000Z']));
    expect(new Set(byDay('2027-07-13'))).toEqual(new Set(['2027-07-13T07:00:00.000Z']));
    // First come, first served: in reservation order, days never go back.
    const order = await stack.sql<{ day: string }[]>`SELECT day::text AS day FROM send_slots ORDER BY id`;
    const days = order.map((r) => r.day);
    expect([...days].sort()).toEqual(days);
  });

  it('skips 14 July when the queue overflows into it', async () => {
    const notBefore = '2027-07-13T08:00:00.000Z';
    await Promise.all(Array.from({ length: 9 }, (_, i) => reserve({ key: `holiday:${i}`, notBefore, dailyCap: 4 })));
    expect(await perDay()).toEqual({ '2027-07-13': 4, '2027-07-15': 4, '2027-07-16': 1 });
  });

  it('holds a full domain to the next day while other domains still go the same day', async () => {
    const monday = '2027-06-07T08:00:00.000Z'; // 10:00 Paris
    const caps = { dailyCap: 4, domainCap: 2 };
    const a1 = await reserve({ key: 'a1', domain: 'helene@Fondation.TEST', notBefore: monday, ...caps });
    const a2 = await reserve({ key: 'a2', domain: 'fondation.test', notBefore: monday, ...caps });
    const a3 = await reserve({ key: 'a3', domain: 'paul@fondation.test', notBefore: monday, ...caps });
    const b1 = await reserve({ key: 'b1', domain: 'credit.example', notBefore: monday, ...caps });
    const c1 = await reserve({ key: 'c1', domain: 'mairie.example', notBefore: monday, ...caps });
    const c2 = await reserve({ key: 'c2', domain: 'mairie.example', notBefore: monday, ...caps });
    expect([a1, a2, a3, b1, c1, c2].map((s) => s.day)).toEqual(['2027-06-07', '2027-06-07', '2027-06-08', '2027-06-07', '2027-06-07', '2027-06-08']);
    expect(a3.at).toBe('2027-06-08T07:00:00.000Z');
    expect(b1.at).toBe(monday);
    const rows = await stack.sql<{ day: string; domain: string; n: number }[]>`
      SELECT day::text AS day, domain, count(*)::int AS n FROM send_slots GROUP BY day, domain ORDER BY day, domain`;
    expect(rows).toEqual([
      { day: '2027-06-07', domain: 'credit.example', n: 1 },
      { day: '2027-06-07', domain: 'fondation.test', n: 2 },
      { day: '2027-06-07', domain: 'mairie.example', n: 1 },
      { day: '2027-06-08', domain: 'fondation.test', n: 1 },
      { day: '2027-06-08', domain: 'mairie.example', n: 1 },
    ]);
  });

  it('returns the same slot to a retry, even concurrent ones; a new due time moves it; a released slot frees its place', async () => {
    const notBefore = '2027-06-07T08:00:00.000Z';
    const first = await reserve({ key: 'dossier:r0:followup:1', notBefore, dailyCap: 1 });
    const retries = await Promise.all(Array.from({ length: 10 }, () => reserve({ key: 'dossier:r0:followup:1', notBefore, dailyCap: 1 })));
    expect(retries).toEqual(Array.from({ length: 10 }, () => first));
    expect(await perDay()).toEqual({ '2027-06-07': 1 });

    // The day is full: another dossier goes on Tuesday.
    const other = await reserve({ key: 'other:initial', notBefore, dailyCap: 1 });
    expect(other.day).toBe('2027-06-08');

    // Rescheduled (the workflow was paused): the old slot is given up, the new one taken.
    const moved = await reserve({ key: 'dossier:r0:followup:1', notBefore: '2027-06-09T12:00:00.000Z', dailyCap: 1 });
    expect(moved).toEqual({ at: '2027-06-09T12:00:00.000Z', day: '2027-06-09' });
    expect(await perDay()).toEqual({ '2027-06-08': 1, '2027-06-09': 1 });

    // A reply came first: the slot goes back to the queue (Monday is free again).
    expect(await activities.releaseSendSlot({ key: 'dossier:r0:followup:1' })).toEqual({ released: true });
    expect(await activities.releaseSendSlot({ key: 'dossier:r0:followup:1' })).toEqual({ released: false });
    expect((await reserve({ key: 'third:initial', notBefore, dailyCap: 1 })).day).toBe('2027-06-07');

    // A slot whose time has come stays counted: its email may be out.
    await reserve({ key: 'past:initial', notBefore: '2020-06-08T08:00:00.000Z', dailyCap: 1 });
    expect(await activities.releaseSendSlot({ key: 'past:initial' })).toEqual({ released: false });
  });

  it('keeps the order of reservations: the queue drains first come, first served', async () => {
    const notBefore = '2027-06-07T08:00:00.000Z';
    const slots = [];
    for (let i = 0; i < 12; i++) slots.push(await reserve({ key: `fifo:${i}`, notBefore, dailyCap: 5 }));
    expect(slots.map((s) => s.day)).toEqual([
      ...Array(5).fill('2027-06-07'),
      ...Array(5).fill('2027-06-08'),
      ...Array(2).fill('2027-06-09'),
    ]);
    const times = slots.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // A later request due earlier than the queue still takes the first day with room (nobody waits behind a full day).
    expect((await reserve({ key: 'fifo:late', notBefore: '2027-06-09T09:00:00.000Z', dailyCap: 5 })).day).toBe('2027-06-09');
  });

  it('fails for good on rules that never open or caps below one (a retry would not help)', async () => {
    const failure = async (input: Parameters<typeof reserve>[0]) => {
      try {
        await reserve(input);
      } catch (error) {
        return error as ApplicationFailure;
      }
      throw new Error('accepted');
    };
    const never = await failure({ key: 'never', notBefore: '2027-06-07T08:00:00.000Z', rules: { ...rules, weekdays: [] } });
    expect(never).toBeInstanceOf(ApplicationFailure);
    expect(never).toMatchObject({ type: 'InvalidSendRules', nonRetryable: true });
    expect(never.message).toMatch(/never opens/);
    expect(await failure({ key: 'zero', notBefore: '2027-06-07T08:00:00.000Z', dailyCap: 0 })).toMatchObject({ type: 'InvalidSendSlot', nonRetryable: true });
    expect(await perDay()).toEqual({});
  });
});

describe('mecene outreach plan', () => {
  it('prints every email and the alert with due and send times, the reasons for each move, and starts nothing', async () => {
    const { sponsor } = await seed(stack.sql, 'plan');
    const policy = path.join(work, 'policy.yaml');
    await writeFile(policy, 'followUps: [1d, 3d]\ngrace: 1d\nblackouts:\n  - { from: 2027-07-19, to: 2027-07-20 }\n');
    const r = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--from', '2027-07-14', '--policy', policy]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`Plan d’envoi pour « ${sponsor.name} » (contact : Hélène Dupré <helene.plan@fondation.test>), si personne ne répond :`);
    const row = (label: string) => lines.find((l) => l.startsWith(label)) ?? '';
    // 14 July is a holiday: the first email goes on the 15th at 09:00.
    expect(row('premier courriel')).toMatch(/14 juillet 2027 à 00:00 +15 juillet 2027 à 09:00 +décalé : jour férié \(Fête Nationale de la France\)$/);
    // One day after the first send: Friday 16 at 09:00, on time.
    expect(row('relance n° 1')).toMatch(/16 juillet 2027 à 09:00 +16 juillet 2027 à 09:00 +—$/);
    // Three days after: Sunday 18 → the weekend, then the exam blackout → Wednesday 21.
    expect(row('relance n° 2')).toMatch(/18 juillet 2027 à 09:00 +21 juillet 2027 à 09:00 +décalé : week-end, période sans envoi \(19 juillet 2027 – 20 juillet 2027\)/);
    expect(row('alerte au tuteur')).toMatch(/22 juillet 2027 à 09:00 +22 juillet 2027 à 09:00 +—$/);
    expect(r.stdout).toContain('Fenêtre d’envoi : du lundi au vendredi, de 09:00 à 18:00 (heure de Paris), hors jours fériés et périodes sans envoi (19 juillet 2027 – 20 juillet 2027).');
    expect(r.stdout).toContain('Plafonds : 40 courriels par jour pour toute l’association, 5 par jour vers un même domaine');
    expect(r.stdout).toContain(`Rien n’a été lancé : \`mecene outreach start ${sponsor.slug} …\``);

    // Nothing started: no dossier, no process, no email, no slot.
    expect((await stack.sql`SELECT 1 FROM dossiers WHERE organisation_id = ${sponsor.id}`).length).toBe(0);
    await expect(stack.client.workflow.getHandle(sponsorOutreachId(sponsor.id)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await stack.catcher.store.list()).length).toBe(0);
    expect(await perDay()).toEqual({});
  });

  it('gives the data as JSON, follows the configured window, and speaks English', async () => {
    const { sponsor } = await seed(stack.sql, 'json');
    const r = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--from', '2026-10-24 23:00', '--json'], {
      SEND_WINDOW_DAYS: 'mon-thu',
      SEND_WINDOW_OPENS: '10:00',
      SEND_DAILY_CAP: '25',
    });
    expect(r.stderr).toBe('');
    const plan = JSON.parse(r.stdout);
    expect(plan.sponsor.slug).toBe(sponsor.slug);
    expect(plan.caps).toEqual({ daily: 25, domain: 5 });
    expect(plan.rules).toMatchObject({ weekdays: [1, 2, 3, 4], opens: '10:00', closes: '18:00', blackouts: [] });
    expect(plan.steps.map((s: { kind: string; sendAt: string }) => [s.kind, s.sendAt])).toEqual([
      // Saturday 24 October 2026 23:00 (summer time) → Monday 26 at 10:00 (winter time) = 09:00 UTC.
      ['initial', '2026-10-26T09:00:00.000Z'],
      ['followup', '2026-11-02T09:00:00.000Z'],
      // 14 days after the first send: Monday 9 November.
      ['followup', '2026-11-09T09:00:00.000Z'],
      // 7 days after the last: Monday 16 November.
      ['escalation', '2026-11-16T09:00:00.000Z'],
    ]);
    expect(plan.steps[0].moved).toEqual([
      { day: '2026-10-24', reason: 'weekend' },
      { day: '2026-10-25', reason: 'weekend' },
    ]);

    const en = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--from', '2027-12-24 18:30'], { MECENE_LANG: 'en' });
    expect(en.code).toBe(0);
    expect(en.stdout).toContain(`Sending plan for "${sponsor.name}"`);
    expect(en.stdout).toMatch(/first email +24 December 2027 at 18:30 +27 December 2027 at 09:00 +moved: outside sending hours \(09:00–18:00\), public holiday \(Christmas Day\), weekend/);
    expect(en.stdout).toContain('Send window: Monday to Friday, 09:00 to 18:00 (Paris time), except public holidays.');
  });

  it('refuses an unknown sponsor, a wrong date and a wrong policy with a message, exit code 1', async () => {
    const { sponsor } = await seed(stack.sql, 'errors');
    const unknown = await runMecene(stack, ['outreach', 'plan', 'inconnu']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('Mécène inconnu : « inconnu ». Voir `mecene sponsors list`.');
    const badDate = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--from', '2027-02-30']);
    expect(badDate.code).toBe(1);
    expect(badDate.stderr.trim()).toBe('Date de départ invalide : « 2027-02-30 » (attendu AAAA-MM-JJ ou « AAAA-MM-JJ HH:MM », heure de Paris).');
    const policy = path.join(work, 'bad-window.yaml');
    await writeFile(policy, 'sendWindow: { days: weekdays }\n');
    const badDays = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--policy', policy]);
    expect(badDays.code).toBe(1);
    expect(badDays.stderr).toMatch(/Politique de relance invalide .*sendWindow\.days : jours attendus, ex\. mon-fri.* \/ days expected/);
    await writeFile(policy, 'sendWindow: { opens: "19:00", closes: "09:00" }\n');
    const reversed = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--policy', policy]);
    expect(reversed.code).toBe(1);
    expect(reversed.stderr).toMatch(/sendWindow\.closes : la fenêtre doit fermer après son ouverture/);
    // Fine alone, but opening after the configured closing (18:00).
    await writeFile(policy, 'sendWindow: { opens: "19:00" }\n');
    const late = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--policy', policy]);
    expect(late.code).toBe(1);
    expect(late.stderr.trim()).toBe('La fenêtre d’envoi ferme (18:00) avant d’ouvrir (19:00) : vérifiez sendWindow dans la politique, ou SEND_WINDOW_OPENS et SEND_WINDOW_CLOSES.');
    const never = path.join(work, 'never.yaml');
    await writeFile(never, 'blackouts: [{ from: 2026-01-01, to: 2030-12-31 }]\n');
    const closed = await runMecene(stack, ['outreach', 'plan', sponsor.slug, '--policy', never, '--from', '2027-01-04']);
    expect(closed.code).toBe(1);
    expect(closed.stderr.trim()).toBe('La fenêtre d’envoi ne s’ouvre jamais dans l’année qui suit le 4 janvier 2027 : vérifiez les jours d’envoi, les horaires et les périodes sans envoi.');
    const badEnv = await runMecene(stack, ['outreach', 'plan', sponsor.slug], { SEND_BLACKOUTS: '2027-13-01' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/SEND_BLACKOUTS invalide/);
  });
});
