import { z } from 'zod';
import { day, parisDateTime } from './applications';
import { parisDay } from './dates';
import { email, euros } from './schemas';

/** Input schemas of the sponsor relationship's steps, shared by the CLI and the HTTP API. */

export const declineReasons = ['budget', 'timing', 'not_our_focus', 'other'] as const;

export const relationshipReplyInput = z
  .strictObject({
    outcome: z.enum(['interested', 'meeting', 'declined', 'callback', 'out_of_office']),
    note: z.string().trim().max(2000).default(''),
    by: email.optional(),
    /** Why they declined (default `other`). */
    reason: z.enum(declineReasons).optional(),
    closingEmail: z.boolean().default(false),
    until: parisDateTime.optional(),
    /** Which of the sponsor's contacts answered. */
    from: email.optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.outcome === 'callback' || r.outcome === 'out_of_office') && !r.until) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'date attendue : jusqu’à quand ? / a date is required: until when?' });
    }
    if (r.until && Date.parse(r.until) <= Date.now()) ctx.addIssue({ code: 'custom', path: ['until'], message: 'date passée / date in the past' });
  });

export const resubmitInput = z.strictObject({ ask: euros.optional(), note: z.string().trim().max(2000).optional(), by: email });

export const meetingInput = z
  .strictObject({
    at: parisDateTime,
    duration: z.coerce.number().int().min(5).max(600).default(60),
    place: z.string().trim().min(1).max(300).optional(),
    video: z.url({ protocol: /^https?$/ }).optional(),
    by: email,
  })
  .superRefine((m, ctx) => {
    if (!m.place && !m.video) ctx.addIssue({ code: 'custom', path: ['place'], message: 'un lieu ou un lien de visioconférence / a place or a video link' });
    if (Date.parse(m.at) <= Date.now()) ctx.addIssue({ code: 'custom', path: ['at'], message: 'date passée / date in the past' });
  });

export const meetingResultInput = z.strictObject({
  meeting: z.coerce.number().int().positive(),
  summary: z.string().trim().min(1).max(4000),
  nextStep: z.string().trim().max(500).optional(),
  due: parisDateTime.optional(),
  by: email,
});

export const pledgeInput = z
  .strictObject({
    amount: euros,
    nature: z.enum(['cash', 'in_kind', 'skills']).default('cash'),
    description: z.string().trim().max(2000).default(''),
    counterparts: z.string().trim().max(2000).default(''),
    instalments: z.array(z.strictObject({ expected: parisDateTime, amount: euros })).min(1).max(24),
    by: email,
  })
  .superRefine((p, ctx) => {
    if (p.nature !== 'cash' && !p.description) ctx.addIssue({ code: 'custom', path: ['description'], message: 'décrivez le don en nature ou de compétences et sa valeur / describe the in-kind or skills gift and its value' });
    const sum = p.instalments.reduce((s, i) => s + i.amount, 0);
    if (sum !== p.amount) ctx.addIssue({ code: 'custom', path: ['instalments'], message: `les versements totalisent ${sum / 100} € et non ${p.amount / 100} € / instalments add up to ${sum / 100}, not ${p.amount / 100}` });
  });

export const paymentInput = z
  .strictObject({
    amount: euros,
    on: day.optional(),
    instalment: z.coerce.number().int().positive().optional(),
    method: z.enum(['transfer', 'cheque', 'cash', 'in_kind']).default('transfer'),
    as: email,
  })
  .superRefine((p, ctx) => {
    if (p.on && p.on > parisDay(new Date())) ctx.addIssue({ code: 'custom', path: ['on'], message: 'date future / date in the future' });
  });

export const pauseInput = z.strictObject({ reason: z.string().trim().min(1).max(500), by: email });
export const resumeInput = z.strictObject({ by: email });
export const handOverInput = z.strictObject({ to: email, by: email });
export const endInput = z.strictObject({ outcome: z.enum(['lost', 'withdrawn']), reason: z.string().trim().min(1).max(500), by: email });
