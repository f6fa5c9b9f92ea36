import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { parisDay } from '../../src/domain/dates';
import { parseCsv } from '../../src/domain/csv';
import { formatEuros } from '../../src/domain/money';
import { addPerson, type Person } from '../../src/service/people';
import { addDays, setCampaignGoal } from '../../src/service/goal';
import { csvEuros, pipelineItems, pipelineSummary, setProbability, STAGE_ORDER } from '../../src/service/pipeline';
import { startOutreach } from '../../src/service/outreach';
import { addSponsor, type Sponsor } from '../../src/service/sponsors';
import type { OutreachStage, SponsorOutreachInput } from '../../src/workflows/sponsor-outreach/messages';
import { seedApplication, seedFunder } from '../support/funding-seed';
import { runMecene } from '../support/cli';
import { startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/**
 * The treasurer's pipeline on real services: dossiers written by the real activities (and two
 * through the real workflow), applications and money written as the application activities
 * write them, then hammered by concurrent transactions; the summary must equal sums computed
 * independently from the source tables, to the cent.
 */
let stack: TestStack;
let work: string;
let acts: ReturnType<typeof createActivities>;
let student: Person;
let student2: Person;
let tutor: Person;
let tutor2: Person;
let treasurer: Person;
const today = parisDay(new Date());

beforeAll(async () => {
  stack = await startTestStack();
  acts = createActivities(stack.deps);
  work = await mkdtemp(path.join(os.tmpdir(), 'mecene-pipeline-'));
  student = await addPerson(stack.sql, { role: 'student', name: 'Léa Fournier', email: 'lea@etu.test' });
  student2 = await addPerson(stack.sql, { role: 'student', name: 'Noé Garnier', email: 'noe@etu.test' });
  tutor = await addPerson(stack.sql, { role: 'tutor', name: 'Marc Roux', email: 'marc@tuteurs.test' });
  tutor2 = await addPerson(stack.sql, { role: 'tutor', name: 'Inès Moreau', email: 'ines@tuteurs.test' });
  treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Sophie Bertin', email: 'sophie@asso.test' });
});
afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let sponsorCount = 0;
const sponsor = (name: string): Promise<Sponsor> =>
  addSponsor(stack.sql, { name, kind: 'company', contactName: 'Hélène Dupré', contactEmail: `contact${++sponsorCount}@mecenes.test`, source: 'Salon des mécènes 2026' });

/** A dossier opened by the real `openDossier` activity, as the workflow's first step does. */
async function openDossier(s: Sponsor, askedCents: number, owner = student, dossierId: string = randomUUID()): Promise<string> {
  const input: SponsorOutreachInput = {
    dossierId,
    sponsor: { id: s.id, slug: s.slug, name: s.name },
    contactId: s.contacts[0].id,
    studentId: owner.id,
    tutorId: owner === student ? tutor.id : tutor2.id,
    amountAskedCents: askedCents,
    lang: 'fr',
    policy: { followUps: ['7d'], grace: '7d', sendTimeout: '2m' },
    timings: { followUpsMs: [7 * 86_400_000], graceMs: 7 * 86_400_000, sendTimeoutMs: 120_000 },
  };
  await acts.openDossier(input);
  return dossierId;
}

/** The stages a dossier goes through, each written by the real `recordDossierStep` activity. */
async function walk(dossierId: string, stages: OutreachStage[]): Promise<void> {
  for (const [n, stage] of stages.entries()) {
    const close = ['declined', 'closed'].includes(stage) ? { reason: 'pas de budget cette année' } : undefined;
    await acts.recordDossierStep({
      dossierId,
      eventKey: `${dossierId}:hammer:${n}`,
      kind: stage === 'declined' ? 'reply_recorded' : stage === 'closed' ? 'closed' : 'email_sent',
      stage,
      detail: stage === 'declined' ? { outcome: 'declined', note: 'pas de budget' } : {},
      next: close ? null : { action: 'followup', n: 1, at: new Date(Date.now() + 86_400_000).toISOString() },
      close,
    });
  }
}

/**
 * Money recorded in its own transaction with the refresh, as an activity does; the short pause
 * before COMMIT widens the window in which a concurrent writer would otherwise overwrite the
 * row with sums computed from a snapshot that misses this payment.
 */
async function pay(p: { dossierId?: string; applicationId?: string; tranche?: number; cents: number; on: string }): Promise<void> {
  await stack.sql.begin(async (tx) => {
    if (p.dossierId) {
      await tx`INSERT INTO money_received (kind, dossier_id, amount_cents, received_on, recorded_by, idempotency_key)
               VALUES ('sponsor', ${p.dossierId}, ${p.cents}, ${p.on}, 'test', ${randomUUID()})`;
      await tx`SELECT pipeline_refresh_dossier(${p.dossierId})`;
    } else {
      await tx`INSERT INTO money_received (kind, application_id, tranche_n, amount_cents, received_on, recorded_by, idempotency_key)
               VALUES ('application', ${p.applicationId!}, ${p.tranche ?? 1}, ${p.cents}, ${p.on}, 'test', ${randomUUID()})`;
      await tx`SELECT pipeline_refresh_application(${p.applicationId!})`;
    }
    await tx`SELECT pg_sleep(0.003)`;
  });
}

const STATUS: Record<string, string> = {
  declined: 'lost', opted_out: 'lost', closed: 'lost', refused: 'lost', withdrawn: 'withdrawn', awarded: 'won', completed: 'won',
};

/** What every item must be, computed from the source tables, not from the read model. */
async function expectedFromSources() {
  const [defaults, overrides, dossiers, applications, money] = await Promise.all([
    stack.sql<{ kind: string; stage: string; percent: number }[]>`SELECT kind, stage, percent FROM stage_probabilities`,
    stack.sql<{ ref_id: string; probability_override: number | null }[]>`SELECT ref_id, probability_override FROM pipeline_items`,
    stack.sql<{ id: string; stage: string; amount_asked_cents: bigint }[]>`SELECT id, stage, amount_asked_cents FROM dossiers`,
    stack.sql<{ id: string; stage: string; amount_requested_cents: bigint; amount_awarded_cents: bigint | null }[]>`
      SELECT id, stage, amount_requested_cents, amount_awarded_cents FROM applications`,
    stack.sql<{ dossier_id: string | null; application_id: string | null; amount_cents: bigint; received_on: string }[]>`
      SELECT dossier_id, application_id, amount_cents, received_on::text FROM money_received`,
  ]);
  const percent = new Map(defaults.map((d) => [`${d.kind}:${d.stage}`, d.percent]));
  const override = new Map(overrides.map((o) => [o.ref_id, o.probability_override]));
  const received = new Map<string, number>();
  for (const m of money) {
    const ref = (m.dossier_id ?? m.application_id)!;
    received.set(ref, (received.get(ref) ?? 0) + Number(m.amount_cents));
  }
  const items = [
    ...dossiers.map((d) => ({ ref: d.id, kind: 'sponsor', stage: d.stage, asked: Number(d.amount_asked_cents), committed: 0 })),
    ...applications.map((a) => ({ ref: a.id, kind: 'application', stage: a.stage, asked: Number(a.amount_requested_cents), committed: Number(a.amount_awarded_cents ?? 0) })),
  ].map((i) => {
    const got = received.get(i.ref) ?? 0;
    const status = STATUS[i.stage] ?? 'open';
    const probability = override.get(i.ref) ?? percent.get(`${i.kind}:${i.stage}`) ?? 0;
    const base = i.committed > 0 ? i.committed : i.asked;
    const weighted = status === 'lost' || status === 'withdrawn' ? got : got + Math.round((Math.max(base - got, 0) * probability) / 100);
    return { ...i, received: got, status, probability, weighted };
  });
  return { items, money };
}

describe('the treasurer’s pipeline', () => {
  it('keeps every total exact while dossiers move and money comes in concurrently', async () => {
    // Two outreach processes through the real workflow, left waiting for their follow-up.
    const live = [await sponsor('Crédit Coopératif'), await sponsor('Mutuelle du Rhône')];
    for (const s of live) {
      await startOutreach(stack.outreach, { sponsor: s.slug, student: student.email, tutor: tutor.email, ask: '3 200,50', policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '20s' } });
    }
    await waitFor(async () => {
      const rows = await stack.sql<{ stage: string }[]>`SELECT stage FROM pipeline_items WHERE organisation_id IN ${stack.sql(live.map((s) => s.id))}`;
      return rows.length === 2 && rows.every((r) => r.stage === 'contacted');
    }, 'both outreach processes contacted');

    // Twelve dossiers opened by the activity, walked through their stages concurrently.
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await openDossier(await sponsor(`Entreprise n° ${i} Électricité`), 100_000 + i * 12_345, i % 3 ? student : student2));
    // Six applications in every phase, with tranches beyond the next 30 days.
    const funders = await Promise.all(['Région Île-de-France', 'Fondation de France', 'Ville de Lyon', 'Département du Rhône', 'Caisse des Dépôts', 'Fondation Orange'].map((n) => seedFunder(stack.sql, n)));
    const later = [addDays(today, 100), addDays(today, 200)];
    const apps = await Promise.all(
      funders.map((f, i) =>
        seedApplication(stack.sql, {
          funderId: f.id, studentId: student.id, tutorId: tutor.id, amountRequestedCents: 1_500_000 + i * 777,
          stage: (['drafting', 'submitted', 'awarded', 'awarded', 'refused', 'awarded'] as const)[i],
          ...(i === 2 || i === 3 || i === 5 ? { amountAwardedCents: 1_200_000 + i, tranches: [{ expectedOn: later[0], amountCents: 600_000 }, { expectedOn: later[1], amountCents: 600_000 + i }] } : {}),
        }),
      ),
    );
    const awarded = [apps[2], apps[3], apps[5]];
    // The treasurer's override on two items, which later refreshes must keep.
    await setProbability(stack.sql, ids[0].slice(0, 8), { percent: 80, as: treasurer.email });
    await setProbability(stack.sql, apps[1], { percent: 65, as: treasurer.email });

    const walks: OutreachStage[][] = [
      ['contacted', 'followed_up', 'interested', 'meeting'],
      ['contacted', 'followed_up', 'escalated'],
      ['contacted', 'interested', 'declined'],
      ['contacted', 'followed_up', 'escalated', 'closed'],
    ];
    const work: Promise<unknown>[] = [];
    ids.forEach((id, i) => {
      work.push(walk(id, walks[i % walks.length]));
      for (let k = 0; k < 3; k++) work.push(pay({ dossierId: id, cents: 1_000 + i * 101 + k * 7, on: addDays(today, -k) }));
    });
    for (let k = 0; k < 36; k++) work.push(pay({ applicationId: awarded[k % 3], tranche: 1 + (k % 2), cents: 10_000 + k * 13, on: addDays(today, -(k % 20)) }));
    work.push(setProbability(stack.sql, ids[5], { percent: 35, as: treasurer.email }));
    await Promise.all(work);

    // Every item equals what its sources say.
    const { items: expected, money } = await expectedFromSources();
    expect(expected).toHaveLength(2 + 12 + 6);
    const rows = await stack.sql<any[]>`SELECT ref_id, stage, status, asked_cents, committed_cents, received_cents, probability, weighted_cents FROM pipeline_items ORDER BY ref_id`;
    expect(rows.map((r) => ({ ref: r.ref_id, stage: r.stage, status: r.status, asked: Number(r.asked_cents), committed: Number(r.committed_cents), received: Number(r.received_cents), probability: r.probability, weighted: Number(r.weighted_cents) }))).toEqual(
      [...expected].sort((a, b) => (a.ref < b.ref ? -1 : 1)).map(({ ref, stage, status, asked, committed, received, probability, weighted }) => ({ ref, stage, status, asked, committed, received, probability, weighted })),
    );

    // The summary's totals, per stage and overall, equal the independent sums.
    const summary = await pipelineSummary(stack.sql);
    const sum = (xs: typeof expected, f: (x: (typeof expected)[number]) => number) => xs.reduce((s, x) => s + f(x), 0);
    const ledger = money.reduce((s, m) => s + Number(m.amount_cents), 0);
    expect(ledger).toBeGreaterThan(0);
    expect(summary.totals).toEqual({
      count: expected.length,
      askedCents: sum(expected, (x) => x.asked),
      committedCents: sum(expected, (x) => x.committed),
      receivedCents: ledger,
      weightedCents: sum(expected, (x) => x.weighted),
    });
    const stageKeys = [...new Set(expected.map((x) => `${x.kind}:${x.stage}`))];
    expect(summary.stages.map((s) => `${s.kind}:${s.stage}`)).toEqual(
      stageKeys.sort((a, b) => {
        const [ka, sa] = a.split(':') as ['sponsor' | 'application', string];
        const [kb, sb] = b.split(':') as ['sponsor' | 'application', string];
        return (ka === kb ? 0 : ka === 'sponsor' ? -1 : 1) || STAGE_ORDER[ka].indexOf(sa) - STAGE_ORDER[kb].indexOf(sb);
      }),
    );
    for (const s of summary.stages) {
      const xs = expected.filter((x) => x.kind === s.kind && x.stage === s.stage);
      expect(s).toEqual({ kind: s.kind, stage: s.stage, count: xs.length, askedCents: sum(xs, (x) => x.asked), committedCents: sum(xs, (x) => x.committed), receivedCents: sum(xs, (x) => x.received), weightedCents: sum(xs, (x) => x.weighted) });
    }
    for (const st of summary.byStatus) expect(st.count).toBe(expected.filter((x) => x.status === st.status).length);
    expect(summary.byStatus.reduce((s, x) => s + x.weightedCents, 0)).toBe(summary.totals.weightedCents);
    expect(summary.overduePayments).toEqual([]);
    expect(summary.next30Days.items).toEqual([]);

    // Received vs goal: the ledger over the goal's period only.
    await setCampaignGoal(stack.sql, { label: 'Campagne 2026-2027', amount: '250 000', from: addDays(today, -7), to: addDays(today, 300), as: treasurer.email });
    const withGoal = await pipelineSummary(stack.sql);
    const inPeriod = money.filter((m) => m.received_on >= addDays(today, -7)).reduce((s, m) => s + Number(m.amount_cents), 0);
    expect(withGoal.goal).toMatchObject({ label: 'Campagne 2026-2027', amountCents: 25_000_000, receivedCents: inPeriod, remainingCents: 25_000_000 - inPeriod, setBy: treasurer.email });
    expect(withGoal.goal!.percent).toBe(Math.round((inPeriod * 1000) / 25_000_000) / 10);
    expect(inPeriod).toBeLessThan(ledger);
  });

  it('lists overdue payments and reports, and the money of the next 30 days, to the cent', async () => {
    const [a, b] = await Promise.all([seedFunder(stack.sql, 'Agence Nationale du Sport'), seedFunder(stack.sql, 'Fondation Crédit Agricole')]);
    const late = await seedApplication(stack.sql, {
      funderId: a.id, studentId: student2.id, tutorId: tutor2.id, amountRequestedCents: 2_000_000, stage: 'awarded', amountAwardedCents: 1_800_000, programme: 'Héritage 2024',
      tranches: [
        { expectedOn: addDays(today, -10), amountCents: 900_000 },  // not received: overdue by 10 days
        { expectedOn: addDays(today, -4), amountCents: 500_000 },   // partly received: 300 000 still expected
        { expectedOn: addDays(today, 7), amountCents: 250_000 },    // next 30 days
        { expectedOn: addDays(today, 45), amountCents: 150_000 },   // beyond 30 days
      ],
      received: [{ tranche: 2, amountCents: 200_000, on: addDays(today, -2) }],
      reports: [{ kind: 'interim', dueOn: addDays(today, -3) }, { kind: 'interim', dueOn: addDays(today, -30), submitted: true }, { kind: 'final', dueOn: addDays(today, 90) }],
    });
    const onTime = await seedApplication(stack.sql, {
      funderId: b.id, studentId: student.id, tutorId: tutor.id, amountRequestedCents: 800_000, stage: 'awarded', amountAwardedCents: 800_000, programme: 'Solidarité',
      tranches: [{ expectedOn: addDays(today, -1), amountCents: 400_000 }, { expectedOn: today, amountCents: 100_000 }, { expectedOn: addDays(today, 30), amountCents: 300_000 }],
      received: [{ tranche: 1, amountCents: 400_000, on: addDays(today, -1) }],
    });

    const s = await pipelineSummary(stack.sql);
    expect(s.overduePayments).toEqual([
      { refId: late, kind: 'application', counterpart: 'Agence Nationale du Sport', title: 'Héritage 2024', owner: { id: student2.id, name: 'Noé Garnier', email: 'noe@etu.test' }, trancheN: 1, dueOn: addDays(today, -10), expectedCents: 900_000, daysLate: 10 },
      { refId: late, kind: 'application', counterpart: 'Agence Nationale du Sport', title: 'Héritage 2024', owner: { id: student2.id, name: 'Noé Garnier', email: 'noe@etu.test' }, trancheN: 2, dueOn: addDays(today, -4), expectedCents: 300_000, daysLate: 4 },
    ]);
    expect(s.overdueReports).toEqual([
      { refId: late, kind: 'application', counterpart: 'Agence Nationale du Sport', title: 'Héritage 2024', owner: { id: student2.id, name: 'Noé Garnier', email: 'noe@etu.test' }, reportN: 1, reportKind: 'interim', dueOn: addDays(today, -3), daysLate: 3 },
    ]);
    expect(s.next30Days.items.map((e) => [e.refId, e.trancheN, e.expectedOn, e.expectedCents])).toEqual([
      [onTime, 2, today, 100_000],
      [late, 3, addDays(today, 7), 250_000],
      [onTime, 3, addDays(today, 30), 300_000],
    ]);
    expect(s.next30Days).toMatchObject({ from: today, to: addDays(today, 30), totalCents: 650_000 });

    // The same flags on the items, and the filters.
    const overdue = await pipelineItems(stack.sql, { overdue: true });
    expect(overdue.items.map((i) => [i.refId, i.overduePayment, i.overdueReport])).toEqual([[late, true, true]]);
    const mine = await pipelineItems(stack.sql, { tutor: 'ines@tuteurs.test', kind: 'application' });
    expect(mine.items.map((i) => i.refId)).toEqual([late]);
    const won = await pipelineItems(stack.sql, { kind: 'application', status: 'won', limit: 2 });
    expect(won.total).toBe(5);
    expect(won.items).toHaveLength(2);
    // A day later, as the summary would read tomorrow: one more day late each.
    const tomorrow = await pipelineSummary(stack.sql, { today: addDays(today, 1) });
    expect(tomorrow.overduePayments.map((p) => [p.refId, p.trancheN, p.daysLate])).toEqual([[late, 1, 11], [late, 2, 5], [onTime, 2, 1]]);
  });

  it('exports every item as CSV that French Excel opens with accents, semicolons and quotes intact', async () => {
    const names = ['« Société Générale ; Île-de-France »', 'Fondation "l’Œuvre" d\'Éloïse', '=Formule Maligne'];
    const refs: string[] = [];
    for (const [i, name] of names.entries()) refs.push(await openDossier(await sponsor(name), 150_050 + i));
    await walk(refs[0], ['contacted', 'interested']);

    const response = await stack.app.inject('/api/pipeline.csv');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="pipeline-${today}.csv"`);
    const bytes = response.rawPayload;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n')[0]).toBe(
      '\ufefftype;identifiant;contrepartie;programme;etape;statut;responsable;responsable_courriel;tuteur;tuteur_courriel;demande_eur;promis_ou_accorde_eur;recu_eur;' +
        'probabilite_pct;probabilite_forcee;pondere_eur;argent_attendu_le;prochain_versement_le;prochain_rapport_le;versement_en_retard;rapport_en_retard;' +
        'prochaine_action;prochaine_action_le;dernier_contact_le;ouvert_le;clos_le',
    );
    expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/);

    const parsed = parseCsv(text);
    const all = await pipelineItems(stack.sql, { limit: 20_000 });
    expect(parsed.records).toHaveLength(all.total);
    const byRef = new Map(parsed.records.map((r) => [r.values.identifiant, r.values]));
    for (const item of all.items) {
      const row = byRef.get(item.refId)!;
      expect(row.contrepartie.replace(/^'/, '')).toBe(item.counterpart);
      expect([row.demande_eur, row.promis_ou_accorde_eur, row.recu_eur, row.pondere_eur]).toEqual([item.askedCents, item.committedCents, item.receivedCents, item.weightedCents].map(csvEuros));
      expect(row.ouvert_le).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(row.probabilite_pct).toBe(String(item.probability));
    }
    expect(byRef.get(refs[0])).toMatchObject({ type: 'Mécènes', contrepartie: '« Société Générale ; Île-de-France »', etape: 'intéressé', statut: 'en cours', demande_eur: '1500,50', responsable: 'Léa Fournier', tuteur: 'Marc Roux', ouvert_le: today });
    expect(byRef.get(refs[1])!.contrepartie).toBe('Fondation "l’Œuvre" d\'Éloïse');
    expect(byRef.get(refs[2])!.contrepartie).toBe("'=Formule Maligne"); // never run as a formula
    expect(text).toContain('"« Société Générale ; Île-de-France »"');
    expect(text).toContain('"Fondation ""l’Œuvre"" d\'Éloïse"');
    // Sums read back from the file equal the summary's.
    const cents = (v: string) => Number(v.replace(',', ''));
    const summary = await pipelineSummary(stack.sql);
    expect(parsed.records.reduce((s, r) => s + cents(r.values.demande_eur), 0)).toBe(summary.totals.askedCents);
    expect(parsed.records.reduce((s, r) => s + cents(r.values.pondere_eur), 0)).toBe(summary.totals.weightedCents);
    expect(parsed.records.reduce((s, r) => s + cents(r.values.recu_eur), 0)).toBe(summary.totals.receivedCents);
  });
});

/** Runs the real `mecene` command against the test stack's services. */
const mecene = (args: string[], env: Record<string, string | undefined> = {}) => runMecene(stack, args, env);

describe('mecene goal and mecene pipeline', () => {
  it('sets and shows the campaign goal; refuses anyone but a treasurer', async () => {
    const from = addDays(today, -30);
    const to = addDays(today, 335);
    const fmt = (d: string) => new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(`${d}T12:00:00Z`));

    const set = await mecene(['goal', 'set', '--amount', '80 000,50', '--from', from, '--to', to, '--label', 'Campagne « Avenir »', '--as', 'Sophie@Asso.test']);
    expect(set).toEqual({ code: 0, stderr: '', stdout: `Objectif de campagne enregistré : « Campagne « Avenir » », 80\u202f000,50\u00a0€ du ${fmt(from)} au ${fmt(to)} (fixé par sophie@asso.test).\n` });

    const [{ cents }] = await stack.sql<{ cents: bigint }[]>`SELECT coalesce(sum(amount_cents), 0)::bigint AS cents FROM money_received WHERE received_on BETWEEN ${from}::date AND ${to}::date`;
    const received = Number(cents);
    const shown = await mecene(['goal', 'show', '--json']);
    expect(JSON.parse(shown.stdout).goal).toMatchObject({ label: 'Campagne « Avenir »', amountCents: 8_000_050, startsOn: from, endsOn: to, receivedCents: received, remainingCents: 8_000_050 - received });
    const text = await mecene(['goal']);
    expect(text.stdout).toContain(`Objectif « Campagne « Avenir » » : 80\u202f000,50\u00a0€ du ${fmt(from)} au ${fmt(to)} ; reçu sur la période : `);
    expect(text.stdout).toContain('Fixé par sophie@asso.test le');

    const cases: [string[], RegExp][] = [
      [['goal', 'set', '--amount', '1000', '--from', from, '--to', to, '--as', 'lea@etu.test'], /^lea@etu\.test est enregistré·e comme étudiant·e, pas comme trésorier·e\.$/],
      [['goal', 'set', '--amount', '1000', '--from', from, '--to', to, '--as', 'personne@asso.test'], /^Personne inconnue : personne@asso\.test\./],
      [['goal', 'set', '--amount', 'beaucoup', '--from', from, '--to', to, '--as', 'sophie@asso.test'], /^Données invalides : amount : montant en euros attendu/],
      [['goal', 'set', '--amount', '1000', '--from', to, '--to', from, '--as', 'sophie@asso.test'], /^Données invalides : to : la fin doit être après le début/],
      [['goal', 'set', '--amount', '1000', '--from', '2026-02-30', '--to', to, '--as', 'sophie@asso.test'], /^Données invalides : from : date attendue au format AAAA-MM-JJ/],
      [['pipeline', 'probability', '00000000', '50', '--as', 'sophie@asso.test'], /^Aucun dossier ni candidature ne commence par « 00000000 »/],
      [['pipeline', 'probability', 'zz', '50', '--as', 'sophie@asso.test'], /^Données invalides : .*identifiant attendu/],
    ];
    for (const [args, message] of cases) {
      const r = await mecene(args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr.trim() }).toEqual({ args, code: 1, stdout: '', stderr: expect.stringMatching(message) });
    }
    const [{ count }] = await stack.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM campaign_goals WHERE amount_cents = 100000`;
    expect(count).toBe(0);
  });

  it('prints the pipeline, exports it, and overrides a probability', async () => {
    const shown = await mecene(['pipeline']);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toMatch(/^Pipeline de financement au \d{1,2} \S+ \d{4}$/);
    for (const heading of ['Mécènes', 'Demandes de subvention', 'Argent', 'Versements en retard (2)', 'Rapports en retard (1)']) expect(lines).toContain(heading);
    const summary = await pipelineSummary(stack.sql);
    const euros = (c: number) => formatEuros(c, 'fr');
    expect(shown.stdout).toMatch(new RegExp(`Prévision pondérée\\s+${euros(summary.totals.weightedCents)}`));
    expect(shown.stdout).toMatch(new RegExp(`Reçu\\s+${euros(summary.totals.receivedCents)}`));
    expect(shown.stdout).toContain(`Argent attendu dans les 30 prochains jours : ${euros(650_000)}`);
    expect(shown.stdout).toContain('Agence Nationale du Sport — Héritage 2024');

    const overdue = await mecene(['pipeline', 'items', '--overdue']);
    expect(overdue.stdout.split('\n')[0]).toMatch(/^réf\.\s+type\s+mécène ou financeur\s+étape\s+demandé\s+probabilité\s+pondéré\s+reçu\s+responsable\s+retards$/);
    expect(overdue.stdout.trim().split('\n')).toHaveLength(3);
    expect(overdue.stdout).toMatch(/Demandes de subvention\s+Agence Nationale du Sport — Héritage 2024\s+accordée\s+20\u202f000,00\u00a0€\s+100\u00a0%.*Noé Garnier\s+versement en retard, rapport en retard\n$/);

    const json = JSON.parse((await mecene(['pipeline', '--json'])).stdout);
    expect(json.totals).toEqual(summary.totals);
    const stdoutCsv = await mecene(['pipeline', '--csv']);
    expect(stdoutCsv.stdout.startsWith('\ufefftype;identifiant;')).toBe(true);

    const file = path.join(work, 'pipeline.csv');
    const exported = await mecene(['pipeline', 'export', '--csv', file]);
    expect(exported).toEqual({ code: 0, stderr: '', stdout: `Pipeline exporté : ${summary.totals.count} ligne(s) dans ${file}.\n` });
    const bytes = await readFile(file);
    expect(bytes.equals((await stack.app.inject('/api/pipeline.csv')).rawPayload)).toBe(true);

    const [item] = (await pipelineItems(stack.sql, { kind: 'application', stage: 'submitted' })).items;
    const set = await mecene(['pipeline', 'probability', item.refId.slice(0, 8), '90', '--as', 'sophie@asso.test']);
    expect(set.stderr).toBe('');
    expect(set.stdout).toMatch(/^Probabilité de « .+ » \(Demandes de subvention, déposée\) fixée à 90\u00a0% ; pondéré : .+\u00a0€\.\n$/);
    const [row] = await stack.sql<{ probability_override: number; weighted_cents: bigint; asked_cents: bigint; received_cents: bigint }[]>`
      SELECT probability_override, weighted_cents, asked_cents, received_cents FROM pipeline_items WHERE ref_id = ${item.refId}`;
    expect(row.probability_override).toBe(90);
    expect(Number(row.weighted_cents)).toBe(Number(row.received_cents) + Math.round(((Number(row.asked_cents) - Number(row.received_cents)) * 90) / 100));
    const back = await mecene(['pipeline', 'probability', item.refId, 'default', '--as', 'sophie@asso.test']);
    expect(back.stdout).toContain('revenue à celle de l’étape : 40\u00a0%');
    const refused = await mecene(['pipeline', 'probability', item.refId, '150', '--as', 'sophie@asso.test']);
    expect(refused).toMatchObject({ code: 1, stderr: 'Probabilité invalide : « 150 ». Attendu : un nombre de 0 à 100, ou « default » pour revenir à celle de l’étape.\n' });
    const student = await mecene(['pipeline', 'probability', item.refId, '10', '--as', 'lea@etu.test']);
    expect(student.code).toBe(1);
    const [after] = await stack.sql<{ probability_override: number | null }[]>`SELECT probability_override FROM pipeline_items WHERE ref_id = ${item.refId}`;
    expect(after.probability_override).toBeNull();
  });
});

