import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import type { Sql } from '../db/sql';
import { renderConventionPdf } from '../documents/convention-pdf';
import { renderReceiptPdf } from '../documents/receipt-pdf';
import { formatDay, parisDay } from '../domain/dates';
import { MeceneError } from '../domain/errors';
import { amountInFrenchWords } from '../domain/french-amount';
import { formatEuros } from '../domain/money';
import { optOutToken } from '../domain/opt-out';
import {
  allocatePayments,
  formatReceiptNumber,
  methodFitsNature,
  nextInstalmentDue,
  pledgeInputSchema,
  sponsorPaymentInputSchema,
  type Donor,
  type GiftForm,
  type Instalment,
  type PaymentMethod,
  type PledgeInput,
  type PledgeNature,
  type SponsorPaymentInput,
} from '../domain/pledges';
import { t } from '../i18n';
import { describeError } from '../i18n/errors';
import type { AssociationProfile } from '../templates/association';
import type { ActivityDeps } from './deps';
import { loadDossierContext } from './dossier-context';
import { createOutbox, type OutboxRow } from './outbox';
import type { RenderedDocument } from './pdf';
import { renderOrFail } from './template-failure';

export interface RecordedPledge {
  pledgeId: string;
  /** 1 for the dossier's first pledge, 2 for the next… (the agreement's version). */
  n: number;
  /** Numbered across the dossier: money_received.tranche_n names one of them. */
  instalments: Instalment[];
  /** False when the key had already been recorded (a retry). */
  created: boolean;
}

export interface RecordedPayment {
  moneyReceivedId: number;
  receiptId: string;
  /** "2027-0001". */
  receiptNumber: string;
  year: number;
  number: number;
  /** The instalment the payment was recorded on (null when it pays none: no instalment left). */
  instalment: number | null;
  documentId: string;
  sha256: string;
  /** False when the key had already been recorded (a retry): no money added, no number used. */
  created: boolean;
}

export interface SentReceipt {
  /** `opted_out`: the contact objected; the receipt is issued and stored, but not emailed. */
  status: 'sent' | 'opted_out';
  emailed: boolean;
  receiptNumber: string;
  documentId: string;
  to: string;
  messageId: string;
  subject: string;
  sentAt: string | null;
}

const sendReceiptSchema = z.strictObject({ dossierId: z.uuid(), receiptId: z.uuid(), key: z.string().trim().min(1) });
const renderConventionSchema = z.strictObject({ dossierId: z.uuid(), pledgeId: z.uuid() });

/** A person's mistake or a broken rule is final: retrying the activity would not change it. */
function nonRetryable(error: unknown): never {
  if (error instanceof MeceneError) {
    const described = describeError(error);
    throw ApplicationFailure.nonRetryable(described.message, error.key.replace(/^(money\.)?error\./, ''));
  }
  throw error;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => `${i.path.join('.') || '(racine)'} : ${i.message}`).join(' ; ');
  throw ApplicationFailure.nonRetryable(t('error.invalidInput', { details }), 'InvalidInput');
}

/** "69002 Lyon" → "Lyon": the place a receipt or an agreement is made. */
export function associationPlace(profile: Pick<AssociationProfile, 'address'>): string {
  const last = profile.address.at(-1) ?? '';
  return /^\d{4,5}\s+(.+)$/.exec(last)?.[1] ?? last;
}

/** The association as receipts and agreements print it. */
function legalAssociation(a: AssociationProfile) {
  return {
    name: a.name,
    address: a.address,
    email: a.email,
    phone: a.phone,
    website: a.website,
    rna: a.rna,
    siret: a.siret,
    purpose: a.purpose,
    legalForm: a.legalForm,
    taxStatus: a.taxStatus,
  };
}

interface ReceiptRow {
  id: string;
  dossier_id: string;
  money_received_id: number;
  year: number;
  number: number;
  amount_cents: number;
  nature: PledgeNature;
  method: PaymentMethod;
  form: GiftForm;
  description: string | null;
  received_on: string;
  issued_on: string;
  donor: { name: string; legalForm?: string; siren?: string; address?: string[] };
  document_id: string | null;
  tranche_n: number | null;
}

