import { z } from 'zod';
import { parseDuration } from './duration';
import { parseEurosToCents } from './money';

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
  })
  .superRefine((p, ctx) => {
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

export const langSchema = z.enum(['fr', 'en']);

export const outreachStartInput = z.strictObject({
  sponsor: z.string().trim().min(1),
  student: email,
  tutor: email,
  ask: euros,
  lang: langSchema.default('fr'),
  contact: email.optional(),
  policy: policySchema.default({ followUps: ['7d', '14d'], grace: '7d', sendTimeout: '2m' }),
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
