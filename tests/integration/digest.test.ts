import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DigestSettings } from '../../src/config';
import { parisDay } from '../../src/domain/dates';
import { addPerson } from '../../src/service/people';
import { addSponsor } from '../../src/service/sponsors';
import {
  DIGEST_CATCHUP_MS,
  describeDigestSchedule,
  digestScheduleOptions,
  ensureDigestSchedule,
  previewDigest,
  sendDigestNow,
  type DigestPreview,
} from '../../src/service/digest';
import { addDays, parisClock, weekdayOf, type DigestRunResult } from '../../src/workflows/digest/messages';
import { seedApplication, seedDossier, seedFunder, seedSponsorPayment } from '../support/funding-seed';
import { runMecene } from '../support/cli';
import { startTestStack, waitFor, type TestStack } from '../support/stack';

/**
 * The digest on real services: a schedule on the run's Temporal dev server (its own id, deleted
 * afterwards), the worker, PostgreSQL seeded with dossiers and applications of three tutors,
 * and the SMTP catcher that counts what each person received.
 */

let stack: TestStack;
const scheduleId = `digest-test-${Math.random().toString(36).slice(2, 8)}`;
const today = parisDay(new Date());
const thisMonday = addDays(today, -['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].indexOf(weekdayOf(today)));
// Next week is the first digest week: this week is an off week, so send-now proves it sends anyway.
const settings: DigestSettings = { ...loadConfig({}).digest, firstDay: addDays(thisMonday, 7) };
const rendering = () => ({ templates: stack.deps.templates, association: stack.deps.association });

interface Seeded {
  t1: { id: number; email: string; name: string };
  t2: { id: number; email: string };
  t3: { id: number; email: string };
  t4: { id: number; email: string };
  treasurer: { id: number; email: string };
  s1: { email: string };
}
let seeded: Seeded;

async function sponsorFor(name: string) {
  const s = await addSponsor(stack.sql, { name, kind: 'company', contactName: 'Contact', contactEmail: `contact@${name.toLowerCase().replace(/[^a-z]/g, '')}.test`, source: 'test' });
  const [contact] = await stack.sql<{ id: number }[]>`SELECT id FROM contacts WHERE organisation_id = ${s.id}`;
  return { organisationId: s.id, contactId: Number(contact.id) };
}

/** Three tutors: Marc with something in every section, Claire with one alert, Paul with nothing to report; Zoé's only dossier is closed. */
async function seedFunding(): Promise<Seeded> {
  const sql = stack.sql;
  const person = (role: 'student' | 'tutor' | 'treasurer', name: string, email: string) => addPerson(sql, { role, name, email });
  const s1 = await person('student', 'Léa Fournier', 'lea@etu.test');
  const s2 = await person('student', 'Hugo Petit', 'hugo@etu.test');
  const t1 = await person('tutor', 'Marc Roux', 'marc@tuteurs.test');
  const t2 = await person('tutor', 'Claire Morel', 'claire@tuteurs.test');
  const t3 = await person('tutor', 'Paul Girard', 'paul@tuteurs.test');
  const t4 = await person('tutor', 'Zoé Lambert', 'zoe@tuteurs.test');
  const treasurer = await person('treasurer', 'Nadia Benali', 'nadia@asso.test');
  const marc = { studentId: s1.id, tutorId: t1.id };
  const claire = { studentId: s2.id, tutorId: t2.id };
  const yesterday = addDays(today, -1);

  // Marc: an application awaiting his review (deadline in 10 days), an awarded one with money.
  const region = await seedFunder(sql, 'Région Île-de-France');
  await seedApplication(sql, { ...marc, funderId: region.id, programme: 'Jeunesse engagée 2027', amountRequestedCents: 1_500_000, stage: 'review', deadline: new Date(Date.now() + 10 * 86_400_000) });
  const fdf = await seedFunder(sql, 'Fondation de France', 'foundation');
  await seedApplication(sql, {
    ...marc,
    funderId: fdf.id,
    programme: 'Solidarités 2026',
    amountRequestedCents: 1_000_000,
    amountAwardedCents: 1_000_000,
    stage: 'awarded',
    deadline: new Date(Date.now() - 90 * 86_400_000),
    tranches: [
      { expectedOn: addDays(today, -20), amountCents: 400_000 },
      { expectedOn: addDays(today, -5), amountCents: 300_000 },
      { expectedOn: addDays(today, 10), amountCents: 300_000 },
    ],
    received: [{ tranche: 1, amountCents: 400_000, on: yesterday }],
    reports: [{ kind: 'interim', dueOn: addDays(today, 7) }, { kind: 'final', dueOn: addDays(today, 200) }],
  });
  // Marc: an escalated dossier, a stalled one, one with a meeting requested (and a payment).
  const credit = await sponsorFor('Crédit Coopératif');
  const escalated = await seedDossier(sql, { ...marc, ...credit, amountAskedCents: 250_000, stage: 'escalated' });
  await sql`INSERT INTO events (dossier_id, event_key, kind, stage, at) VALUES (${escalated}, ${`${escalated}:9`}, 'escalated', 'escalated', now() - interval '3 days')`;
  const mutuelle = await sponsorFor('Mutuelle Horizon');
  await seedDossier(sql, { ...marc, ...mutuelle, amountAskedCents: 150_000, stage: 'interested', createdAt: new Date(Date.now() - 30 * 86_400_000) });
  const banque = await sponsorFor('Banque Solidaire');
  const meeting = await seedDossier(sql, { ...marc, ...banque, amountAskedCents: 500_000, stage: 'meeting' });
  await sql`INSERT INTO events (dossier_id, event_key, kind, stage, detail) VALUES (${meeting}, ${`${meeting}:5`}, 'reply_recorded', 'meeting', ${sql.json({ outcome: 'meeting', note: 'Rendez-vous jeudi 10 h' })})`;
  await seedSponsorPayment(sql, meeting, 50_000, yesterday);

  // Claire: one escalated dossier; an application at the treasurer's sign-off, deadline far away.
  const orange = await sponsorFor('Fondation Orange');
  const claireEscalated = await seedDossier(sql, { ...claire, ...orange, amountAskedCents: 300_000, stage: 'escalated' });
  await sql`INSERT INTO events (dossier_id, event_key, kind, stage) VALUES (${claireEscalated}, ${`${claireEscalated}:9`}, 'escalated', 'escalated')`;
  const dept = await seedFunder(sql, 'Département du Val-de-Marne');
  await seedApplication(sql, { ...claire, funderId: dept.id, programme: 'Culture pour tous', amountRequestedCents: 800_000, stage: 'signoff', deadline: new Date(Date.now() + 40 * 86_400_000) });

  // Paul: a dossier just contacted, nothing to report. Zoé: a closed dossier only.
  const caisse = await sponsorFor('Caisse d’Épargne');
  await seedDossier(sql, { studentId: s2.id, tutorId: t3.id, ...caisse, amountAskedCents: 100_000, stage: 'contacted' });
  const ancien = await sponsorFor('Ancien Mécène');
  await seedDossier(sql, { studentId: s2.id, tutorId: t4.id, ...ancien, amountAskedCents: 100_000, stage: 'closed', closeReason: 'sans réponse' });

  await sql`INSERT INTO campaign_goals (label, amount_cents, starts_on, ends_on, set_by)
            VALUES ('Campagne 2026-2027', 5000000, ${addDays(today, -60)}::date, ${addDays(today, 200)}::date, 'nadia@asso.test')`;
  return { t1, t2, t3, t4, treasurer, s1 };
}

/** The lines of a section of the text digest: from its heading to the next blank line. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no section ${heading} in:\n${text}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

beforeAll(async () => {
  stack = await startTestStack();
  seeded = await seedFunding();
});
afterAll(async () => {
  await stack?.client.schedule.getHandle(scheduleId).delete().catch(() => {});
  await stack?.stop();
});

describe('digest content', () => {
  let marc: DigestPreview;
  beforeAll(async () => {
    marc = await previewDigest(stack.sql, { tutor: seeded.t1.email }, settings, rendering());
  });

  it('lists the tutor’s items in their sections', () => {
    expect(marc.empty).toBe(false);
    const text = marc.text;
    expect(section(text, 'À valider par vous')).toEqual([expect.stringMatching(/^- Région Île-de-France, Jeunesse engagée 2027 \(Léa Fournier\) : brouillon terminé le .+, relecture attendue pour le .+, dépôt avant le .+$/)]);
    expect(section(text, 'En alerte')).toEqual([expect.stringMatching(/^- Crédit Coopératif, mécénat \(Léa Fournier\) : alerte du /)]);
    expect(section(text, 'À l’arrêt')).toEqual([expect.stringMatching(/^- Mutuelle Horizon, mécénat \(Léa Fournier\), intéressé : dernière nouvelle le .+ \(30 j sans nouvelle\)$/)]);
    expect(section(text, 'Rendez-vous')).toEqual([expect.stringMatching(/^- Banque Solidaire, mécénat \(Léa Fournier\) : rendez-vous demandé le .+ : « Rendez-vous jeudi 10 h »$/)]);

    const deadlines = section(text, 'Échéances jusqu’au');
    // The review milestone (deadline − 14 d) is 4 days late, the sign-off (− 7 d) and the planned
    // submission (− 2 d) come, then the deadline itself; the interim report in 7 days; the final one is beyond.
    expect(deadlines.map((l) => l.replace(/^- .+? \((.+?)\) : (.+?), (.+?) \(Léa Fournier\)$/, '$1 | $2 | $3'))).toEqual([
      'en retard de 4 j | relecture du tuteur | Région Île-de-France, Jeunesse engagée 2027',
      'dans 3 j | visa du trésorier | Région Île-de-France, Jeunesse engagée 2027',
      'dans 7 j | rapport intermédiaire | Fondation de France, Solidarités 2026',
      'dans 8 j | dépôt prévu | Région Île-de-France, Jeunesse engagée 2027',
      'dans 10 j | date limite de dépôt | Région Île-de-France, Jeunesse engagée 2027',
    ]);

    expect(text).toContain('Argent reçu depuis le ');
    expect(section(text, 'Argent reçu depuis')).toEqual([
      expect.stringMatching(/^- .+ : 4\u202f000,00\u00a0€, Fondation de France, Solidarités 2026, tranche 1 \(Léa Fournier\)$/),
      expect.stringMatching(/^- .+ : 500,00\u00a0€, Banque Solidaire, mécénat \(Léa Fournier\)$/),
    ]);
    expect(text).toMatch(/Argent reçu depuis le .+ : 4\u202f500,00\u00a0€\n/);
    expect(section(text, 'Argent attendu')).toEqual([
      expect.stringMatching(/^- .+ \(en retard de 5 j\) : 3\u202f000,00\u00a0€, Fondation de France, Solidarités 2026, tranche 2 \(Léa Fournier\)$/),
      expect.stringMatching(/^- .+ \(dans 10 j\) : 3\u202f000,00\u00a0€, Fondation de France, Solidarités 2026, tranche 3 \(Léa Fournier\)$/),
    ]);
    expect(marc.subject).toMatch(/^\[Mécène\] Votre point du .+ : 1 à valider, 1 en alerte, 1 à l’arrêt, 5 échéance\(s\), 1 rendez-vous, 4 500,00 € reçus, 6 000,00 € attendus$/);
  });

  it('shows nothing of another tutor’s students', async () => {
    for (const other of ['Fondation Orange', 'Département du Val-de-Marne', 'Caisse d’Épargne', 'Hugo Petit', 'Ancien Mécène']) {
      expect(marc.text).not.toContain(other);
      expect(marc.html).not.toContain(other);
    }
    const claire = await previewDigest(stack.sql, { tutor: seeded.t2.email }, settings, rendering());
    expect(section(claire.text, 'En alerte')).toEqual([expect.stringMatching(/^- Fondation Orange, mécénat \(Hugo Petit\) : alerte du /)]);
    expect(section(claire.text, 'À valider par vous')).toEqual(['- rien en attente']);
    expect(section(claire.text, 'Échéances jusqu’au')).toEqual(['- aucune échéance']);
    for (const other of ['Région', 'Fondation de France', 'Crédit Coopératif', 'Mutuelle', 'Banque', 'Léa Fournier']) expect(claire.text).not.toContain(other);

    const paul = await previewDigest(stack.sql, { tutor: seeded.t3.email }, settings, rendering());
    expect(paul.empty).toBe(true);
  });

  it('gives the treasurer money only: received, expected, overdue, sign-offs, goal', async () => {
    const nadia = await previewDigest(stack.sql, { treasurer: seeded.treasurer.email, lang: 'en' }, settings, rendering());
    const text = nadia.text;
    expect(section(text, 'Received since')).toHaveLength(2);
    expect(section(text, 'Expected by')).toEqual([expect.stringMatching(/\(in 10 d\): €3,000.00, Fondation de France, Solidarités 2026, instalment 3 \(Léa Fournier\)$/)]);
    expect(section(text, 'Overdue payments')).toEqual([expect.stringMatching(/\(5 d late\): €3,000.00, Fondation de France, Solidarités 2026, instalment 2 \(Léa Fournier\)$/)]);
    expect(section(text, 'Sign-offs to give')).toEqual([expect.stringMatching(/^- Département du Val-de-Marne, Culture pour tous \(Hugo Petit, tutor Claire Morel\): €8,000.00 requested, sign-off due by /)]);
    expect(section(text, 'Campaign goal')).toEqual([expect.stringMatching(/^- Campagne 2026-2027 \(from .+ to .+\): €4,500.00 received of €50,000.00 \(9%\), €45,500.00 to go; expected by the end: €6,000.00$/)]);
    for (const notMoney of ['Escalated', 'Stalled', 'Mutuelle', 'Crédit Coopératif']) expect(text).not.toContain(notMoney);
  });

  it('previews a given day: money and deadlines are counted from it', async () => {
    const later = await previewDigest(stack.sql, { tutor: seeded.t1.email, date: addDays(today, 14) }, settings, rendering());
    expect(section(later.text, 'Argent reçu depuis')).toEqual(['- rien de reçu']);
    expect(section(later.text, 'Argent attendu')[1]).toContain('(en retard de 4 j)');
  });
});

describe('the digest schedule', () => {
  it('exists once after three starts, with the expected spec', async () => {
    const deps = { client: stack.client, taskQueue: stack.taskQueue };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await ensureDigestSchedule(deps, settings, 'fr', scheduleId));
    expect(outcomes).toEqual(['created', 'unchanged', 'unchanged']);

    const listed = await waitFor(async () => {
      const ids: string[] = [];
      for await (const s of stack.client.schedule.list()) if (s.scheduleId === scheduleId) ids.push(s.scheduleId);
      return ids.length > 0 && ids;
    }, 'the schedule in the list');
    expect(listed).toEqual([scheduleId]);

    const d = await stack.client.schedule.getHandle(scheduleId).describe();
    expect(d.spec.timezone).toBe('Europe/Paris');
    expect(d.spec.calendars).toHaveLength(1);
    expect(d.spec.calendars![0]).toMatchObject({
      dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }],
      hour: [{ start: 8, end: 8, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
      second: [{ start: 0, end: 0, step: 1 }],
    });
    expect(d.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: DIGEST_CATCHUP_MS });
    expect(d.action).toMatchObject({ workflowType: 'fortnightlyDigest', taskQueue: stack.taskQueue });
    expect(d.action.args).toEqual([{ cadence: { weekday: 'monday', time: '08:00', everyWeeks: 2, firstDay: settings.firstDay }, stalledDays: 14, horizonDays: 14, lang: 'fr' }]);
    expect(d.state.paused).toBe(false);
    // Every firing is a Monday at 08:00 in Paris.
    for (const at of d.info.nextActionTimes) {
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', weekday: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)).toBe('Monday 08:00');
    }
    const view = await describeDigestSchedule(deps, scheduleId);
    // Weekly firings, every other one a digest, the first digest week included.
    expect(view.upcoming.slice(1).every((u, i) => u.onWeek !== view.upcoming[i].onWeek)).toBe(true);
    expect(view.upcoming.find((u) => u.day === settings.firstDay)?.onWeek).toBe(true);

    // A changed setting updates the one schedule; the same setting again changes nothing.
    expect(await ensureDigestSchedule(deps, { ...settings, time: '09:30' }, 'fr', scheduleId)).toBe('updated');
    expect((await stack.client.schedule.getHandle(scheduleId).describe()).spec.calendars![0].hour).toEqual([{ start: 9, end: 9, step: 1 }]);
    expect(await ensureDigestSchedule(deps, settings, 'fr', scheduleId)).toBe('updated');
    expect(await ensureDigestSchedule(deps, settings, 'fr', scheduleId)).toBe('unchanged');
  });

  it('fires at 08:00 Paris time on both sides of a daylight-saving change (server 1.29 with Europe/Paris)', async () => {
    const id = `${scheduleId}-dst`;
    const options = digestScheduleOptions({ ...settings, enabled: false }, stack.taskQueue, 'fr', id);
    await stack.client.schedule.create({ ...options, spec: { ...options.spec, startAt: new Date('2027-03-15T00:00:00Z'), endAt: new Date('2027-04-10T00:00:00Z') } });
    try {
      const d = await stack.client.schedule.getHandle(id).describe();
      expect(d.info.nextActionTimes.map((t) => t.toISOString())).toEqual([
        '2027-03-15T07:00:00.000Z',
        '2027-03-22T07:00:00.000Z',
        '2027-03-29T06:00:00.000Z', // summer time since Sunday 28 March 2027
        '2027-04-05T06:00:00.000Z',
      ]);
    } finally {
      await stack.client.schedule.getHandle(id).delete();
    }
  });

  it('send-now: each tutor with something to report and the treasurer get exactly one email, even on an off week', async () => {
    const deps = { client: stack.client, taskQueue: stack.taskQueue };
    const sent = await sendDigestNow(deps, { scheduleId });
    expect(sent.status).toBe('done');
    const result = (sent as { result: DigestRunResult }).result;
    expect(result).toMatchObject({ day: today, trigger: 'manual', onWeek: false, skippedOffWeek: false, failed: [] });
    const byPerson = Object.fromEntries(result.deliveries.map((d) => [d.to, d.status]));
    expect(byPerson).toEqual({ 'marc@tuteurs.test': 'sent', 'claire@tuteurs.test': 'sent', 'paul@tuteurs.test': 'empty', 'nadia@asso.test': 'sent' });

    const mails = await stack.catcher.store.list();
    expect(mails.map((m) => m.to.join()).sort()).toEqual(['claire@tuteurs.test', 'marc@tuteurs.test', 'nadia@asso.test']);
    const marcMail = (await stack.catcher.store.get(mails.find((m) => m.to.includes('marc@tuteurs.test'))!.id))!;
    expect(marcMail.subject).toMatch(/^\[Mécène\] Votre point du .+ : 1 à valider, 1 en alerte/);
    expect(marcMail.text).toContain('Bonjour Marc Roux,');
    for (const heading of ['À valider par vous', 'En alerte', 'À l’arrêt', 'Échéances jusqu’au', 'Rendez-vous', 'Argent reçu depuis', 'Argent attendu']) {
      expect(section(marcMail.text, heading).length).toBeGreaterThan(0);
    }
    expect(section(marcMail.text, 'En alerte')[0]).toContain('Crédit Coopératif');
    expect(marcMail.html).toContain('<h3>En alerte</h3>');
    const nadiaMail = (await stack.catcher.store.get(mails.find((m) => m.to.includes('nadia@asso.test'))!.id))!;
    expect(nadiaMail.subject).toMatch(/^\[Mécène\] Point trésorerie du .+ : 4 500,00 € reçus, 3 000,00 € attendus, 3 000,00 € en retard, 1 visa\(s\) à donner, objectif atteint à 9 %$/);
    expect(nadiaMail.messageId).toBe(result.deliveries.find((d) => d.role === 'treasurer')!.messageId);

    // The empty digest is recorded, not sent.
    const rows = await stack.sql<{ kind: string; to_address: string; status: string; idempotency_key: string }[]>`
      SELECT kind, to_address, status, idempotency_key FROM emails WHERE kind LIKE 'digest-%' ORDER BY to_address`;
    expect(rows.map((r) => [r.to_address, r.status])).toEqual([
      ['claire@tuteurs.test', 'sent'],
      ['marc@tuteurs.test', 'sent'],
      ['nadia@asso.test', 'sent'],
      ['paul@tuteurs.test', 'skipped'],
    ]);
    expect(rows.find((r) => r.to_address === 'marc@tuteurs.test')!.idempotency_key).toBe(`digest:${today}:tutor:${seeded.t1.id}`);
  });

  it('a second trigger the same day sends nothing more', async () => {
    const again = await sendDigestNow({ client: stack.client, taskQueue: stack.taskQueue }, { scheduleId });
    expect(again.status).toBe('done');
    expect((again as { result: DigestRunResult }).result.deliveries.map((d) => d.status).sort()).toEqual(['empty', 'sent', 'sent', 'sent']);
    expect(await stack.catcher.store.list()).toHaveLength(3);
    const [{ count }] = await stack.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM emails WHERE kind LIKE 'digest-%'`;
    expect(count).toBe(4);
  });

  it('a regular firing sends on a digest week and skips an off week', async () => {
    const handle = stack.client.schedule.getHandle(scheduleId);
    // Two past Mondays at 08:00 Paris, replayed through the schedule as regular firings.
    const onMonday = addDays(thisMonday, -7); // two weeks before the first digest week
    const offMonday = addDays(thisMonday, -14);
    const at = (day: string) => ['+01:00', '+02:00'].map((offset) => new Date(`${day}T08:00:00${offset}`)).find((d) => parisClock(d).time === '08:00')!;
    for (const day of [onMonday, offMonday]) {
      await handle.backfill({ start: new Date(at(day).getTime() - 60_000), end: new Date(at(day).getTime() + 60_000), overlap: 'ALLOW_ALL' });
    }
    const result = async (day: string) => {
      const workflowId = `${scheduleId}-${at(day).toISOString().replace('.000Z', 'Z')}`;
      // Backfills are started by the server's scheduler, later under load: wait for the run itself.
      await waitFor(async () => (await stack.client.workflow.getHandle(workflowId).describe()).workflowId === workflowId, `the firing of ${day}`, 120_000);
      return (await stack.client.workflow.getHandle(workflowId).result()) as DigestRunResult;
    };
    const off = await result(offMonday);
    expect(off).toMatchObject({ day: offMonday, trigger: 'schedule', onWeek: false, skippedOffWeek: true, deliveries: [] });
    const on = await result(onMonday);
    expect(on).toMatchObject({ day: onMonday, trigger: 'schedule', onWeek: true, skippedOffWeek: false, failed: [] });
    expect(on.deliveries.filter((d) => d.status === 'sent').map((d) => d.to).sort()).toEqual(['claire@tuteurs.test', 'marc@tuteurs.test', 'nadia@asso.test']);
    const mails = await stack.catcher.store.list();
    expect(mails).toHaveLength(6);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(6);
  });
});

describe('mecene digest (CLI)', () => {
  const mecene = (args: string[], env: Record<string, string | undefined> = {}) => runMecene(stack, args, env);


  it('previews a tutor’s digest in French, in English, as HTML', async () => {
    const fr = await mecene(['digest', '--preview', '--tutor', 'marc@tuteurs.test']);
    expect(fr).toMatchObject({ code: 0, stderr: '' });
    expect(fr.stdout).toMatch(/^Aperçu du point du .+ pour Marc Roux <marc@tuteurs.test> \(tuteur·rice\) : rien n’est envoyé\.\nObjet : \[Mécène\] Votre point du /);
    expect(fr.stdout).toContain('En alerte\n- Crédit Coopératif, mécénat (Léa Fournier)');
    const en = await mecene(['digest', '--preview', '--tutor', 'marc@tuteurs.test', '--lang', 'en', '--format', 'html']);
    expect(en.stdout).toContain('<h3>Escalated</h3>');
    const paul = await mecene(['digest', '--preview', '--tutor', 'paul@tuteurs.test']);
    expect(paul.stdout).toContain('Rien à signaler : ce point ne serait pas envoyé.');
  });

  it('says clearly what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['digest', '--preview', '--tutor', 'nobody@tuteurs.test'], /^Personne inconnue : nobody@tuteurs.test\. Ajoutez-la avec `mecene people add`\.\n$/],
      [['digest', '--preview', '--tutor', 'lea@etu.test'], /^lea@etu.test est enregistré·e comme étudiant·e, pas comme tuteur·rice\.\n$/],
      [['digest', '--preview', '--treasurer', 'marc@tuteurs.test'], /^marc@tuteurs.test est enregistré·e comme tuteur·rice, pas comme trésorier·e\.\n$/],
      [['digest', '--preview'], /^Précisez le destinataire de l’aperçu : --tutor <adresse> ou --treasurer <adresse>\.\n$/],
      [['digest'], /^Que faire du point \?/],
      [['digest', '--preview', '--tutor', 'marc@tuteurs.test', '--date', '2026-02-30'], /^Données invalides : date : /],
      [['digest', 'schedule'], /^La planification du point « mecene-digest » n’existe pas : Mécène la crée à son démarrage/],
      [['digest', 'send-now'], /^La planification du point « mecene-digest » n’existe pas/],
    ];
    for (const [args, message] of cases) {
      const r = await mecene(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const stopped = await mecene(['digest', 'send-now'], { DATABASE_URL: undefined, TEMPORAL_ADDRESS: undefined, DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'mecene-none-')) });
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/^Mécène ne semble pas démarré/);
  });

  it('shows the schedule and sends now (the CLI knows only `mecene-digest`: no other test file uses it)', async () => {
    const deps = { client: stack.client, taskQueue: stack.taskQueue };
    expect(await ensureDigestSchedule(deps, settings, 'fr')).toBe('created');
    try {
      const shown = await mecene(['digest', 'schedule']);
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      const lines = shown.stdout.split('\n');
      expect(lines[0]).toBe('Planification « mecene-digest » : active');
      expect(lines[1]).toMatch(/^Chaque lundi à 08:00 \(Europe\/Paris\), une semaine sur 2, à compter de la semaine du .+\.$/);
      expect(lines[2]).toBe('Prochains envois :');
      // Only digest weeks are listed: every other Monday.
      const next = lines.slice(3).filter((l) => l.startsWith('  lundi '));
      expect(next.length).toBe(5);
      expect(shown.stdout).toContain('Rattrapage : un envoi manqué (serveur arrêté) part encore s’il redémarre dans les 12 h');

      const now = await mecene(['digest', 'send-now']);
      expect(now).toMatchObject({ code: 0, stderr: '' });
      expect(now.stdout).toMatch(/^Point déclenché : processus mecene-digest-.+\.\nPoint du .+ : 3 envoyé\(s\), 1 sans objet \(non envoyé\(s\)\), 0 en échec\.\n/);
      expect(now.stdout).toContain('  rien à signaler pour paul@tuteurs.test (tuteur·rice) : non envoyé');
      // Today's digests had gone out already: the same keys, nothing new at the SMTP server.
      expect(await stack.catcher.store.list()).toHaveLength(6);
    } finally {
      await stack.client.schedule.getHandle('mecene-digest').delete();
    }
  });
});
