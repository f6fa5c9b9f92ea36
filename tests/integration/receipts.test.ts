import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { parisDay } from '../../src/domain/dates';
import { allocatePayments } from '../../src/domain/pledges';
import { addSponsor, type Sponsor } from '../../src/service/sponsors';
import { seedDossier } from '../support/funding-seed';
import { pdfText } from '../support/pdf-text';
import { seed, startTestStack, type TestStack } from '../support/stack';

/**
 * Pledges, agreements, sponsor payments and their receipts on real services: PostgreSQL (a
 * database of its own), the SMTP catcher, the activities as the worker builds them. Receipt
 * numbers must have no gap and no duplicate, whatever runs at the same time or fails.
 */
let stack: TestStack;
let acts: ReturnType<typeof createActivities>;
let people: Awaited<ReturnType<typeof seed>>;
const today = parisDay(new Date());
const year = Number(today.slice(0, 4));
const TREASURER = 'nadia@asso.test';

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  acts = createActivities(stack.deps);
  people = await seed(stack.sql, 'money');
});
afterAll(async () => {
  await stack?.stop();
});

let sponsors = 0;
async function newDossier(stage = 'meeting', sponsor?: Sponsor): Promise<{ dossierId: string; sponsor: Sponsor }> {
  const s =
    sponsor ??
    (await addSponsor(stack.sql, {
      name: `Mécène ${++sponsors}`,
      kind: 'company',
      contactName: 'Paul Girard',
      contactEmail: `paul.${sponsors}@mecene${sponsors}.test`,
      source: 'Salon des mécènes 2026',
    }));
  const dossierId = await seedDossier(stack.sql, {
    studentId: people.student.id,
    tutorId: people.tutor.id,
    organisationId: s.id,
    contactId: s.contacts[0].id,
    amountAskedCents: 600_000,
    stage,
  });
  return { dossierId, sponsor: s };
}

async function pledge(dossierId: string, instalments: [string, number][], extra: Record<string, unknown> = {}) {
  return acts.recordPledge({
    dossierId,
    key: `${dossierId}:pledge:${Math.random()}`,
    amountCents: instalments.reduce((s, [, c]) => s + c, 0),
    nature: 'cash',
    description: 'Bourses de déplacement des étudiants',
    counterparts: 'Logo du mécène sur le programme.',
    instalments: instalments.map(([expectedOn, amountCents]) => ({ expectedOn, amountCents })),
    by: TREASURER,
    ...extra,
  });
}

const pipelineRow = async (id: string) =>
  (
    await stack.sql<{ stage: string; status: string; committed_cents: number; received_cents: number; expected_money_on: string | null; next_payment_due_on: string | null; probability: number; weighted_cents: number }[]>`
      SELECT stage, status, committed_cents::float8 AS committed_cents, received_cents::float8 AS received_cents, expected_money_on::text,
             next_payment_due_on::text, probability, weighted_cents::float8 AS weighted_cents
      FROM pipeline WHERE ref_id = ${id}`
  )[0];

const receiptNumbers = async (y: number) =>
  (await stack.sql<{ number: number }[]>`SELECT number FROM receipts WHERE year = ${y} ORDER BY number`).map((r) => r.number);