describe('pipeline HTTP API', () => {
  const put = (url: string, payload: unknown, headers: Record<string, string> = {}) => stack.app.inject({ method: 'PUT', url, payload: payload as never, headers });

  it('serves the summary, the items and the goal; refuses bad input with French messages', async () => {
    const summary = (await stack.app.inject('/api/pipeline')).json();
    expect(summary).toEqual(JSON.parse(JSON.stringify(await pipelineSummary(stack.sql))));
    expect(summary.stages.map((s: { kind: string }) => s.kind)).toEqual(expect.arrayContaining(['sponsor', 'application']));

    const items = await stack.app.inject('/api/pipeline/items?kind=application&status=won&tutor=ines@tuteurs.test&lang=fr');
    expect(items.statusCode).toBe(200);
    expect(items.json().items.map((i: { counterpart: string }) => i.counterpart)).toEqual(['Agence Nationale du Sport']);
    const badKind = await stack.app.inject('/api/pipeline/items?kind=dragon&limit=0');
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json().error.details.map((d: { field: string }) => d.field).sort()).toEqual(['kind', 'limit']);
    const unknownTutor = await stack.app.inject('/api/pipeline/items?tutor=nobody@tuteurs.test');
    expect(unknownTutor.statusCode).toBe(404);
    expect(unknownTutor.json().error.message).toBe('Personne inconnue : nobody@tuteurs.test. Ajoutez-la avec `mecene people add`.');

    const from = addDays(today, -1);
    const to = addDays(today, 364);
    const ok = await put('/api/goal', { label: 'Campagne API', amount: '120000', from, to, as: 'sophie@asso.test' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().goal).toMatchObject({ label: 'Campagne API', amountCents: 12_000_000, startsOn: from, endsOn: to, setBy: 'sophie@asso.test' });
    const current = (await stack.app.inject('/api/goal')).json();
    expect(current.goal).toMatchObject({ label: 'Campagne API', amountCents: 12_000_000 });
    const days = await stack.sql<{ day: string; cents: bigint }[]>`
      SELECT received_on::text AS day, sum(amount_cents)::bigint AS cents FROM money_received WHERE received_on BETWEEN ${from}::date AND ${to}::date GROUP BY 1 ORDER BY 1`;
    let running = 0;
    expect(current.received).toEqual(days.map((d) => ({ day: d.day, cumulativeCents: (running += Number(d.cents)) })));
    expect(current.received.at(-1).cumulativeCents).toBe(current.goal.receivedCents);

    const bad = await put('/api/goal', { amount: 'mille', from: '2027-13-01', to: '2026-01-01', extra: true });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_input');
    expect(bad.json().error.message).toMatch(/^Données invalides : /);
    expect(bad.json().error.details.map((d: { field: string }) => d.field).sort()).toEqual(['(racine)', 'amount', 'as', 'from']);
    const reversed = await put('/api/goal', { amount: '1000', from: to, to: from, as: 'sophie@asso.test' });
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.details).toEqual([{ field: 'to', problem: 'la fin doit être après le début / the end must come after the start' }]);
    const english = await put('/api/goal', { amount: '1000', from, to, as: 'marc@tuteurs.test' }, { 'accept-language': 'en' });
    expect(english.statusCode).toBe(422);
    expect(english.json().error.message).toMatch(/^marc@tuteurs\.test is registered as /);
    expect((await stack.app.inject('/api/goal')).json().goal.label).toBe('Campagne API');
  });

  it('overrides a probability by reference; unknown and ambiguous references are clear', async () => {
    const [item] = (await pipelineItems(stack.sql, { kind: 'application', stage: 'drafting' })).items;
    const set = await put(`/api/pipeline/items/${item.refId.slice(0, 13)}/probability`, { percent: 0, as: 'sophie@asso.test' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ refId: item.refId, probability: 0, probabilityOverride: 0, weightedCents: item.receivedCents });
    expect((await put(`/api/pipeline/items/${item.refId}/probability`, { percent: null, as: 'sophie@asso.test' })).json()).toMatchObject({ probability: 20, probabilityOverride: null });
    const bad = await put(`/api/pipeline/items/${item.refId}/probability`, { percent: 101, as: 'sophie@asso.test' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('percent');
    expect((await put('/api/pipeline/items/ffffffff/probability', { percent: 5, as: 'sophie@asso.test' })).statusCode).toBe(404);

    const twins = ['abcdef01-0000-4000-8000-000000000001', 'abcdef01-0000-4000-8000-000000000002'];
    for (const id of twins) await openDossier(await sponsor(`Jumeau ${id.slice(-1)}`), 50_000, student, id);
    const ambiguous = await put('/api/pipeline/items/abcdef01/probability', { percent: 5, as: 'sophie@asso.test' });
    expect(ambiguous.statusCode).toBe(409);
    expect(ambiguous.json().error.message).toBe(`Plusieurs éléments commencent par « abcdef01 » : ${twins[0]} (Jumeau 1), ${twins[1]} (Jumeau 2). Donnez plus de caractères.`);
    expect((await put('/api/pipeline/items/abcdef01-0000-4000-8000-000000000002/probability', { percent: 5, as: 'sophie@asso.test' })).json().counterpart).toBe('Jumeau 2');
  });

  it('serves the page with both charts inline and as SVG downloads, in French or English', async () => {
    const page = await stack.app.inject('/pipeline');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<html lang="fr">');
    expect(page.body).toContain('<h1>Pipeline de financement</h1>');
    expect(page.body).toContain('Versements en retard (2)');
    expect(page.body.match(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g)).toHaveLength(2);
    expect(page.body).toContain('href="/pipeline/received.svg?lang=fr"');
    expect(page.body).toContain('Reçu face à l’objectif « Campagne API »');

    const received = await stack.app.inject('/pipeline/received.svg');
    expect(received.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(received.headers['content-disposition']).toBe(`attachment; filename="recu-objectif-${today}.svg"`);
    expect(received.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(received.body).toContain('data-cents="12000000"'); // the goal line
    expect((await stack.app.inject('/pipeline/received.svg')).body).toBe(received.body);

    const stages = await stack.app.inject('/pipeline/stages.svg?lang=en');
    expect(stages.headers['content-disposition']).toBe(`attachment; filename="pipeline-stages-${today}.svg"`);
    expect(stages.body).toContain('Pipeline by stage: asked and weighted');
    const summary = await pipelineSummary(stack.sql);
    const asked = [...stages.body.matchAll(/class="bar asked"[^>]*data-cents="(\d+)"/g)].map((m) => Number(m[1]));
    expect(asked).toHaveLength(summary.stages.length);
    expect(asked.reduce((s, c) => s + c, 0)).toBe(summary.totals.askedCents);

    const english = await stack.app.inject({ url: '/pipeline', headers: { 'accept-language': 'en-GB' } });
    expect(english.body).toContain('<h1>Funding pipeline</h1>');
    expect(english.body).toContain('Overdue payments (2)');
  });
});
