import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportPdf } from '../../src/documents/report-pdf';
import { parisDay } from '../../src/domain/dates';
import { recordReply, startOutreach } from '../../src/service/outreach';
import { buildReport, type Report } from '../../src/service/report';
import { addSponsor } from '../../src/service/sponsors';
import { loadAssociation } from '../../src/templates/association';
import { seedApplication, seedDossier, seedFunder, seedSponsorPayment } from '../support/funding-seed';
import { pdfText } from '../support/pdf-text';
import { TEMPLATES_DIR } from '../support/deps';
import { runMecene } from '../support/cli';
import { seed, stageOf, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/**
 * A campaign from January to June 2026, written as the activities leave it: four sponsor
 * dossiers with their emails, replies and timeline, three funding applications, money received,
 * two campaign goals for the period (the newest counts), and dossiers and applications outside
 * the period that must not count. Then two real outreach processes for the current period.
 */

let stack: TestStack;
let work: string;
let people: { studentId: number; tutorId: number };
const FROM = '2026-01-01';
const TO = '2026-06-30';
const at = (day: string, time = '10:00') => new Date(`${day}T${time}:00Z`);

async function sponsor(name: string, email: string) {
  const s = await addSponsor(stack.sql, { name, kind: 'company', contactName: `Contact ${name}`, contactEmail: email, source: 'salon 2026' });
  return { id: s.id, contactId: s.contacts[0].id, email, slug: s.slug };
}

async function email(dossierId: string, kind: 'initial' | 'followup' | 'escalation', to: string, day: string, n = 0) {
  const key = `${dossierId}:${kind}:${n}`;
  await stack.sql`
    INSERT INTO emails (dossier_id, idempotency_key, message_id, kind, to_address, subject, status, attempts, sent_at, created_at)
    VALUES (${dossierId}, ${key}, ${`<${key}@test>`}, ${kind}, ${to}, 'Objet', 'sent', 1, ${at(day)}, ${at(day)})`;
}

let eventSeq = 100;
async function event(dossierId: string, kind: string, stage: string, day: string, detail: Record<string, unknown> = {}) {
  await stack.sql`
    INSERT INTO events (dossier_id, event_key, kind, stage, detail, at)
    VALUES (${dossierId}, ${`${dossierId}:${++eventSeq}`}, ${kind}, ${stage}, ${stack.sql.json(detail as never)}, ${at(day)})`;
}

/** The seed helper writes decisions "now": move an application's events to their day. */
async function moveApplicationEvent(applicationId: string, kind: string, day: string) {
  await stack.sql`UPDATE application_events SET at = ${at(day)} WHERE application_id = ${applicationId} AND kind = ${kind}`;
}

beforeAll(async () => {
  stack = await startTestStack();
  work = await mkdtemp(path.join(os.tmpdir(), 'mecene-report-'));
  const base = await seed(stack.sql);
  people = { studentId: base.student.id, tutorId: base.tutor.id };
  const sql = stack.sql;

  // Two goals for the period: the newest one is the goal.
  await sql`INSERT INTO campaign_goals (label, amount_cents, starts_on, ends_on, set_by, set_at)
            VALUES ('Première estimation', 1500000, ${FROM}, ${TO}, 'tresorier@asso.test', ${at('2025-12-01')}),
                   ('Campagne 2026', 2000000, ${FROM}, ${TO}, 'tresorier@asso.test', ${at('2025-12-15')})`;

  // Sponsor dossiers in the period.
  const credit = await sponsor('Crédit Coopératif', 'paul@credit.test');
  const d1 = await seedDossier(sql, { ...people, organisationId: credit.id, contactId: credit.contactId, amountAskedCents: 500_000, stage: 'meeting', createdAt: at('2026-01-15') });
  await email(d1, 'initial', credit.email, '2026-01-15');
  await email(d1, 'followup', credit.email, '2026-01-29', 1);
  await event(d1, 'reply_recorded', 'interested', '2026-01-25', { outcome: 'interested', note: 'Rappeler' });
  await event(d1, 'reply_recorded', 'meeting', '2026-02-03', { outcome: 'meeting', note: 'RDV au siège' });
  await event(d1, 'reply_recorded', 'meeting', '2026-02-10', { outcome: 'meeting', note: 'RDV déplacé' }); // still one meeting
  await seedSponsorPayment(sql, d1, 250_000, '2026-03-10');

  const orange = await sponsor('Fondation Orange', 'zoe@orange.test');
  const d2 = await seedDossier(sql, { ...people, organisationId: orange.id, contactId: orange.contactId, amountAskedCents: 300_000, stage: 'declined', closeReason: 'declined', createdAt: at('2026-02-01') });
  await email(d2, 'initial', orange.email, '2026-02-01');
  await event(d2, 'reply_recorded', 'declined', '2026-02-20', { outcome: 'declined', note: 'Budget mécénat épuisé pour 2026' });

  const boulangerie = await sponsor('Boulangerie Martin', 'martin@boulangerie.test');
  const d3 = await seedDossier(sql, { ...people, organisationId: boulangerie.id, contactId: boulangerie.contactId, amountAskedCents: 100_000, stage: 'closed', closeReason: 'sans réponse', createdAt: at('2026-03-01') });
  await email(d3, 'initial', boulangerie.email, '2026-03-01');
  await email(d3, 'followup', boulangerie.email, '2026-03-15', 1);
  await email(d3, 'followup', boulangerie.email, '2026-03-29', 2);
  await email(d3, 'escalation', 'tuteur@asso.test', '2026-04-05');

  const garage = await sponsor('Garage Dupont', 'dupont@garage.test');
  const d6 = await seedDossier(sql, { ...people, organisationId: garage.id, contactId: garage.contactId, amountAskedCents: 50_000, stage: 'opted_out', closeReason: 'opted_out', createdAt: at('2026-04-01') });
  await email(d6, 'initial', garage.email, '2026-04-01');
  await event(d6, 'opted_out', 'opted_out', '2026-04-10');

  // Outside the period: closed before it, opened after it.
  const old = await sponsor('Ancien Mécène', 'old@ancien.test');
  const d4 = await seedDossier(sql, { ...people, organisationId: old.id, contactId: old.contactId, amountAskedCents: 999_900, stage: 'closed', closeReason: 'ancien motif', createdAt: at('2025-03-01') });
  await sql`UPDATE dossiers SET closed_at = ${at('2025-06-01')} WHERE id = ${d4}`;
  await email(d4, 'initial', old.email, '2025-03-01');
  const future = await sponsor('Mécène Futur', 'futur@futur.test');
  await seedDossier(sql, { ...people, organisationId: future.id, contactId: future.contactId, amountAskedCents: 70_000, stage: 'contacted', createdAt: at('2026-08-01') });

  // Funding applications.
  const region = await seedFunder(sql, 'Région Auvergne-Rhône-Alpes');
  const a1 = await seedApplication(sql, {
    ...people,
    funderId: region.id,
    programme: 'Appel à projets jeunesse 2026',
    amountRequestedCents: 1_500_000,
    stage: 'awarded',
    amountAwardedCents: 1_200_000,
    tranches: [{ expectedOn: '2026-04-15', amountCents: 800_000 }, { expectedOn: '2026-07-15', amountCents: 400_000 }],
    received: [{ tranche: 1, amountCents: 800_000, on: '2026-04-20' }, { tranche: 2, amountCents: 400_000, on: '2026-07-15' }],
    createdAt: at('2026-01-05'),
    deadline: at('2026-02-15'),
  });
  await moveApplicationEvent(a1, 'submitted', '2026-02-15');
  await moveApplicationEvent(a1, 'decision_recorded', '2026-03-30');
  const lyon = await seedFunder(sql, 'Ville de Lyon');
  const a2 = await seedApplication(sql, {
    ...people,
    funderId: lyon.id,
    programme: 'Fonds d’initiatives locales',
    amountRequestedCents: 800_000,
    stage: 'refused',
    outcomeReason: 'budget mécénat épuisé pour 2026',
    createdAt: at('2026-01-20'),
    deadline: at('2026-02-01'),
  });
  await moveApplicationEvent(a2, 'submitted', '2026-02-01');
  await moveApplicationEvent(a2, 'decision_recorded', '2026-04-10');
  const fdf = await seedFunder(sql, 'Fondation de France', 'foundation');
  const a3 = await seedApplication(sql, { ...people, funderId: fdf.id, programme: 'Solidarité', amountRequestedCents: 400_000, stage: 'submitted', createdAt: at('2026-02-10'), deadline: at('2026-03-05') });
  await moveApplicationEvent(a3, 'submitted', '2026-03-05');
  const ancien = await seedFunder(sql, 'Département du Rhône');
  const a4 = await seedApplication(sql, {
    ...people,
    funderId: ancien.id,
    amountRequestedCents: 600_000,
    stage: 'completed',
    amountAwardedCents: 600_000,
    tranches: [{ expectedOn: '2025-05-01', amountCents: 600_000 }],
    received: [{ tranche: 1, amountCents: 600_000, on: '2025-05-02' }],
    createdAt: at('2025-01-10'),
    deadline: at('2025-02-01'),
  });
  await sql`UPDATE applications SET closed_at = ${at('2025-06-01')} WHERE id = ${a4}`;
  await moveApplicationEvent(a4, 'submitted', '2025-02-01');
  await moveApplicationEvent(a4, 'decision_recorded', '2025-03-01');
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const ASSOCIATION = 'Association des Professionnels du Service Public';

describe('end-of-project report', () => {
  it('adds up the campaign exactly: goal, money, outcomes, contacts, meetings, refusals, months', async () => {
    const association = await loadAssociation(TEMPLATES_DIR);
    const report = await buildReport(stack.sql, { from: FROM, to: TO, association, today: '2026-07-02' });
    expect(report.period).toEqual({ from: FROM, to: TO, source: 'requested' });
    expect(report.association).toMatchObject({ name: ASSOCIATION, address: ['12 rue de la République', '69002 Lyon'] });
    expect(report.projectTitle).toBe('Rencontres du service public 2027');
    expect(report.goal).toEqual({
      label: 'Campagne 2026',
      goalCents: 2_000_000,
      receivedCents: 1_050_000,
      receivedSponsorCents: 250_000,
      receivedApplicationCents: 800_000,
      committedCents: 1_200_000,
      percentOfGoal: 52.5,
      committedPercentOfGoal: 60,
      remainingCents: 950_000,
    });
    expect(report.sponsors.map((s) => [s.sponsor, s.stage, s.outcome, s.status, s.askedCents, s.receivedCents, s.openedOn, s.reason])).toEqual([
      ['Crédit Coopératif', 'meeting', 'rendez-vous', 'open', 500_000, 250_000, '2026-01-15', null],
      ['Fondation Orange', 'declined', 'refus', 'lost', 300_000, 0, '2026-02-01', 'Budget mécénat épuisé pour 2026'],
      ['Boulangerie Martin', 'closed', 'clôturé', 'lost', 100_000, 0, '2026-03-01', 'sans réponse'],
      ['Garage Dupont', 'opted_out', 'opposition', 'lost', 50_000, 0, '2026-04-01', 'opposition du contact aux courriels'],
    ]);
    expect(report.funders.map((f) => [f.funder, f.programme, f.stage, f.outcome, f.status, f.requestedCents, f.awardedCents, f.receivedCents, f.reason])).toEqual([
      ['Région Auvergne-Rhône-Alpes', 'Appel à projets jeunesse 2026', 'awarded', 'accordée', 'won', 1_500_000, 1_200_000, 800_000, null],
      ['Ville de Lyon', 'Fonds d’initiatives locales', 'refused', 'refusée', 'lost', 800_000, null, 0, 'budget mécénat épuisé pour 2026'],
      ['Fondation de France', 'Solidarité', 'submitted', 'déposée, décision attendue', 'open', 400_000, null, 0, null],
    ]);
    // Every cent received in the period belongs to a listed dossier or application.
    expect([...report.sponsors, ...report.funders].reduce((sum, i) => sum + i.receivedCents, 0)).toBe(report.goal.receivedCents);
    expect(report.contacts).toEqual({
      contactsEmailed: 4,
      organisationsContacted: 4,
      initialEmails: 4,
      followUps: 3,
      tutorAlerts: 1,
      replies: { interested: 1, meeting: 2, declined: 1, total: 4 },
      optOuts: 1,
    });
    expect(report.meetings).toEqual({
      count: 1,
      items: [{ sponsor: 'Crédit Coopératif', slug: 'credit-cooperatif', on: '2026-02-03', stage: 'meeting', stageLabel: 'rendez-vous', source: 'reply' }],
    });
    expect(report.refusals).toEqual({
      total: 4,
      reasons: [
        { reason: 'Budget mécénat épuisé pour 2026', count: 2, sponsors: 1, funders: 1, counterparts: ['Fondation Orange', 'Ville de Lyon'] },
        { reason: 'opposition du contact aux courriels', count: 1, sponsors: 1, funders: 0, counterparts: ['Garage Dupont'] },
        { reason: 'sans réponse', count: 1, sponsors: 1, funders: 0, counterparts: ['Boulangerie Martin'] },
      ],
    });
    expect(report.timeline.map((m) => [m.month, m.dossiersOpened, m.emailsSent, m.replies, m.applicationsSubmitted, m.decisions, m.receivedCents, m.cumulativeReceivedCents])).toEqual([
      ['2026-01', 1, 2, 1, 0, 0, 0, 0],
      ['2026-02', 1, 1, 3, 2, 0, 0, 0],
      ['2026-03', 1, 3, 0, 1, 1, 250_000, 250_000],
      ['2026-04', 1, 1, 0, 0, 1, 800_000, 1_050_000],
      ['2026-05', 0, 0, 0, 0, 0, 0, 1_050_000],
      ['2026-06', 0, 0, 0, 0, 0, 0, 1_050_000],
    ]);
    expect(report.chart).toEqual({
      goalCents: 2_000_000,
      points: [
        { on: FROM, cumulativeCents: 0 },
        { on: '2026-03-10', cumulativeCents: 250_000 },
        { on: '2026-04-20', cumulativeCents: 1_050_000 },
      ],
    });
    expect(report.outcomesByStage.map((o) => `${o.kind}:${o.stage}=${o.count}`)).toEqual([
      'sponsor:meeting=1',
      'sponsor:declined=1',
      'sponsor:opted_out=1',
      'sponsor:closed=1',
      'application:submitted=1',
      'application:awarded=1',
      'application:refused=1',
    ]);
  });

  it('renders the PDF with the figures, and the same bytes for the same data', async () => {
    const association = await loadAssociation(TEMPLATES_DIR);
    const report = await buildReport(stack.sql, { from: FROM, to: TO, association, today: '2026-07-02' });
    const { pdf, pages } = await renderReportPdf(report);
    const text = (await pdfText(pdf)).replace(/\s+/g, ' ');
    for (const expected of [
      ASSOCIATION,
      'Période du 1er janvier 2026 au 30 juin 2026',
      'Objectif de campagne : Campagne 2026',
      'Objectif 20 000,00 €',
      'Reçu sur la période 10 500,00 €',
      'Part de l’objectif atteinte 52,5 %',
      'Engagé (accordé ou promis) 12 000,00 €',
      'Reste à collecter pour l’objectif 9 500,00 €',
      'Région Auvergne-Rhône-', // the name wraps after a hyphen in its column
      'Appel à projets jeunesse 2026 15 000,00 € 12 000,00 € 8 000,00 € accordée',
      '8 000,00 € — 0,00 € refusée',
      'Budget mécénat épuisé pour 2026 2 Fondation Orange, Ville de Lyon',
      'sans réponse 1 Boulangerie Martin',
      'Rendez-vous obtenus sur la période : 1',
      'Contacts écrits (premier courriel envoyé) 4',
      'avril 2026 1 1 0 0 1 8 000,00 € 10 500,00 €',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('Ancien Mécène');
    expect(text).not.toContain('Mécène Futur');
    expect(text).not.toContain('Département du Rhône');
    expect(text).toContain(`Page ${pages} / ${pages}`);

    const again = await renderReportPdf(await buildReport(stack.sql, { from: FROM, to: TO, association, today: '2026-07-02' }));
    expect(again.pdf.equals(pdf)).toBe(true);
    const english = await buildReport(stack.sql, { from: FROM, to: TO, association, today: '2026-07-02', lang: 'en' });
    expect(english.funders[2].outcome).toBe('submitted, awaiting decision');
    expect((await pdfText((await renderReportPdf(english)).pdf)).replace(/\s+/g, ' ')).toContain('Share of the goal reached 52.5%');
  });

  it('defaults to the current goal’s period, else the goal that ended last, else the last 12 months', async () => {
    expect((await buildReport(stack.sql, { today: '2026-03-15' })).period).toEqual({ from: FROM, to: TO, source: 'goal' });
    expect((await buildReport(stack.sql, { today: '2026-08-20' })).period).toEqual({ from: FROM, to: TO, source: 'goal' });
    expect((await buildReport(stack.sql, { today: '2025-06-01' })).period).toEqual({ from: '2024-06-02', to: '2025-06-01', source: 'last12Months' });
    expect((await buildReport(stack.sql, { from: '2026-02-01', today: '2026-08-20' })).period).toEqual({ from: '2026-02-01', to: '2027-01-31', source: 'requested' });
    expect((await buildReport(stack.sql, { to: '2026-02-28', today: '2026-08-20' })).period).toEqual({ from: '2025-03-01', to: '2026-02-28', source: 'requested' });
    // The older period holds the 2025 application and its money, and no goal.
    const old = await buildReport(stack.sql, { from: '2025-01-01', to: '2025-12-31' });
    expect(old.goal).toMatchObject({ goalCents: null, percentOfGoal: null, receivedCents: 600_000 });
    expect(old.funders.map((f) => f.funder)).toEqual(['Département du Rhône']);
    expect(old.sponsors.map((s) => s.sponsor)).toEqual(['Ancien Mécène']);
  });

  it('rejects bad dates and a reversed or overlong period with a French message', async () => {
    const failure = (options: Parameters<typeof buildReport>[1]) => buildReport(stack.sql, options).then(() => null, (e) => e as { key: string; params: Record<string, unknown> });
    expect(await failure({ from: '2026-02-30' })).toMatchObject({ key: 'report.error.badFrom', params: { value: '2026-02-30' } });
    expect(await failure({ to: '30/06/2026' })).toMatchObject({ key: 'report.error.badTo' });
    expect(await failure({ from: '2026-07-01', to: '2026-06-30' })).toMatchObject({ key: 'report.error.reversed' });
    expect(await failure({ from: '2020-01-01', to: '2026-06-30' })).toMatchObject({ key: 'report.error.tooLong', params: { months: 78, max: 60 } });
  });

  it('serves the JSON and the PDF over HTTP, with validated queries', async () => {
    const json = await stack.app.inject({ method: 'GET', url: `/api/report?from=${FROM}&to=${TO}` });
    expect(json.statusCode).toBe(200);
    const body = json.json() as Report;
    expect(body.goal.receivedCents).toBe(1_050_000);
    expect(body.association.name).toBe(ASSOCIATION);
    expect(body.generatedOn).toBe(parisDay(new Date()));

    const pdf = await stack.app.inject({ method: 'GET', url: `/api/report.pdf?from=${FROM}&to=${TO}&lang=en` });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe(`inline; filename="report-${FROM}-${TO}.pdf"`);
    const text = (await pdfText(pdf.rawPayload)).replace(/\s+/g, ' ');
    expect(text).toContain('Funding campaign report');
    expect(text).toContain('12 rue de la République');
    expect(text).toContain('€10,500.00');

    const bad = await stack.app.inject({ method: 'GET', url: '/api/report.pdf?from=2026-13-01' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toBe('Date de début invalide : « 2026-13-01 » (attendu AAAA-MM-JJ, ex. 2026-09-01).');
    const reversed = await stack.app.inject({ method: 'GET', url: '/api/report?from=2026-07-01&to=2026-06-30', headers: { 'accept-language': 'en' } });
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.message).toBe('The start date (2026-07-01) is after the end date (2026-06-30).');
    const lang = await stack.app.inject({ method: 'GET', url: '/api/report?lang=de' });
    expect(lang.statusCode).toBe(400);
    expect(lang.json().error.code).toBe('invalid_input');
  });
});

describe('mecene report', () => {
  const mecene = (args: string[], env: Record<string, string | undefined> = {}) => runMecene(stack, args, env);

  it('writes the PDF atomically over an existing file and says what it holds, in French', async () => {
    const dir = await mkdtemp(path.join(work, 'pdf-'));
    const file = path.join(dir, 'bilan.pdf');
    await writeFile(file, 'ancienne version');
    const r = await mecene(['report', '--from', FROM, '--to', TO, '--pdf', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^Bilan du 1er janvier 2026 au 30 juin 2026 écrit dans ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(\\d+ page\\(s\\)\\) : 10\u202f500,00\u00a0€ reçus sur un objectif de 20\u202f000,00\u00a0€ \\(52,5\u00a0%\\)\\.\\n$`),
    );
    expect(await readdir(dir)).toEqual(['bilan.pdf']); // no temporary file left
    const written = await readFile(file);
    expect(written.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = (await pdfText(written)).replace(/\s+/g, ' ');
    expect(text).toContain('Part de l’objectif atteinte 52,5 %');
    expect(text).toContain('Objectif 20 000,00 €');
    // The CLI's bytes are the service's and renderer's bytes for the same data and day.
    const association = await loadAssociation(TEMPLATES_DIR);
    const expected = await renderReportPdf(await buildReport(stack.sql, { from: FROM, to: TO, association, lang: 'fr' }));
    expect(written.equals(expected.pdf)).toBe(true);

    const english = path.join(dir, 'report.pdf');
    expect((await mecene(['report', '--from', FROM, '--to', TO, '--pdf', english, '--lang', 'en'])).code).toBe(0);
    expect((await pdfText(await readFile(english))).replace(/\s+/g, ' ')).toContain('Goal €20,000.00');
  });

  it('prints the structure with --json', async () => {
    const r = await mecene(['report', '--json', '--from', FROM, '--to', TO]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.goal).toMatchObject({ goalCents: 2_000_000, receivedCents: 1_050_000, percentOfGoal: 52.5 });
    expect(report.refusals.reasons[0]).toMatchObject({ reason: 'Budget mécénat épuisé pour 2026', count: 2 });
  });

  it('refuses to guess the output, bad dates and unwritable places, writing nothing', async () => {
    const dir = await mkdtemp(path.join(work, 'bad-'));
    const file = path.join(dir, 'bilan.pdf');
    const cases: [string[], number, string][] = [
      [['report', '--from', FROM, '--to', TO], 2, 'Option invalide : Choisissez la sortie du bilan : --pdf <fichier> pour le PDF, ou --json pour les données.'],
      [['report', '--from', '2026-13-01', '--to', TO, '--pdf', file], 1, 'Date de début invalide : « 2026-13-01 » (attendu AAAA-MM-JJ, ex. 2026-09-01).'],
      [['report', '--from', FROM, '--to', '2026-02-30', '--pdf', file], 1, 'Date de fin invalide : « 2026-02-30 » (attendu AAAA-MM-JJ, ex. 2027-06-30).'],
      [['report', '--from', '2026-07-01', '--to', TO, '--pdf', file], 1, 'La date de début (2026-07-01) est postérieure à la date de fin (2026-06-30).'],
      [['report', '--from', FROM, '--to', TO, '--pdf', path.join(dir, 'absent', 'bilan.pdf')], 1, `Impossible d’écrire le bilan dans ${path.join(dir, 'absent', 'bilan.pdf')} : le dossier n’existe pas`],
    ];
    for (const [args, code, message] of cases) {
      const r = await mecene(args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code, stdout: '', stderr: `${message}\n` });
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('report of real outreach', () => {
  it('counts the contacts, replies, meetings and refusal notes the processes wrote', async () => {
    const today = parisDay(new Date());
    // A goal from the start of this month: the January–June campaign above stays out of it.
    const start = `${today.slice(0, 7)}-01`;
    await stack.sql`INSERT INTO campaign_goals (label, amount_cents, starts_on, ends_on, set_by)
                    VALUES ('Campagne en cours', 1000000, ${start}, (${start}::date + interval '1 year' - interval '1 day')::date, 'tresorier@asso.test')`;
    const students = await stack.sql<{ email: string; role: string }[]>`SELECT email, role FROM people`;
    const student = students.find((p) => p.role === 'student')!.email;
    const tutor = students.find((p) => p.role === 'tutor')!.email;
    const alpha = await sponsor('Mutuelle Alpha', 'alpha@mutuelle.test');
    const beta = await sponsor('Banque Beta', 'beta@banque.test');
    const policy = { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '10s' };
    for (const s of [alpha, beta]) await startOutreach(stack.outreach, { sponsor: s.slug, student, tutor, ask: '1500', policy });
    for (const s of [alpha, beta]) await waitFor(async () => (await stageOf(stack.sql, s.id)) === 'contacted', `${s.slug} contacted`);
    await recordReply(stack.outreach, alpha.slug, { outcome: 'meeting', note: 'RDV le 3' });
    await recordReply(stack.outreach, beta.slug, { outcome: 'declined', note: 'Pas de budget cette année' });

    const report = await buildReport(stack.sql, {});
    expect(report.period.source).toBe('goal');
    expect(report.contacts).toEqual({
      contactsEmailed: 2,
      organisationsContacted: 2,
      initialEmails: 2,
      followUps: 0,
      tutorAlerts: 0,
      replies: { interested: 0, meeting: 1, declined: 1, total: 2 },
      optOuts: 0,
    });
    expect(report.meetings.items.map((m) => [m.sponsor, m.on, m.stage])).toEqual([['Mutuelle Alpha', today, 'meeting']]);
    const mine = report.sponsors.filter((s) => s.slug === alpha.slug || s.slug === beta.slug).sort((a, b) => a.slug.localeCompare(b.slug));
    expect(mine.map((s) => [s.sponsor, s.stage, s.askedCents, s.reason])).toEqual([
      ['Banque Beta', 'lost', 150_000, 'Pas de budget cette année'],
      ['Mutuelle Alpha', 'meeting', 150_000, null],
    ]);
    expect(report.refusals.reasons).toContainEqual({ reason: 'Pas de budget cette année', count: 1, sponsors: 1, funders: 0, counterparts: ['Banque Beta'] });
    const month = report.timeline.find((m) => m.month === today.slice(0, 7))!;
    expect([month.emailsSent, month.replies]).toEqual([2, 2]);
    expect(report.goal).toMatchObject({ label: 'Campagne en cours', goalCents: 1_000_000 });
  });
});
