import { parisInstant } from '../workflows/shared/send-window';
import type { Lang } from './money';

/** Every date a person reads is in Paris time, whatever the server's zone. */
export const TIME_ZONE = 'Europe/Paris';

const formats = new Map<string, Intl.DateTimeFormat>();
function format(lang: Lang, withTime: boolean): Intl.DateTimeFormat {
  const key = `${lang}:${withTime}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
      timeZone: TIME_ZONE,
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', second: undefined } : {}),
    });
    formats.set(key, f);
  }
  return f;
}

/** "2 décembre 2026" / "2 December 2026". */
export function formatDay(date: Date | string, lang: Lang): string {
  return format(lang, false).format(typeof date === 'string' ? new Date(date) : date);
}

/** "2 décembre 2026 à 10:00" / "2 December 2026 at 10:00". */
export function formatDateTime(date: Date | string, lang: Lang): string {
  return format(lang, true).format(typeof date === 'string' ? new Date(date) : date);
}

/** The calendar day in Paris, as YYYY-MM-DD. */
export function parisDay(date: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
  return parts;
}

/** The instant a Paris wall-clock time denotes (the EU rule, src/workflows/shared/send-window.ts). */
export function parisWallTime(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  const two = (n: number) => String(n).padStart(2, '0');
  return new Date(parisInstant(`${year}-${two(month)}-${two(day)}`, hour * 60 + minute));
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/;

/**
 * A date or date-time as people type it, read in Paris time: "2027-03-15 12:00" is noon in
 * Paris; a day alone, "2027-03-15", means the end of that day (23:59), which is what a
 * deadline or a due date on a day means. Full ISO instants ("…Z", "+01:00") are taken as they are.
 * Null when the text is not a real date.
 */
export function parseParisDateTime(text: string): Date | null {
  const s = text.trim();
  let m = DAY.exec(s);
  if (m) return validDay(m) ? parisWallTime(Number(m[1]), Number(m[2]), Number(m[3]), 23, 59) : null;
  m = LOCAL.exec(s);
  if (m) return validDay(m) && Number(m[4]) < 24 && Number(m[5]) < 60 ? parisWallTime(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) : null;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

function validDay(m: RegExpExecArray): boolean {
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}
