/**
 * Money is integer cents everywhere: floats never touch an amount.
 * Users type euros ("2500", "2 500,50", "2500.5"); we parse the text, not a float.
 */
export type Lang = 'fr' | 'en';

const EUROS = /^(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d{1,2}))?$/;

/** Parses a euro amount typed by a person into integer cents, or returns null. */
export function parseEurosToCents(text: string): number | null {
  const cleaned = text.trim().replace(/\s*€$/, '').trim();
  const m = EUROS.exec(cleaned);
  if (!m) return null;
  const whole = Number(m[1].replace(/[ \u00a0\u202f]/g, ''));
  const fraction = m[2] ? Number(m[2].padEnd(2, '0')) : 0;
  const cents = whole * 100 + fraction;
  return Number.isSafeInteger(cents) ? cents : null;
}

/** Formats cents the way a French (or English) reader expects: "2 500,00 €" / "€2,500.00". */
export function formatEuros(cents: number, lang: Lang = 'fr'): string {
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const fraction = String(abs % 100).padStart(2, '0');
  const sep = lang === 'fr' ? '\u202f' : ',';
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  const sign = negative ? '-' : '';
  return lang === 'fr' ? `${sign}${grouped},${fraction}\u00a0€` : `${sign}€${grouped}.${fraction}`;
}
