import { z } from 'zod';
import { MeceneError } from './errors';

/**
 * How sending rules are written by people (environment, policy files) and read: days like
 * `mon-fri` or `lun-ven`, times `09:00`, blackouts `2027-01-11..2027-01-22`. The rules
 * themselves are applied by src/workflows/shared/send-window.ts.
 */

/** The association's sending settings (configuration; a policy file may override the window). */
export interface SendSettings {
  /** 1 = Monday … 7 = Sunday. */
  days: number[];
  /** 'HH:MM', Paris. */
  opens: string;
  closes: string;
  blackouts: Blackout[];
  /** Emails per Paris day from the association, all dossiers together. */
  dailyCap: number;
  /** Emails per Paris day to one recipient domain. */
  domainCap: number;
}

/** A period without sends, both days included ('YYYY-MM-DD'). */
export interface Blackout {
  from: string;
  to: string;
}

/** Day names as people write them, English or French, long or short. */
const WEEKDAYS: Record<string, number> = {
  mon: 1, monday: 1, lun: 1, lundi: 1,
  tue: 2, tuesday: 2, mar: 2, mardi: 2,
  wed: 3, wednesday: 3, mer: 3, mercredi: 3,
  thu: 4, thursday: 4, jeu: 4, jeudi: 4,
  fri: 5, friday: 5, ven: 5, vendredi: 5,
  sat: 6, saturday: 6, sam: 6, samedi: 6,
  sun: 7, sunday: 7, dim: 7, dimanche: 7,
};

/**
 * `mon-fri`, `mon,wed,fri`, `lun-ven`, `mon-thu,sat`, or a list of such words; a range may wrap
 * (`sat-mon`). Null when a word is not a day or no day is left.
 */
export function parseWeekdays(text: string | string[]): number[] | null {
  const parts = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split(',')).map((p) => p.trim().toLowerCase());
  const days = new Set<number>();
  for (const part of parts) {
    if (part === '') return null;
    const [a, b, extra] = part.split('-').map((s) => s.trim());
    if (extra !== undefined) return null;
    const from = WEEKDAYS[a];
    const to = b === undefined ? from : WEEKDAYS[b];
    if (!from || !to) return null;
    for (let d = from; ; d = (d % 7) + 1) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days.size ? [...days].sort((x, y) => x - y) : null;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
/** 'HH:MM' (and '24:00' for a closing time). */
export const isSendTime = (text: string, closing = false) => TIME.test(text) || (closing && text === '24:00');

/** True when a window closes after it opens (times 'HH:MM', '24:00' closes at midnight). */
export const windowInOrder = (opens: string, closes: string) => closes === '24:00' || closes > opens;

/** A real calendar day written YYYY-MM-DD. */
export function isRealDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** `2027-01-11..2027-01-22,2027-05-10..2027-05-21` (a single day stands for itself); null when wrong. */
export function parseBlackouts(text: string): Blackout[] | null {
  if (text.trim() === '') return [];
  const periods: Blackout[] = [];
  for (const part of text.split(',')) {
    const [from, to = from, extra] = part.trim().split('..').map((s) => s.trim());
    if (extra !== undefined || !isRealDay(from) || !isRealDay(to) || to < from) return null;
    periods.push({ from, to });
  }
  return periods;
}

/** What is wrong, in French and English: config.ts picks the language, policy files show both. */
export const SEND_RULE_MESSAGES = {
  days: { fr: 'jours attendus, ex. mon-fri, lun-ven ou mon,wed,fri', en: 'days expected, e.g. mon-fri, lun-ven or mon,wed,fri' },
  time: { fr: 'heure attendue HH:MM, ex. 09:00', en: 'time expected as HH:MM, e.g. 09:00' },
  order: { fr: 'la fenêtre doit fermer après son ouverture', en: 'the window must close after it opens' },
  blackouts: {
    fr: 'périodes attendues AAAA-MM-JJ..AAAA-MM-JJ séparées par des virgules, début avant fin, ex. 2027-01-11..2027-01-22',
    en: 'periods expected as YYYY-MM-DD..YYYY-MM-DD separated by commas, start before end, e.g. 2027-01-11..2027-01-22',
  },
  day: { fr: 'date attendue AAAA-MM-JJ, ex. 2027-01-11', en: 'date expected as YYYY-MM-DD, e.g. 2027-01-11' },
  period: { fr: 'la période se termine avant de commencer', en: 'the period ends before it starts' },
} as const;

const both = (m: { fr: string; en: string }) => `${m.fr} / ${m.en}`;

/** YAML may read an unquoted date as a Date: take it back as its day. */
const dayText = z.preprocess(
  (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
  z.string().trim().refine(isRealDay, both(SEND_RULE_MESSAGES.day)),
);

const timeText = (closing: boolean) => z.string().trim().refine((s) => isSendTime(s, closing), both(SEND_RULE_MESSAGES.time));

/** A policy file's `sendWindow`: each key optional, the configuration fills the others. */
export const sendWindowPolicySchema = z
  .strictObject({
    // Numbers too: a policy read from a file is validated again when the outreach starts.
    days: z.union([z.string(), z.array(z.string()), z.array(z.number().int().min(1).max(7)).min(1)]).transform((value, ctx) => {
      if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return [...new Set(value as number[])].sort((a, b) => a - b);
      const days = parseWeekdays(value as string | string[]);
      if (!days) {
        ctx.addIssue({ code: 'custom', message: `${both(SEND_RULE_MESSAGES.days)} : « ${String(value)} »` });
        return z.NEVER;
      }
      return days;
    }).optional(),
    opens: timeText(false).optional(),
    closes: timeText(true).optional(),
  })
  .refine((w) => !w.opens || !w.closes || windowInOrder(w.opens, w.closes), { message: both(SEND_RULE_MESSAGES.order), path: ['closes'] });
export type SendWindowPolicy = z.output<typeof sendWindowPolicySchema>;

/** A policy file's `blackouts`: periods without sends, replacing the configured ones. */
export const blackoutsPolicySchema = z.array(
  z.strictObject({ from: dayText, to: dayText }).refine((b) => b.to >= b.from, { message: both(SEND_RULE_MESSAGES.period), path: ['to'] }),
).max(100);

/**
 * The settings in force for one outreach: the configuration, with the policy's window and
 * blackouts when it has them. Fails when the mix closes before it opens (a policy opening at
 * 19:00 with the configured 18:00 closing).
 */
export function settingsWithPolicy(settings: SendSettings, policy: { sendWindow?: SendWindowPolicy; blackouts?: Blackout[] } = {}): SendSettings {
  const merged: SendSettings = {
    ...settings,
    days: policy.sendWindow?.days ?? settings.days,
    opens: policy.sendWindow?.opens ?? settings.opens,
    closes: policy.sendWindow?.closes ?? settings.closes,
    blackouts: policy.blackouts ?? settings.blackouts,
  };
  if (!windowInOrder(merged.opens, merged.closes)) throw new MeceneError('error.sending.window', { opens: merged.opens, closes: merged.closes }, 400);
  return merged;
}
