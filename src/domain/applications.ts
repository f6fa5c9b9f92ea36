import { z } from 'zod';
import { parisDay, parseParisDateTime } from './dates';
import { parseDuration } from './duration';
import { email, euros, langSchema, organisationKinds } from './schemas';

/** Input schemas of funding applications, shared by the CLI and the HTTP API. */

/** A date or date-time in Paris time ("2027-03-15 12:00"; a day alone is its end, 23:59); an ISO instant out. */
export const parisDateTime = z.string().transform((value, ctx) => {
  const date = parseParisDateTime(value);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `date attendue, ex. 2027-03-15 ou 2027-03-15 12:00 / date expected, e.g. 2027-03-15 or 2027-03-15 12:00: « ${value} »` });
    return z.NEVER;
  }
  return date.toISOString();
});

/** A calendar day, YYYY-MM-DD. */
export const day = z.string().trim().refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && parseParisDateTime(v) !== null, {
  message: 'jour attendu, ex. 2027-03-15 / day expected, e.g. 2027-03-15',
});

const DEFAULT_POLICY = {
  draft: '21d',
  tutorReview: '14d',
  treasurerSignoff: '7d',
  submitted: '2d',
  escalateAfter: '3d',
  decisionChaseAfter: '7d',
  reportNotice: '14d',
  trancheGrace: '7d',
  sendTimeout: '2m',
};

/**
 * When milestones fall (before the deadline) and how the ladder climbs. The milestones must
 * come in order: the draft first, the submission last, all before the deadline.
 */
export const applicationPolicySchema = z
  .strictObject({
    draft: z.string().default(DEFAULT_POLICY.draft),
    tutorReview: z.string().default(DEFAULT_POLICY.tutorReview),
    treasurerSignoff: z.string().default(DEFAULT_POLICY.treasurerSignoff),
    submitted: z.string().default(DEFAULT_POLICY.submitted),
    escalateAfter: z.string().default(DEFAULT_POLICY.escalateAfter),
    decisionChaseAfter: z.string().default(DEFAULT_POLICY.decisionChaseAfter),
    reportNotice: z.string().default(DEFAULT_POLICY.reportNotice),
    trancheGrace: z.string().default(DEFAULT_POLICY.trancheGrace),
    sendTimeout: z.string().default(DEFAULT_POLICY.sendTimeout),
    historyLimit: z.number().int().min(20).max(40_000).default(5_000),
  })
  .superRefine((p, ctx) => {
    const keys = ['draft', 'tutorReview', 'treasurerSignoff', 'submitted', 'escalateAfter', 'decisionChaseAfter', 'reportNotice', 'trancheGrace', 'sendTimeout'] as const;
    for (const key of keys) {
      const ms = parseDuration(p[key]);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', path: [key], message: `durée attendue, ex. 7d / duration expected, e.g. 7d: « ${p[key]} »` });
    }
    const order = ['draft', 'tutorReview', 'treasurerSignoff', 'submitted'] as const;
    for (let i = 1; i < order.length; i++) {
      const before = parseDuration(p[order[i - 1]]);
      const after = parseDuration(p[order[i]]);
      if (before !== null && after !== null && after >= before) {
        ctx.addIssue({ code: 'custom', path: [order[i]], message: `doit tomber après « ${order[i - 1]} » (plus près de la date limite) / must fall after ${order[i - 1]} (closer to the deadline)` });
      }
    }
  });
export type ApplicationPolicy = z.infer<typeof applicationPolicySchema>;

export const funderInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  kind: z.enum(organisationKinds).default('public_funder'),
  website: z.url({ protocol: /^https?$/ }).optional(),
  notes: z.string().trim().max(2000).optional(),
});

export const applicationStartInput = z
  .strictObject({
    funder: z.string().trim().min(1),
    programme: z.string().trim().min(1).max(300),
    ask: euros,
    deadline: parisDateTime,
    /** Default: 90 days after the deadline. */
    decisionExpected: parisDateTime.optional(),
    student: email,
    tutor: email,
    documents: z.array(z.string().trim().min(1).max(200)).max(40).default([]),
    lang: langSchema.default('fr'),
    policy: applicationPolicySchema.default(applicationPolicySchema.parse({})),
  })
  .superRefine((a, ctx) => {
    if (Date.parse(a.deadline) <= Date.now()) ctx.addIssue({ code: 'custom', path: ['deadline'], message: 'la date limite est déjà passée / the deadline has passed' });
    if (a.decisionExpected && Date.parse(a.decisionExpected) < Date.parse(a.deadline)) {
      ctx.addIssue({ code: 'custom', path: ['decisionExpected'], message: 'la décision ne peut être attendue avant la date limite / the decision cannot be expected before the deadline' });
    }
    const seen = new Set<string>();
    a.documents.forEach((d, i) => {
      if (seen.has(d.toLowerCase())) ctx.addIssue({ code: 'custom', path: ['documents', i], message: `pièce en double / duplicate document: « ${d} »` });
      seen.add(d.toLowerCase());
    });
  });
export type ApplicationStartInput = z.input<typeof applicationStartInput>;

export const actorInput = z.strictObject({ by: email });

export const reviewInput = z.union([
  z.strictObject({ decision: z.literal('approve'), by: email }),
  z.strictObject({ decision: z.literal('changes'), comment: z.string().trim().min(1).max(4000), by: email }),
]);

export const moveDeadlineInput = z.strictObject({
  deadline: parisDateTime.optional(),
  decisionExpected: parisDateTime.optional(),
  by: email,
});

export const documentReadyInput = z.strictObject({ document: z.string().trim().min(1), by: email });

export const decisionInput = z.union([
  z.strictObject({ outcome: z.literal('refused'), reason: z.string().trim().min(1).max(1000), by: email }),
  z.strictObject({
    outcome: z.literal('awarded'),
    amount: euros,
    tranches: z.array(z.strictObject({ expected: parisDateTime, amount: euros })).min(1).max(24),
    reports: z.array(z.strictObject({ kind: z.enum(['interim', 'final']), due: parisDateTime })).max(12).default([]),
    by: email,
  }),
]);

export const moneyInput = z.strictObject({
  /** Default: the earliest tranche not fully received. */
  tranche: z.coerce.number().int().positive().optional(),
  amount: euros,
  /** Default: today (Paris). */
  on: day.optional(),
  note: z.string().trim().max(500).optional(),
  as: email,
}).superRefine((m, ctx) => {
  if (m.on && m.on > parisDay(new Date())) ctx.addIssue({ code: 'custom', path: ['on'], message: 'date future / date in the future' });
});

export const reportSubmittedInput = z.strictObject({ report: z.coerce.number().int().positive(), by: email });

export const withdrawInput = z.strictObject({ reason: z.string().trim().min(1).max(1000), by: email });

/** "tranche" specs typed on the CLI: "2027-03-01:5000" or "2027-03-01 12:00=5 000,50". */
export function parseTrancheSpec(spec: string): { expected: string; amount: string } {
  const m = /^(.+?)[:=]\s*([\d\s\u00a0.,]+)\s*€?$/.exec(spec.trim());
  if (!m) return { expected: spec, amount: '' };
  return { expected: m[1].trim(), amount: m[2].trim() };
}

/** "report" specs typed on the CLI: "interim:2027-09-30", "final:2028-01-31". */
export function parseReportSpec(spec: string): { kind: string; due: string } {
  const i = spec.indexOf(':');
  return i < 0 ? { kind: spec, due: '' } : { kind: spec.slice(0, i).trim(), due: spec.slice(i + 1).trim() };
}
