/**
 * Amounts in French words, as a tax receipt writes them ("somme en toutes lettres").
 *
 * Spelling: the traditional one (before the 1990 rectifications), the one cheques and Cerfa
 * examples use, applied consistently:
 *   - hyphens only between tens and units below one hundred ("trente-quatre",
 *     "quatre-vingt-un", "soixante-dix-sept"), never around "cent", "mille", "million";
 *   - "et" without hyphens for 21, 31, 41, 51, 61 and 71 ("vingt et un", "soixante et onze"),
 *     none in 81 and 91 ("quatre-vingt-un", "quatre-vingt-onze");
 *   - "vingt" and "cent" take an "s" when multiplied and ending the number ("quatre-vingts",
 *     "deux cents"), also before a noun ("deux cents millions", "quatre-vingts euros"), but not
 *     before "mille", which is an adjective ("quatre-vingt mille", "deux cent mille");
 *   - "mille" is invariable and never preceded by "un"; "million" and "milliard" are nouns
 *     ("un million", "deux millions") and take "d'euros" when nothing follows them
 *     ("un million d'euros", but "un million deux cent mille euros").
 * Zero euros with cents gives the cents alone ("cinq centimes"); nothing at all is "zéro euro".
 */

const UNITS = [
  'zéro', 'un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf',
  'dix', 'onze', 'douze', 'treize', 'quatorze', 'quinze', 'seize',
] as const;
const TENS: Record<number, string> = { 2: 'vingt', 3: 'trente', 4: 'quarante', 5: 'cinquante', 6: 'soixante' };

/** 0–99. `plural`: the number ends here (or before a noun), so "quatre-vingts" takes its "s". */
function belowHundred(n: number, plural: boolean): string {
  if (n <= 16) return UNITS[n];
  if (n < 20) return `dix-${UNITS[n - 10]}`;
  const tens = Math.floor(n / 10);
  const units = n % 10;
  if (tens <= 6) {
    if (units === 0) return TENS[tens];
    if (units === 1) return `${TENS[tens]} et un`;
    return `${TENS[tens]}-${UNITS[units]}`;
  }
  if (tens === 7) return units === 1 ? 'soixante et onze' : `soixante-${belowHundred(n - 60, plural)}`;
  if (n === 80) return plural ? 'quatre-vingts' : 'quatre-vingt';
  return `quatre-vingt-${belowHundred(n - 80, plural)}`;
}

/** 0–999 (0 gives "zéro": callers skip empty groups). */
function belowThousand(n: number, plural: boolean): string {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds === 0) return belowHundred(rest, plural);
  const head = hundreds === 1 ? 'cent' : `${UNITS[hundreds]} cent`;
  if (rest === 0) return hundreds > 1 && plural ? `${head}s` : head;
  return `${head} ${belowHundred(rest, plural)}`;
}

/**
 * A non-negative integer in French words. `plural` (default true): nothing but a noun follows,
 * so "vingt" and "cent" take their "s" when they end the number.
 */
export function integerInFrenchWords(n: number, plural = true): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`integerInFrenchWords: a non-negative safe integer is expected, got ${String(n)}`);
  if (n === 0) return UNITS[0];
  const words: string[] = [];
  const billions = Math.floor(n / 1e9);
  const millions = Math.floor(n / 1e6) % 1000;
  const thousands = Math.floor(n / 1000) % 1000;
  const units = n % 1000;
  // "milliard" and "million" are nouns: the number before them ends there (plural).
  if (billions) words.push(`${integerInFrenchWords(billions, true)} ${billions > 1 ? 'milliards' : 'milliard'}`);
  if (millions) words.push(`${belowThousand(millions, true)} ${millions > 1 ? 'millions' : 'million'}`);
  // "mille" is an adjective: "quatre-vingt mille", "deux cent mille"; never "un mille".
  if (thousands) words.push(thousands === 1 ? 'mille' : `${belowThousand(thousands, false)} mille`);
  if (units) words.push(belowThousand(units, plural));
  return words.join(' ');
}

/**
 * An amount in integer cents in French words: "mille deux cent trente-quatre euros et
 * cinquante-six centimes", "un million d'euros", "un euro", "cinq centimes", "zéro euro".
 */
export function amountInFrenchWords(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new RangeError(`amountInFrenchWords: a non-negative number of cents is expected, got ${String(cents)}`);
  const euros = Math.floor(cents / 100);
  const centimes = cents % 100;
  const centimesPart = centimes ? `${integerInFrenchWords(centimes)} ${centimes > 1 ? 'centimes' : 'centime'}` : '';
  if (euros === 0) return centimesPart || 'zéro euro';
  const unit = euros % 1_000_000 === 0 ? "d'euros" : euros > 1 ? 'euros' : 'euro';
  const eurosPart = `${integerInFrenchWords(euros)} ${unit}`;
  return centimesPart ? `${eurosPart} et ${centimesPart}` : eurosPart;
}