/** Writes a PDF under documentsDir (whole or not at all) and records it in `documents`. */
async function storeDocument(
  sql: Sql,
  documentsDir: string,
  doc: { dossierId: string; kind: 'convention' | 'receipt'; version: number; file: string; pdf: Buffer },
): Promise<RenderedDocument> {
  const sha256 = createHash('sha256').update(doc.pdf).digest('hex');
  const relative = path.join(doc.dossierId, doc.file);
  const file = path.join(documentsDir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  await writeFile(tmp, doc.pdf);
  await rename(tmp, file); // readers never see a half-written PDF
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO documents (id, dossier_id, kind, version, path, sha256, size_bytes)
    VALUES (${randomUUID()}, ${doc.dossierId}, ${doc.kind}, ${doc.version}, ${relative}, ${sha256}, ${doc.pdf.length})
    ON CONFLICT (dossier_id, kind, version) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes
    RETURNING id`;
  return { documentId: row.id, sha256, sizeBytes: doc.pdf.length };
}

/**
 * Pledges, the sponsorship agreement, sponsor payments and their tax receipts. Each activity is
 * idempotent by the business key the workflow computes: a retry adds no money, uses no receipt
 * number and sends no second email.
 */
export function createMoneyActivities(deps: ActivityDeps) {
  const { sql, association, documentsDir, templates, publicUrl, secret } = deps;
  const outbox = createOutbox(deps);

  /** The receipt's PDF, rendered once (again only if the first render never reached the table). */
  async function ensureReceiptDocument(receipt: ReceiptRow): Promise<RenderedDocument> {
    if (receipt.document_id) {
      const [doc] = await sql<{ sha256: string; size_bytes: number }[]>`SELECT sha256, size_bytes FROM documents WHERE id = ${receipt.document_id}`;
      if (doc) return { documentId: receipt.document_id, sha256: doc.sha256, sizeBytes: Number(doc.size_bytes) };
    }
    const number = formatReceiptNumber(receipt.year, receipt.number);
    const pdf = await renderReceiptPdf({
      number,
      association: legalAssociation(association),
      signatory: association.signatory,
      place: associationPlace(association),
      donor: receipt.donor,
      amountCents: Number(receipt.amount_cents),
      nature: receipt.nature,
      method: receipt.method,
      form: receipt.form,
      description: receipt.description,
      receivedOn: receipt.received_on,
      issuedOn: receipt.issued_on,
    });
    const stored = await storeDocument(sql, documentsDir, {
      dossierId: receipt.dossier_id,
      kind: 'receipt',
      // documents.version is unique per dossier and kind: year and number together (2027-0001 → 202700001).
      version: receipt.year * 100_000 + receipt.number,
      file: `receipt-${number}.pdf`,
      pdf,
    });
    await sql`UPDATE receipts SET document_id = ${stored.documentId} WHERE id = ${receipt.id}`;
    return stored;
  }

  async function loadReceipt(receiptId: string, dossierId: string): Promise<ReceiptRow> {
    const [row] = await sql<ReceiptRow[]>`
      SELECT r.id, r.dossier_id, r.money_received_id, r.year, r.number, r.amount_cents, r.nature, r.method, r.form, r.description,
             r.received_on::text AS received_on, r.issued_on::text AS issued_on, r.donor, r.document_id, m.tranche_n
      FROM receipts r JOIN money_received m ON m.id = r.money_received_id
      WHERE r.id = ${receiptId} AND r.dossier_id = ${dossierId}`;
    if (!row) nonRetryable(new MeceneError('money.error.unknownReceipt', { receipt: receiptId }, 404));
    return row;
  }

  return {
    /**
     * Records a pledge and its instalments (they must add up to it), once per key, with the
     * dossier's pipeline row in the same transaction (committed money, next payment due).
     */
    async recordPledge(input: PledgeInput): Promise<RecordedPledge> {
      const p = parse(pledgeInputSchema, input);
      try {
        return await sql.begin(async (tx) => {
          // One writer per dossier at a time: pledge and instalment numbers, and the retry check.
          const [dossier] = await tx<{ id: string }[]>`SELECT id FROM dossiers WHERE id = ${p.dossierId} FOR NO KEY UPDATE`;
          if (!dossier) throw new MeceneError('money.error.unknownDossier', { dossier: p.dossierId }, 404);
          const [existing] = await tx<{ id: string; dossier_id: string; n: number; amount_cents: number }[]>`
            SELECT id, dossier_id, n, amount_cents FROM pledges WHERE idempotency_key = ${p.key}`;
          if (existing) {
            if (existing.dossier_id !== p.dossierId || Number(existing.amount_cents) !== p.amountCents) {
              throw new MeceneError('money.error.keyReused', { key: p.key }, 409);
            }
            const instalments = await tx<{ n: number; expected_on: string; amount_cents: number }[]>`
              SELECT n, expected_on::text, amount_cents FROM pledge_instalments WHERE pledge_id = ${existing.id} ORDER BY n`;
            return {
              pledgeId: existing.id,
              n: existing.n,
              instalments: instalments.map((i) => ({ n: i.n, expectedOn: i.expected_on, amountCents: Number(i.amount_cents) })),
              created: false,
            };
          }
          const [next] = await tx<{ pledge: number; instalment: number }[]>`
            SELECT (SELECT coalesce(max(n), 0) + 1 FROM pledges WHERE dossier_id = ${p.dossierId}) AS pledge,
                   (SELECT coalesce(max(n), 0) FROM pledge_instalments WHERE dossier_id = ${p.dossierId}) AS instalment`;
          const pledgeId = randomUUID();
          const endsOn = p.endsOn ?? p.instalments.at(-1)!.expectedOn;
          await tx`
            INSERT INTO pledges (id, dossier_id, n, idempotency_key, amount_cents, nature, description, counterparts,
                                 counterparts_value_cents, donor, ends_on, recorded_by)
            VALUES (${pledgeId}, ${p.dossierId}, ${next.pledge}, ${p.key}, ${p.amountCents}, ${p.nature}, ${p.description},
                    ${p.counterparts || null}, ${p.counterpartsValueCents ?? null}, ${tx.json((p.donor ?? {}) as never)}, ${endsOn}, ${p.by})`;
          const instalments = p.instalments.map((i, index) => ({ n: next.instalment + index + 1, expectedOn: i.expectedOn, amountCents: i.amountCents }));
          for (const i of instalments) {
            await tx`
              INSERT INTO pledge_instalments (pledge_id, dossier_id, n, expected_on, amount_cents)
              VALUES (${pledgeId}, ${p.dossierId}, ${i.n}, ${i.expectedOn}, ${i.amountCents})`;
          }
          // The instalments add up to the pledge: checked on what was written, before it commits.
          const [written] = await tx<{ sum: number }[]>`SELECT sum(amount_cents) AS sum FROM pledge_instalments WHERE pledge_id = ${pledgeId}`;
          if (Number(written.sum) !== p.amountCents) {
            throw new MeceneError('money.error.instalmentsSum', { instalments: formatEuros(Number(written.sum)), pledged: formatEuros(p.amountCents) }, 422);
          }
          await tx`SELECT pipeline_refresh_dossier(${p.dossierId})`;
          return { pledgeId, n: next.pledge, instalments, created: true };
        });
      } catch (error) {
        nonRetryable(error);
      }
    },

    /** The sponsorship agreement of a pledge as a PDF for signature: stored like proposals; the same pledge gives the same bytes. */
    async renderConvention(input: { dossierId: string; pledgeId: string }): Promise<RenderedDocument> {
      const { dossierId, pledgeId } = parse(renderConventionSchema, input);
      const [pledge] = await sql<
        {
          n: number;
          amount_cents: number;
          nature: PledgeNature;
          description: string;
          counterparts: string | null;
          counterparts_value_cents: number | null;
          donor: Donor;
          ends_on: string;
          created_at: Date;
        }[]
      >`
        SELECT n, amount_cents, nature, description, counterparts, counterparts_value_cents, donor, ends_on::text, created_at
        FROM pledges WHERE id = ${pledgeId} AND dossier_id = ${dossierId}`;
      if (!pledge) nonRetryable(new MeceneError('money.error.unknownPledge', { pledge: pledgeId }, 404));
      const instalments = await sql<{ n: number; expected_on: string; amount_cents: number }[]>`
        SELECT n, expected_on::text, amount_cents FROM pledge_instalments WHERE pledge_id = ${pledgeId} ORDER BY n`;
      const ctx = await loadDossierContext(sql, dossierId);
      const donor = pledge.donor ?? {};
      const pdf = await renderConventionPdf({
        reference: `${ctx.sponsor.slug} · ${dossierId.slice(0, 8)} · promesse ${pledge.n}`,
        date: parisDay(pledge.created_at),
        association: legalAssociation(association),
        signatory: association.signatory,
        place: associationPlace(association),
        sponsor: { name: donor.legalName ?? ctx.sponsor.name, legalForm: donor.legalForm, siren: donor.siren, address: donor.address, representative: donor.representative },
        project: { title: association.project.fr.title, summary: association.project.fr.summary },
        amountCents: Number(pledge.amount_cents),
        nature: pledge.nature,
        description: pledge.description,
        instalments: instalments.map((i) => ({ n: i.n, expectedOn: i.expected_on, amountCents: Number(i.amount_cents) })),
        counterparts: pledge.counterparts,
        counterpartsValueCents: pledge.counterparts_value_cents === null ? null : Number(pledge.counterparts_value_cents),
        endsOn: pledge.ends_on,
      });
      return storeDocument(sql, documentsDir, { dossierId, kind: 'convention', version: pledge.n, file: `convention-${pledge.n}.pdf`, pdf });
    },

    /**
     * Records a sponsor payment and issues its receipt. In ONE transaction: the ledger row (once
     * per key), the pipeline row, the receipt number (only when this payment has no receipt yet:
     * the year's counter row is incremented under its row lock, so numbers have no gaps even
     * when the transaction fails after taking one) and the receipt row. Then the receipt PDF is
     * rendered and stored. The amount may not exceed what the dossier's pledges still expect.
     */
    async recordSponsorPayment(input: SponsorPaymentInput): Promise<RecordedPayment> {
      const p = parse(sponsorPaymentInputSchema, input);
      const issuedOn = p.issuedOn ?? parisDay(new Date());
      let receiptId: string;
      let created = false;
      try {
        receiptId = await sql.begin(async (tx) => {
          // One payment of a dossier at a time: what remains to be received is read under this lock.
          const [dossier] = await tx<{ id: string; sponsor: string }[]>`
            SELECT d.id, o.name AS sponsor FROM dossiers d JOIN organisations o ON o.id = d.organisation_id
            WHERE d.id = ${p.dossierId} FOR NO KEY UPDATE OF d`;
          if (!dossier) throw new MeceneError('money.error.unknownDossier', { dossier: p.dossierId }, 404);

          const [known] = await tx<{ id: number; dossier_id: string | null; amount_cents: number }[]>`
            SELECT id, dossier_id, amount_cents FROM money_received WHERE idempotency_key = ${p.key}`;
          if (known) {
            if (known.dossier_id !== p.dossierId || Number(known.amount_cents) !== p.amountCents) throw new MeceneError('money.error.keyReused', { key: p.key }, 409);
            const [done] = await tx<{ id: string }[]>`SELECT id FROM receipts WHERE money_received_id = ${known.id}`;
            if (done) return done.id; // a retry: no money added, no number used
          }

          const instalments = await tx<{ n: number; expected_on: string; amount_cents: number; nature: PledgeNature; description: string }[]>`
            SELECT i.n, i.expected_on::text, i.amount_cents, pl.nature, pl.description
            FROM pledge_instalments i JOIN pledges pl ON pl.id = i.pledge_id
            WHERE i.dossier_id = ${p.dossierId} ORDER BY i.n`;
          if (!instalments.length) throw new MeceneError('money.error.noPledge', { sponsor: dossier.sponsor }, 409);

          let moneyId: number;
          let trancheN: number | null;
          if (known) {
            // Money recorded under this key without a receipt (not by this activity): issue it now.
            moneyId = known.id;
            [{ tranche_n: trancheN }] = await tx<{ tranche_n: number | null }[]>`SELECT tranche_n FROM money_received WHERE id = ${known.id}`;
          } else {
            const payments = await tx<{ tranche_n: number | null; amount_cents: number }[]>`
              SELECT tranche_n, amount_cents FROM money_received WHERE dossier_id = ${p.dossierId}`;
            const schedule = instalments.map((i) => ({ n: i.n, expectedOn: i.expected_on, amountCents: Number(i.amount_cents) }));
            const statuses = allocatePayments(schedule, payments.map((m) => ({ instalment: m.tranche_n, amountCents: Number(m.amount_cents) })));
            const pledged = schedule.reduce((s, i) => s + i.amountCents, 0);
            const received = payments.reduce((s, m) => s + Number(m.amount_cents), 0);
            const remaining = Math.max(pledged - received, 0);
            if (p.amountCents > remaining) {
              throw new MeceneError('money.error.overPledged', { amount: formatEuros(p.amountCents), remaining: formatEuros(remaining), sponsor: dossier.sponsor }, 422);
            }
            if (p.instalment !== undefined && !schedule.some((i) => i.n === p.instalment)) {
              throw new MeceneError('money.error.unknownInstalment', { n: p.instalment, sponsor: dossier.sponsor, known: schedule.map((i) => i.n).join(', ') }, 404);
            }
            trancheN = p.instalment ?? nextInstalmentDue(statuses)?.n ?? null;
            const nature = instalments.find((i) => i.n === trancheN)?.nature ?? 'cash';
            if (!methodFitsNature(p.method, nature)) {
              throw new MeceneError('money.error.methodNature', { method: t(`money.method.${p.method}`), nature: t(`money.nature.${nature}`) }, 422);
            }
            if (p.receivedOn > issuedOn) throw new MeceneError('money.error.receivedAfterIssue', { receivedOn: p.receivedOn, issuedOn }, 422);
            const [money] = await tx<{ id: number }[]>`
              INSERT INTO money_received (kind, dossier_id, tranche_n, amount_cents, received_on, recorded_by, note, idempotency_key)
              VALUES ('sponsor', ${p.dossierId}, ${trancheN}, ${p.amountCents}, ${p.receivedOn}, ${p.by}, ${p.note || null}, ${p.key})
              RETURNING id`;
            moneyId = money.id;
          }
          // The treasurer's pipeline moves in the same transaction as the money.
          await tx`SELECT pipeline_refresh_dossier(${p.dossierId})`;

          const gift = instalments.find((i) => i.n === trancheN);
          const nature = gift?.nature ?? 'cash';
          const [pledgeDonor] = await tx<{ donor: Donor }[]>`
            SELECT donor FROM pledges WHERE dossier_id = ${p.dossierId} AND donor <> '{}'::jsonb ORDER BY n DESC LIMIT 1`;
          const d = pledgeDonor?.donor ?? {};
          const donor = { name: d.legalName ?? dossier.sponsor, ...(d.legalForm ? { legalForm: d.legalForm } : {}), ...(d.siren ? { siren: d.siren } : {}), ...(d.address ? { address: d.address } : {}) };

          // Last, and held until commit: the year's counter row. A rollback gives the number back.
          const year = Number(issuedOn.slice(0, 4));
          const [counter] = await tx<{ last_number: number }[]>`
            INSERT INTO receipt_counters AS c (year, last_number) VALUES (${year}, 1)
            ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
            RETURNING last_number`;
          const [row] = await tx<{ id: string }[]>`
            INSERT INTO receipts (id, dossier_id, money_received_id, year, number, amount_cents, nature, method, form, description,
                                  received_on, issued_on, donor)
            VALUES (${randomUUID()}, ${p.dossierId}, ${moneyId}, ${year}, ${counter.last_number}, ${p.amountCents}, ${nature}, ${p.method},
                    ${p.form ?? 'manual_gift'}, ${nature === 'cash' ? null : gift?.description || null}, ${p.receivedOn}, ${issuedOn},
                    ${tx.json(donor as never)})
            RETURNING id`;
          created = true;
          return row.id;
        });
      } catch (error) {
        nonRetryable(error);
      }
      const receipt = await loadReceipt(receiptId, p.dossierId);
      const doc = await ensureReceiptDocument(receipt);
      return {
        moneyReceivedId: Number(receipt.money_received_id),
        receiptId: receipt.id,
        receiptNumber: formatReceiptNumber(receipt.year, receipt.number),
        year: receipt.year,
        number: receipt.number,
        instalment: receipt.tranche_n,
        documentId: doc.documentId,
        sha256: doc.sha256,
        created,
      };
    },

    /**
     * Emails the receipt PDF to the sponsor's contact with thanks, once per key, through the
     * outbox. A contact who objected to our emails gets nothing: the receipt stays issued and
     * stored (status `opted_out`, `emailed: false`).
     */
    async sendReceipt(input: { dossierId: string; receiptId: string; key: string }): Promise<SentReceipt> {
      const { dossierId, receiptId, key } = parse(sendReceiptSchema, input);
      const receipt = await loadReceipt(receiptId, dossierId);
      const doc = await ensureReceiptDocument(receipt);
      const receiptNumber = formatReceiptNumber(receipt.year, receipt.number);
      const result = (row: OutboxRow): SentReceipt => ({
        status: row.status === 'skipped' ? 'opted_out' : 'sent',
        emailed: row.status === 'sent',
        receiptNumber,
        documentId: doc.documentId,
        to: row.to_address,
        messageId: row.message_id,
        subject: row.subject,
        sentAt: row.sent_at ? row.sent_at.toISOString() : null,
      });

      const existing = await outbox.find(key);
      if (existing && existing.status !== 'sending') return result(existing);
      const ctx = await loadDossierContext(sql, dossierId);
      // The objection is checked right before the send, as for every email to a sponsor.
      if (ctx.contact.optedOutAt) {
        return result(await outbox.skip({ dossierId, key, kind: 'receipt', to: ctx.contact.email }, 'opted out'));
      }
      const optOutUrl = `${publicUrl}/opt-out/${optOutToken(secret, ctx.contact.id)}`;
      const rendered = renderOrFail(() =>
        templates.render('receipt', ctx.lang, {
          association: { name: association.name, website: association.website ?? '', email: association.email },
          sponsor: { name: ctx.sponsor.name, slug: ctx.sponsor.slug },
          contact: { name: ctx.contact.name, email: ctx.contact.email },
          student: ctx.student,
          project: { title: association.project[ctx.lang].title, summary: association.project[ctx.lang].summary },
          receipt: {
            number: receiptNumber,
            amount: formatEuros(Number(receipt.amount_cents), ctx.lang),
            amountInWords: amountInFrenchWords(Number(receipt.amount_cents)),
            receivedOn: formatDay(`${receipt.received_on}T12:00:00Z`, ctx.lang),
            nature: t(`money.nature.${receipt.nature}`, {}, ctx.lang),
          },
          signatory: association.signatory,
          optOutUrl,
        }),
      );
      const [file] = await sql<{ path: string }[]>`SELECT path FROM documents WHERE id = ${doc.documentId}`;
      const sent = await outbox.send({
        dossierId,
        key,
        kind: 'receipt',
        to: ctx.contact.email,
        replyTo: ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers: { 'List-Unsubscribe': `<${optOutUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        extra: {
          attachments: [{ filename: `Recu-fiscal-${receiptNumber}.pdf`, content: await readFile(path.join(documentsDir, file.path)), contentType: 'application/pdf' }],
        },
      });
      return result(sent);
    },
  };
}