const counter = async (y: number) => (await stack.sql<{ last_number: number }[]>`SELECT last_number FROM receipt_counters WHERE year = ${y}`)[0]?.last_number ?? 0;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('pledge → agreement → payments → receipts', () => {
  it('records a pledge of three instalments, its agreement, three payments with receipts 1, 2, 3 emailed with thanks', async () => {
    const { dossierId, sponsor } = await newDossier('meeting', people.sponsor);
    const dates = [addDays(today, -60), addDays(today, -30), addDays(today, 30)];
    const recorded = await pledge(dossierId, dates.map((d) => [d, 200_000]), {
      counterpartsValueCents: 90_000,
      donor: { legalForm: 'Société anonyme', siren: '552 120 222', address: ['29 boulevard Haussmann', '75009 Paris'], representative: { name: 'Paul Girard', title: 'Directeur' } },
    });
    expect(recorded.created).toBe(true);
    expect(recorded.instalments).toEqual(dates.map((d, i) => ({ n: i + 1, expectedOn: d, amountCents: 200_000 })));
    expect(await pipelineRow(dossierId)).toMatchObject({ committed_cents: 600_000, received_cents: 0, expected_money_on: dates[0], next_payment_due_on: dates[0] });

    // The agreement: stored like proposals, same bytes when rendered again.
    const convention = await acts.renderConvention({ dossierId, pledgeId: recorded.pledgeId });
    const [doc] = await stack.sql<{ kind: string; version: number; path: string; sha256: string }[]>`SELECT kind, version, path, sha256 FROM documents WHERE id = ${convention.documentId}`;
    expect(doc).toMatchObject({ kind: 'convention', version: 1, sha256: convention.sha256 });
    const conventionPdf = await readFile(path.join(stack.deps.documentsDir, doc.path));
    expect(createHash('sha256').update(conventionPdf).digest('hex')).toBe(convention.sha256);
    const conventionText = (await pdfText(conventionPdf)).replace(/\s+/g, ' ');
    expect(conventionText).toContain('Convention de mécénat');
    expect(conventionText).toContain('6 000,00 € (six mille euros)');
    expect(conventionText).toContain('SIREN 552120222');
    expect(conventionText).toContain('soit 15 % du don');
    expect(await acts.renderConvention({ dossierId, pledgeId: recorded.pledgeId })).toEqual(convention);

    // Three payments, each with its receipt, numbered 1, 2, 3 for this year.
    const before = await counter(year);
    expect(before).toBe(0);
    const paid = [];
    for (const [i, receivedOn] of [addDays(today, -58), addDays(today, -29), today].entries()) {
      paid.push(
        await acts.recordSponsorPayment({
          dossierId,
          key: `${dossierId}:payment:${i + 1}`,
          amountCents: 200_000,
          receivedOn,
          ...(i === 0 ? {} : { instalment: i + 1 }),
          method: i === 1 ? 'cheque' : 'transfer',
          by: TREASURER,
        }),
      );
      const row = await pipelineRow(dossierId);
      expect(row.received_cents).toBe(200_000 * (i + 1));
      expect(row.next_payment_due_on).toBe(dates[i + 1] ?? null);
    }
    expect(paid.map((p) => p.receiptNumber)).toEqual([`${year}-0001`, `${year}-0002`, `${year}-0003`]);
    expect(paid.map((p) => p.instalment)).toEqual([1, 2, 3]);
    expect(await stack.sql`SELECT tranche_n, kind, amount_cents::float8 AS amount_cents FROM money_received WHERE dossier_id = ${dossierId} ORDER BY tranche_n`).toEqual(
      [1, 2, 3].map((n) => ({ tranche_n: n, kind: 'sponsor', amount_cents: 200_000 })),
    );

    for (const p of paid) {
      const sent = await acts.sendReceipt({ dossierId, receiptId: p.receiptId, key: `${dossierId}:receipt:${p.number}` });
      expect(sent).toMatchObject({ status: 'sent', emailed: true, receiptNumber: p.receiptNumber, documentId: p.documentId, to: sponsor.contacts[0].email });
    }
    const mails = (await stack.catcher.store.list()).filter((m) => m.to.includes(sponsor.contacts[0].email));
    expect(mails.map((m) => m.subject).sort()).toEqual(paid.map((p) => `Reçu fiscal n° ${p.receiptNumber} : merci pour votre soutien à Rencontres du service public 2027`));
    const mail = (await stack.catcher.store.get(mails.find((m) => m.subject.includes(`${year}-0002`))!.id))!;
    expect(mail.text).toContain('Au nom de toute l\'équipe');
    expect(mail.text.replace(/[\u00a0\u202f]/g, ' ')).toContain('2 000,00 €');
    expect(mail.text).toContain('deux mille euros');
    expect(mail.replyTo).toContain(people.student.email);
    expect(mail.headers['list-unsubscribe']).toMatch(/\/opt-out\//);
    expect(mail.attachments.map((a) => a.filename)).toEqual([`Recu-fiscal-${year}-0002.pdf`]);
    const attached = (await stack.catcher.store.attachment(mail.id, mail.attachments[0].index))!;
    const receiptText = (await pdfText(attached.content)).replace(/\s+/g, ' ');
    expect(receiptText).toContain(`Numéro d’ordre du reçu : ${year}-0002`);
    expect(receiptText).toContain('***2 000,00 €***');
    expect(receiptText).toContain('Somme en toutes lettres : deux mille euros');
    expect(receiptText).toContain('☒ Chèque');
    expect(receiptText).toContain('N° SIREN : 552 120 222');
    expect(receiptText).toContain('Claire Moreau, Trésorière');
    expect(createHash('sha256').update(attached.content).digest('hex')).toBe(paid[1].sha256);

    // Sending again with the same key sends nothing more.
    await acts.sendReceipt({ dossierId, receiptId: paid[0].receiptId, key: `${dossierId}:receipt:${paid[0].number}` });
    expect((await stack.catcher.store.list()).filter((m) => m.to.includes(sponsor.contacts[0].email))).toHaveLength(3);

    // All money in: the lead's workflow then moves the dossier to `won`.
    expect(await pipelineRow(dossierId)).toMatchObject({ received_cents: 600_000, next_payment_due_on: null, expected_money_on: null, status: 'open', probability: 50 });
    await stack.sql.begin(async (tx) => {
      await tx`UPDATE dossiers SET stage = 'won', closed_at = now() WHERE id = ${dossierId}`;
      await tx`SELECT pipeline_refresh_dossier(${dossierId})`;
    });
    expect(await pipelineRow(dossierId)).toMatchObject({ stage: 'won', status: 'won', probability: 100, weighted_cents: 600_000, committed_cents: 600_000 });
  });

  it('a retried payment (same key) adds no money and uses no number; the key cannot be reused for another amount', async () => {
    const { dossierId } = await newDossier();
    await pledge(dossierId, [[addDays(today, -5), 50_000], [addDays(today, 20), 50_000]]);
    const input = { dossierId, key: `${dossierId}:payment:1`, amountCents: 50_000, receivedOn: today, method: 'transfer' as const, by: TREASURER };
    const first = await acts.recordSponsorPayment(input);
    const last = await counter(year);
    const again = await Promise.all([acts.recordSponsorPayment(input), acts.recordSponsorPayment(input), acts.recordSponsorPayment(input)]);
    for (const r of again) expect({ ...r, created: true }).toEqual(first);
    expect(again.map((r) => r.created)).toEqual([false, false, false]);
    expect(await counter(year)).toBe(last);
    const [{ sum, count }] = await stack.sql<{ sum: number; count: number }[]>`
      SELECT sum(amount_cents)::float8 AS sum, count(*)::int AS count FROM money_received WHERE dossier_id = ${dossierId}`;
    expect({ sum, count }).toEqual({ sum: 50_000, count: 1 });
    await expect(acts.recordSponsorPayment({ ...input, amountCents: 40_000 })).rejects.toMatchObject({ type: 'keyReused', nonRetryable: true });

    const second = await acts.recordSponsorPayment({ ...input, key: `${dossierId}:payment:2` });
    expect(second.number).toBe(first.number + 1);
    expect(await receiptNumbers(year)).toEqual(range(1, second.number));
  });

  it('numbers 30 concurrent payments across dossiers 1 to 30, without gap or duplicate, retries included', async () => {
    const y = 2041;
    const dossiers = await Promise.all(Array.from({ length: 10 }, () => newDossier('pledged')));
    await Promise.all(dossiers.map(({ dossierId }) => pledge(dossierId, [['2041-01-05', 10_000], ['2041-02-05', 10_000], ['2041-03-05', 10_000]])));
    const inputs = dossiers.flatMap(({ dossierId }) =>
      [1, 2, 3].map((n) => ({ dossierId, key: `${dossierId}:payment:${n}`, amountCents: 10_000, receivedOn: '2041-01-10', instalment: n, method: 'transfer' as const, issuedOn: '2041-01-15', by: TREASURER })),
    );
    // Every payment, and a retry of every third one, all at once.
    const results = await Promise.all([...inputs, ...inputs.filter((_, i) => i % 3 === 0)].map((i) => acts.recordSponsorPayment(i)));
    expect(results.filter((r) => r.created)).toHaveLength(30);
    expect(await receiptNumbers(y)).toEqual(range(1, 30));
    expect(await counter(y)).toBe(30);
    expect(new Set(results.map((r) => r.receiptNumber)).size).toBe(30);
    const [{ money, receipts }] = await stack.sql<{ money: number; receipts: number }[]>`
      SELECT (SELECT count(*)::int FROM money_received m JOIN receipts r ON r.money_received_id = m.id WHERE r.year = ${y}) AS money,
             (SELECT count(DISTINCT money_received_id)::int FROM receipts WHERE year = ${y}) AS receipts`;
    expect({ money, receipts }).toEqual({ money: 30, receipts: 30 });
    for (const { dossierId } of dossiers) expect(await pipelineRow(dossierId)).toMatchObject({ committed_cents: 30_000, received_cents: 30_000, next_payment_due_on: null });
  });

  it('a failure after a number was taken, inside the transaction, gives it back: no gap', async () => {
    const y = 2042;
    const { dossierId } = await newDossier('pledged');
    await pledge(dossierId, [['2042-01-01', 100_000]]);
    const pay = (key: string, amountCents: number) =>
      acts.recordSponsorPayment({ dossierId, key: `${dossierId}:${key}`, amountCents, receivedOn: '2042-01-02', method: 'transfer', issuedOn: '2042-01-03', by: TREASURER });
    expect((await pay('a', 1000)).number).toBe(1);
    // A constraint the receipt row violates, checked after the counter was incremented.
    await stack.sql`ALTER TABLE receipts ADD CONSTRAINT test_refuses_1313 CHECK (amount_cents <> 1313)`;
    try {
      const outcomes = await Promise.allSettled([pay('fails', 1313), pay('b', 1000), pay('c', 1000), pay('d', 1000)]);
      expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: { code: '23514' } });
      expect(outcomes.slice(1).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    } finally {
      await stack.sql`ALTER TABLE receipts DROP CONSTRAINT test_refuses_1313`;
    }
    expect(await receiptNumbers(y)).toEqual([1, 2, 3, 4]);
    expect(await counter(y)).toBe(4);
    expect(await stack.sql`SELECT 1 FROM money_received WHERE idempotency_key = ${`${dossierId}:fails`}`).toHaveLength(0);
    // The activity is retried once the cause is gone: the next number, no gap.
    expect((await pay('fails', 1313)).number).toBe(5);
    expect(await receiptNumbers(y)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('rules', () => {
  it('refuses a payment beyond the pledges, on an unknown instalment, without a pledge, or of the wrong kind; nothing is recorded', async () => {
    const { dossierId, sponsor } = await newDossier();
    const pay = (extra: Record<string, unknown>) =>
      acts.recordSponsorPayment({ dossierId, key: `${dossierId}:${Math.random()}`, amountCents: 1000, receivedOn: today, method: 'transfer', by: TREASURER, ...extra });
    await expect(pay({})).rejects.toMatchObject({ type: 'noPledge', nonRetryable: true, message: `Aucune promesse de don n’est enregistrée pour « ${sponsor.name} » : enregistrez-la avant le premier versement.` });
    await pledge(dossierId, [[today, 5000]]);
    await expect(pay({ amountCents: 5001 })).rejects.toMatchObject({ type: 'overPledged', message: expect.stringMatching(/^Le versement de 50,01\s€ dépasse ce qui reste à recevoir .* \(50,00\s€\)\.$/) });
    await expect(pay({ instalment: 7 })).rejects.toMatchObject({ type: 'unknownInstalment', message: expect.stringContaining('n° 7') });
    await expect(pay({ method: 'in_kind' })).rejects.toMatchObject({ type: 'methodNature' });
    await expect(pay({ receivedOn: addDays(today, 1) })).rejects.toMatchObject({ type: 'receivedAfterIssue' });
    await expect(pay({ receivedOn: '2027-02-30' })).rejects.toMatchObject({ type: 'InvalidInput' });
    expect(await stack.sql`SELECT 1 FROM money_received WHERE dossier_id = ${dossierId}`).toHaveLength(0);

    await expect(pledge(dossierId, [[today, 1000]], { amountCents: 2000 })).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('Les échéances totalisent') });
    await expect(pledge(dossierId, [[today, 1000]], { counterpartsValueCents: 251 })).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('25 %') });
    await expect(pledge(dossierId, [[today, 1000]], { nature: 'skills', description: '' })).rejects.toMatchObject({ type: 'InvalidInput' });
    expect(await stack.sql`SELECT 1 FROM pledges WHERE dossier_id = ${dossierId}`).toHaveLength(1);
  });

  it('a retried pledge is recorded once; a second pledge numbers its instalments after the first', async () => {
    const { dossierId } = await newDossier();
    const input = { dossierId, key: `${dossierId}:pledge:1`, amountCents: 3000, nature: 'cash' as const, description: '', instalments: [{ expectedOn: '2031-01-01', amountCents: 3000 }], by: TREASURER };
    const [a, b] = await Promise.all([acts.recordPledge(input), acts.recordPledge(input)]);
    expect(a.pledgeId).toBe(b.pledgeId);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    const second = await acts.recordPledge({ ...input, key: `${dossierId}:pledge:2`, amountCents: 2000, instalments: [{ expectedOn: '2031-06-01', amountCents: 2000 }] });
    expect(second).toMatchObject({ n: 2, instalments: [{ n: 2, expectedOn: '2031-06-01', amountCents: 2000 }] });
    expect(await pipelineRow(dossierId)).toMatchObject({ committed_cents: 5000, next_payment_due_on: '2031-01-01' });
  });

  it('a lump sum settles the instalments it covers; an early instalment leaves the first one due (the pipeline follows the same rule as the domain)', async () => {
    const { dossierId } = await newDossier('pledged');
    const instalments = await pledge(dossierId, [['2031-01-01', 1000], ['2031-02-01', 1000], ['2031-03-01', 1000]]);
    const pay = (key: string, amountCents: number, instalment: number) =>
      acts.recordSponsorPayment({ dossierId, key: `${dossierId}:${key}`, amountCents, receivedOn: today, instalment, method: 'transfer', by: TREASURER });
    await pay('early', 1000, 3);
    expect(await pipelineRow(dossierId)).toMatchObject({ received_cents: 1000, next_payment_due_on: '2031-01-01' });
    await pay('lump', 1500, 1);
    expect(await pipelineRow(dossierId)).toMatchObject({ received_cents: 2500, next_payment_due_on: '2031-02-01' });
    const statuses = allocatePayments(instalments.instalments, [{ instalment: 3, amountCents: 1000 }, { instalment: 1, amountCents: 1500 }]);
    expect(statuses.map((s) => s.paidCents)).toEqual([1000, 500, 1000]);
    // Probability of the stage `pledged` (90 %) weighs what is still expected.
    expect(await pipelineRow(dossierId)).toMatchObject({ probability: 90, weighted_cents: 2500 + 450, status: 'open' });
    await stack.sql.begin(async (tx) => {
      await tx`UPDATE dossiers SET stage = 'lost', closed_at = now() WHERE id = ${dossierId}`;
      await tx`SELECT pipeline_refresh_dossier(${dossierId})`;
    });
    expect(await pipelineRow(dossierId)).toMatchObject({ status: 'lost', next_payment_due_on: null, expected_money_on: null, weighted_cents: 2500 });
  });

  it('a gift of skills gets its receipt with the description; an opted-out contact gets no email, the receipt is still issued', async () => {
    const { dossierId, sponsor } = await newDossier('pledged');
    const recorded = await pledge(dossierId, [[today, 800_000]], { nature: 'skills', description: 'Deux développeurs pendant dix jours', counterparts: '' });
    await stack.sql`UPDATE contacts SET opted_out_at = now() WHERE id = ${sponsor.contacts[0].id}`;
    const paid = await acts.recordSponsorPayment({ dossierId, key: `${dossierId}:payment:1`, amountCents: 800_000, receivedOn: today, method: 'in_kind', by: TREASURER });
    expect(paid.instalment).toBe(recorded.instalments[0].n);
    const sent = await acts.sendReceipt({ dossierId, receiptId: paid.receiptId, key: `${dossierId}:receipt:1` });
    expect(sent).toMatchObject({ status: 'opted_out', emailed: false, receiptNumber: paid.receiptNumber, documentId: paid.documentId });
    expect((await stack.catcher.store.list()).filter((m) => m.to.includes(sponsor.contacts[0].email))).toHaveLength(0);
    const [email] = await stack.sql<{ status: string; kind: string }[]>`SELECT status, kind FROM emails WHERE idempotency_key = ${`${dossierId}:receipt:1`}`;
    expect(email).toEqual({ status: 'skipped', kind: 'receipt' });
    const [doc] = await stack.sql<{ path: string; kind: string }[]>`SELECT path, kind FROM documents WHERE id = ${paid.documentId}`;
    expect(doc.kind).toBe('receipt');
    const text = (await pdfText(await readFile(path.join(stack.deps.documentsDir, doc.path)))).replace(/\s+/g, ' ');
    expect(text).toContain('☒ Mécénat de compétences');
    expect(text).toContain('Deux développeurs pendant dix jours');
    expect(text).toContain('huit mille euros');
  });

  it('emails the receipt in English when the dossier is in English (the receipt itself stays French)', async () => {
    const { dossierId, sponsor } = await newDossier('pledged');
    await stack.sql`UPDATE dossiers SET lang = 'en' WHERE id = ${dossierId}`;
    await pledge(dossierId, [[today, 25_000]]);
    const paid = await acts.recordSponsorPayment({ dossierId, key: `${dossierId}:payment:1`, amountCents: 25_000, receivedOn: today, method: 'transfer', by: TREASURER });
    await acts.sendReceipt({ dossierId, receiptId: paid.receiptId, key: `${dossierId}:receipt:1` });
    const [summary] = (await stack.catcher.store.list()).filter((m) => m.to.includes(sponsor.contacts[0].email));
    expect(summary.subject).toBe(`Tax receipt no. ${paid.receiptNumber}: thank you for supporting Public Service Forum 2027`);
    const mail = (await stack.catcher.store.get(summary.id))!;
    expect(mail.text).toContain('€250.00');
    await expect(acts.sendReceipt({ dossierId, receiptId: '00000000-0000-4000-8000-000000000000', key: 'x' })).rejects.toMatchObject({ type: 'unknownReceipt', nonRetryable: true });
  });
});
