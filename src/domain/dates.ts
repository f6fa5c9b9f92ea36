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
