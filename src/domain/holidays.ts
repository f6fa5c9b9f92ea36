import { createRequire } from 'node:module';
import type HolidaysEngine from 'date-holidays';
import type { SendRules } from '../workflows/shared/send-window';
import type { Lang } from './money';
import { settingsWithPolicy, type Blackout, type SendSettings, type SendWindowPolicy } from './send-rules';

/**
 * French public holidays (metropolitan France) from `date-holidays`, and the sending rules they
 * make with the configuration. Node side: the workflow receives the holidays as plain days in
 * its input, never this module.
 */

// Loaded on first use: the package holds every country's rules, and most CLI commands need none.
const require = createRequire(import.meta.url);
const engines = new Map<Lang, HolidaysEngine>();
function engine(lang: Lang): HolidaysEngine {
  let e = engines.get(lang);
  if (!e) {
    const Holidays = require('date-holidays') as typeof HolidaysEngine;
    e = new Holidays('FR', { languages: [lang], types: ['public'] });
    engines.set(lang, e);
  }
  return e;
}

/** Public holidays of one year: day 'YYYY-MM-DD' → name. */
function holidaysOf(year: number, lang: Lang): Map<string, string> {
  return new Map(
    engine(lang)
      .getHolidays(year, lang)
      .filter((h) => h.type === 'public')
      .map((h) => [h.date.slice(0, 10), h.name] as const),
  );
}

/** The public holidays of metropolitan France from `fromYear` to `toYear` included, sorted. */
export function frenchPublicHolidays(fromYear: number, toYear: number): string[] {
  const days: string[] = [];
  for (let year = fromYear; year <= toYear; year++) days.push(...holidaysOf(year, 'fr').keys());
  return days.sort();
}

/** The name of a public holiday ("Fête Nationale de la France" / "Bastille Day"), or undefined. */
export function frenchHolidayName(day: string, lang: Lang): string | undefined {
  const year = Number(day.slice(0, 4));
  return Number.isInteger(year) ? holidaysOf(year, lang).get(day) : undefined;
}

/** How many years of holidays a process carries: long enough for a season of outreach. */
export const HOLIDAY_YEARS = 3;

/** The Paris year of an instant (holidays are Paris days). */
const parisYear = (at: Date) => Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric' }).format(at));

/**
 * The association's sending rules from its configuration (`config.sending`): the window, the
 * blackouts and the public holidays of the `HOLIDAY_YEARS` years starting with the year of `from`.
 */
export function defaultSendRules(settings: SendSettings, from: Date = new Date()): SendRules {
  const year = parisYear(from);
  return {
    weekdays: [...settings.days],
    opens: settings.opens,
    closes: settings.closes,
    holidays: frenchPublicHolidays(year, year + HOLIDAY_YEARS - 1),
    blackouts: settings.blackouts.map((b) => ({ ...b })),
  };
}

/**
 * The rules for one outreach: the configuration, with its policy's `sendWindow` and `blackouts`;
 * `holidays: false` (demos and tests only) leaves public holidays open.
 */
export function sendRulesFor(
  settings: SendSettings,
  policy: { sendWindow?: SendWindowPolicy; blackouts?: Blackout[]; holidays?: boolean } = {},
  from: Date = new Date(),
): SendRules {
  const rules = defaultSendRules(settingsWithPolicy(settings, policy), from);
  return policy.holidays === false ? { ...rules, holidays: [] } : rules;
}
