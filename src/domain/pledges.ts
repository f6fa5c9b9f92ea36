import { z } from 'zod';
import { t } from '../i18n';
import { formatEuros } from './money';

/**
 * Pledges (promesses de don), their instalments, sponsor payments and the numbering of their
 * tax receipts: types, validation shared by the service and the activities, and the rule that
 * says which instalments a set of payments has paid.
 */

export const PLEDGE_NATURES = ['cash', 'in_kind', 'skills'] as const;
export type PledgeNature = (typeof PLEDGE_NATURES)[number];
export const PAYMENT_METHODS = ['transfer', 'cheque', 'cash', 'in_kind'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
/** "Forme du don" on a Cerfa n° 16216 receipt. */
export const GIFT_FORMS = ['authentic_deed', 'private_deed', 'manual_gift', 'other'] as const;
export type GiftForm = (typeof GIFT_FORMS)[number];

/** Counterparts must stay in "disproportion marquée" with the gift, commonly read as at most 25 % of it. */
export const COUNTERPARTS_MAX_PERCENT = 25;

/** The greatest counterparts value a gift allows (cents, rounded down). */
export function maxCounterpartsCents(giftCents: number): number {
  return Math.floor((giftCents * COUNTERPARTS_MAX_PERCENT) / 100);
}

/** A method of payment fits the gift's nature: money for cash, a delivery for goods or skills. */
export function methodFitsNature(method: PaymentMethod, nature: PledgeNature): boolean {
  return nature === 'cash' ? method !== 'in_kind' : method === 'in_kind';
}

/** "2027-0001": the receipt's order number, as printed. */
export function formatReceiptNumber(year: number, number: number): string {
  return `${year}-${String(number).padStart(4, '0')}`;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A real calendar day written YYYY-MM-DD. */
export function isIsoDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

const isoDay = z.string().refine(isIsoDay, { error: () => t('money.error.invalidDay') });
const cents = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const text = z.string().trim().min(1);

/** The company as the agreement and receipts name it; every field optional (the organisation's name is the default). */
export const donorSchema = z.strictObject({
  legalName: text.optional(),
  legalForm: text.optional(),
  /** 9 digits; spaces allowed when typed. */
  siren: z
    .string()
    .transform((s) => s.replace(/\s+/g, ''))
    .pipe(z.string().regex(/^\d{9}$/))
    .optional(),
  address: z.array(text).min(1).optional(),
  representative: z.strictObject({ name: text, title: text }).optional(),
});
export type Donor = z.infer<typeof donorSchema>;

export const pledgeInputSchema = z
  .strictObject({
    dossierId: z.uuid(),
    /** Business idempotency key computed by the workflow: one key, one pledge. */
    key: text,
    amountCents: cents,
    nature: z.enum(PLEDGE_NATURES),
    /** What is given: required for goods and skills (the receipt must describe them). */
    description: z.string().trim(),
    counterparts: z.string().trim().optional(),
    /** The counterparts' value when known: refused above 25 % of the gift. */
    counterpartsValueCents: z.number().int().nonnegative().optional(),
    instalments: z.array(z.strictObject({ expectedOn: isoDay, amountCents: cents })).min(1).max(120),
    donor: donorSchema.optional(),
    /** End of the agreement; default the last instalment's day. */
    endsOn: isoDay.optional(),
    by: text,
  })
  .superRefine((p, ctx) => {
    const sum = p.instalments.reduce((s, i) => s + i.amountCents, 0);
    if (sum !== p.amountCents) {
      ctx.addIssue({ code: 'custom', path: ['instalments'], message: t('money.error.instalmentsSum', { instalments: formatEuros(sum), pledged: formatEuros(p.amountCents) }) });
    }
    p.instalments.forEach((i, index) => {
      if (index > 0 && isIsoDay(i.expectedOn) && i.expectedOn < p.instalments[index - 1].expectedOn) {
        ctx.addIssue({ code: 'custom', path: ['instalments', index, 'expectedOn'], message: t('money.error.instalmentsOrder', { n: index + 1, day: i.expectedOn }) });
      }
    });
    if (p.nature !== 'cash' && !p.description) {
      ctx.addIssue({ code: 'custom', path: ['description'], message: t('money.error.descriptionRequired') });
    }
    if (p.counterpartsValueCents !== undefined && p.counterpartsValueCents > maxCounterpartsCents(p.amountCents)) {
      ctx.addIssue({
        code: 'custom',
        path: ['counterpartsValueCents'],
        message: t('money.error.counterpartsTooHigh', { value: formatEuros(p.counterpartsValueCents), amount: formatEuros(p.amountCents), max: formatEuros(maxCounterpartsCents(p.amountCents)) }),
      });
    }
    const last = p.instalments.at(-1)?.expectedOn;
    if (p.endsOn && last && p.endsOn < last) {
      ctx.addIssue({ code: 'custom', path: ['endsOn'], message: t('money.error.endsBeforeInstalments', { endsOn: p.endsOn, last }) });
    }
  });
export type PledgeInput = z.input<typeof pledgeInputSchema>;

export const sponsorPaymentInputSchema = z.strictObject({
  dossierId: z.uuid(),
  /** Business idempotency key computed by the workflow: one key, one ledger row, one receipt. */
  key: text,
  amountCents: cents,
  receivedOn: isoDay,
  /** The instalment it pays; default the earliest one not fully paid. */
  instalment: z.number().int().positive().optional(),
  method: z.enum(PAYMENT_METHODS),
  /** "Forme du don" on the receipt; default a declaration of a manual gift. */
  form: z.enum(GIFT_FORMS).optional(),
  /** Day of the receipt (Paris); default today. Its year numbers the receipt. */
  issuedOn: isoDay.optional(),
  note: z.string().trim().optional(),
  by: text,
});
export type SponsorPaymentInput = z.input<typeof sponsorPaymentInputSchema>;

export interface Instalment {
  n: number;
  expectedOn: string;
  amountCents: number;
}

export interface InstalmentStatus extends Instalment {
  paidCents: number;
}

/**
 * Which instalments the payments have paid. Money tagged with an instalment pays it, up to its
 * amount; the rest (untagged money, or more than an instalment's amount) pays the earliest
 * instalments still open, in date order: a lump sum settles every instalment it covers.
 * The same rule as pipeline_compute_dossier (migrations/0008_pledges_receipts.sql).
 */
export function allocatePayments(instalments: Instalment[], payments: { instalment: number | null; amountCents: number }[]): InstalmentStatus[] {
  const tagged = new Map<number, number>();
  let total = 0;
  for (const p of payments) {
    total += p.amountCents;
    if (p.instalment !== null) tagged.set(p.instalment, (tagged.get(p.instalment) ?? 0) + p.amountCents);
  }
  const ordered = [...instalments].sort((a, b) => (a.expectedOn === b.expectedOn ? a.n - b.n : a.expectedOn < b.expectedOn ? -1 : 1));
  const direct = new Map(ordered.map((i) => [i.n, Math.min(i.amountCents, tagged.get(i.n) ?? 0)]));
  let spill = total - [...direct.values()].reduce((s, x) => s + x, 0);
  const paid = new Map<number, number>();
  for (const i of ordered) {
    const take = Math.min(i.amountCents - direct.get(i.n)!, spill);
    spill -= take;
    paid.set(i.n, direct.get(i.n)! + take);
  }
  return instalments.map((i) => ({ ...i, paidCents: paid.get(i.n)! }));
}

/** The earliest instalment not fully paid, if any. */
export function nextInstalmentDue(statuses: InstalmentStatus[]): InstalmentStatus | undefined {
  return [...statuses]
    .filter((i) => i.paidCents < i.amountCents)
    .sort((a, b) => (a.expectedOn === b.expectedOn ? a.n - b.n : a.expectedOn < b.expectedOn ? -1 : 1))[0];
}
