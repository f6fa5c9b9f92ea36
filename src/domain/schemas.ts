import { z } from 'zod';
import { parseDuration } from './duration';
import { parseEurosToCents } from './money';
import { blackoutsPolicySchema, sendWindowPolicySchema } from './send-rules';

/** Input schemas shared by every boundary (CLI, HTTP, CSV). Workflows never import this file. */

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email());

export const roles = ['student', 'tutor', 'treasurer'] as const;
export type Role = (typeof roles)[number];

export const personInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  email,
  role: z.enum(roles),
});
export type PersonInput = z.infer<typeof personInput>;

export const organisationKinds = ['company', 'foundation', 'public_funder', 'association', 'other'] as const;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((s) => (s === '' ? undefined : s))
    .optional();

export const slug = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lettres minuscules, chiffres et tirets / lowercase letters, digits and dashes');

/** A sponsor and its first contact, as typed on the CLI or read from one CSV row. */
export const sponsorInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug: slug.optional(),
  kind: z.enum(organisationKinds).default('company'),
  category: optionalText(100),
  website: optionalText(300).pipe(z.url({ protocol: /^https?$/ }).optional()),
  notes: optionalText(2000),
  contactName: z.string().trim().min(1).max(200),
  contactEmail: email,
  contactRole: optionalText(200),
  source: z.string().trim().min(1, 'indiquez d’où vient l’adresse (CNIL) / say where the address comes from').max(300),
});
export type SponsorInput = z.infer<typeof sponsorInput>;

export const euros = z
  .union([z.string(), z.number()])
  .transform((value, ctx) => {
    const cents = parseEurosToCents(String(value));
    if (cents === null || cents <= 0) {
      ctx.addIssue({ code: 'custom', message: `montant en euros attendu, ex. 2500 ou 2 500,50 / amount in euros expected, e.g. 2500` });
      return z.NEVER;
    }
    return cents;
  });

export const durationText = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `durée attendue, ex. 7d, 36h, 20s / duration expected, e.g. 7d, 36h, 20s: « ${value} »` });
    return z.NEVER;
  }
  return ms;
});

/** The follow-up policy: when follow-ups go out (measured from the first email), then the grace period before the tutor is alerted. */
export const policySchema = z
  .strictObject({
    followUps: z.array(z.string()).max(10).default(['7d', '14d']),
    grace: z.string().default('7d'),
    sendTimeout: z.string().default('2m'),
    /** Overrides the configured send window (each key optional): `{ days: mon-fri, opens: '09:00', closes: '18:00' }`. */
    sendWindow: sendWindowPolicySchema.optional(),
    /** Replaces the configured blackout periods: `[{ from: 2027-01-11, to: 2027-01-22 }]`. */
    blackouts: blackoutsPolicySchema.optional(),
    /** French public holidays close the window too (false: only for demos and tests). */
    holidays: z.boolean().default(true),
    /** Who validates the proposal before anything leaves: a tutor, or nobody (re-sent known material only). */
    validation: z.enum(['tutor', 'none']).default('tutor'),
    /** No decision from the tutor: a reminder, then the other tutors, then everyone. `bd`: business days. */
    validationReminder: z.string().default('2bd'),
    validationEscalation: z.string().default('4bd'),
    validationFlag: z.string().default('6bd'),
    /** After "interested", a meeting's result, or changes requested: the next step is due this long after. */
    nextStep: z.string().default('7d'),
    meetingResult: z.string().default('2d'),
    meetingReminder: z.string().default('1d'),
    instalmentGrace: z.string().default('7d'),
    /** Between two rungs of any ladder. */
    escalateAfter: z.string().default('3d'),
    /** Lifetime of the tutor's signed links. */
    linkTtl: z.string().default('7d'),
    historyLimit: z.number().int().min(20).max(40_000).default(5_000),
  })
  .superRefine((p, ctx) => {
    for (const key of ['validationReminder', 'validationEscalation', 'validationFlag'] as const) {
      if (parseDelay(p[key]) === null) ctx.addIssue({ code: 'custom', path: [key], message: `délai attendu, ex. 2bd (jours ouvrés), 36h, 20s / delay expected, e.g. 2bd (business days), 36h, 20s: « ${p[key]} »` });
    }
    for (const key of ['nextStep', 'meetingResult', 'meetingReminder', 'instalmentGrace', 'escalateAfter', 'linkTtl'] as const) {
      const ms = parseDuration(p[key]);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', path: [key], message: `durée attendue, ex. 7d / duration expected, e.g. 7d: « ${p[key]} »` });
    }
    let previous = 0;
    p.followUps.forEach((text, i) => {
      const ms = parseDuration(text);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', path: ['followUps', i], message: `durée attendue, ex. 7d / duration expected, e.g. 7d: « ${text} »` });
      else if (ms <= previous) ctx.addIssue({ code: 'custom', path: ['followUps', i], message: 'doit être plus tard que la relance précédente / must come after the previous follow-up' });
      else previous = ms;
    });
    for (const key of ['grace', 'sendTimeout'] as const) {
      const ms = parseDuration(p[key]);
      if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', path: [key], message: `durée attendue, ex. 7d / duration expected, e.g. 7d: « ${p[key]} »` });
    }
  });
export type Policy = z.infer<typeof policySchema>;

/** "2bd" (business days, counted on the send window's open days) or a duration ("36h", "20s"). */
export function parseDelay(text: string): { businessDays: number } | { ms: number } | null {
  const bd = /^\s*(\d{1,3})\s*bd\s*$/i.exec(text);
  if (bd) return Number(bd[1]) > 0 ? { businessDays: Number(bd[1]) } : null;
  const ms = parseDuration(text);
  return ms !== null && ms > 0 ? { ms } : null;
}

export const langSchema = z.enum(['fr', 'en']);

export const outreachStartInput = z.strictObject({
  sponsor: z.string().trim().min(1),
  student: email,
  tutor: email,
  ask: euros,
  lang: langSchema.default('fr'),
  contact: email.optional(),
  /** Several contacts of the sponsor written to at once; a reply from any of them stops all. */
  contacts: z.array(email).min(1).max(10).optional(),
  policy: policySchema.default(() => policySchema.parse({})),
});
export type OutreachStartInput = z.input<typeof outreachStartInput>;

export const replyOutcomes = ['interested', 'meeting', 'declined'] as const;
export const replyInput = z.strictObject({
  outcome: z.enum(replyOutcomes),
  note: z.string().trim().max(2000).default(''),
  by: email.optional(),
});

export const closeInput = z.strictObject({
  reason: z.string().trim().min(1).max(500),
  by: email.optional(),
});

/** Turns zod issues into "field: problem" pairs a person can act on. */
export function describeIssues(error: z.ZodError): { field: string; problem: string }[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : '(racine)',
    problem: issue.message,
  }));
}
