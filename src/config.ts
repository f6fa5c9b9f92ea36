import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SEND_RULE_MESSAGES, isSendTime, parseBlackouts, parseWeekdays, windowInOrder, type SendSettings } from './domain/send-rules';
import { currentLanguage, setLanguage, type Lang } from './i18n';

/** Every environment variable Mécène reads, with its default. The README lists the same table. */
const port = z.coerce.number().int().min(1).max(65_535);
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .transform((s) => (s === '' ? undefined : s))
    .pipe(
      z
        .string()
        .refine((s) => {
          try {
            return protocols.includes(new URL(s).protocol);
          } catch {
            return false;
          }
        }, `URL ${protocols.join(' / ')}`)
        .optional(),
    )
    .optional();

/** DIGEST_WEEKDAY may be written in French. */
const FRENCH_WEEKDAYS: Record<string, string> = { lundi: 'monday', mardi: 'tuesday', mercredi: 'wednesday', jeudi: 'thursday', vendredi: 'friday', samedi: 'saturday', dimanche: 'sunday' };

/** A sending setting read by its parser; the message in the language being checked. */
function sendingText<T>(parse: (text: string) => T | null, message: keyof typeof SEND_RULE_MESSAGES) {
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      const parsed = parse(value);
      if (parsed === null) {
        ctx.addIssue({ code: 'custom', message: SEND_RULE_MESSAGES[message][currentLanguage()] });
        return z.NEVER;
      }
      return parsed;
    });
}

export const envSchema = z.object({
  MECENE_LANG: z.enum(['fr', 'en']).default('fr'),
  DATA_DIR: z.string().min(1).optional(),
  TEMPLATES_DIR: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  MECENE_DB_PORT: port.default(5433),
  TEMPORAL_ADDRESS: z.string().trim().regex(/^[\w.-]+:\d+$/, 'host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('mecene'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_RETENTION: z.string().regex(/^\d+h$/, 'ex. 2160h').default('2160h'),
  TEMPORAL_CLI: z.string().optional(),
  MECENE_WORKFLOW_CACHE: z.coerce.number().int().min(0).max(100_000).default(1000),
  SMTP_URL: optionalUrl(['smtp:', 'smtps:']),
  MECENE_SMTP_PORT: port.default(2525),
  MAIL_FROM: z.string().optional(),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3600),
  PUBLIC_URL: optionalUrl(['http:', 'https:']),
  MECENE_SECRET: z.string().min(16).optional(),
  // The fortnightly digest (README "The fortnightly digest").
  DIGEST_ENABLED: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'oui', 'non']))
    .transform((v) => ['true', '1', 'yes', 'oui'].includes(v))
    .default(true),
  DIGEST_WEEKDAY: z
    .string()
    .trim()
    .toLowerCase()
    .transform((v) => FRENCH_WEEKDAYS[v] ?? v)
    .pipe(z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']))
    .default('monday'),
  DIGEST_TIME: z.string().trim().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM').default('08:00'),
  DIGEST_EVERY_WEEKS: z.coerce.number().int().min(1).max(8).default(2),
  DIGEST_FIRST_DAY: z.iso.date().default('2026-01-05'),
  DIGEST_STALLED_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  DIGEST_HORIZON_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  // Sending rules (README "Sending rules").
  SEND_WINDOW_DAYS: sendingText(parseWeekdays, 'days').default([1, 2, 3, 4, 5]),
  SEND_WINDOW_OPENS: sendingText((v) => (isSendTime(v) ? v : null), 'time').default('09:00'),
  SEND_WINDOW_CLOSES: sendingText((v) => (isSendTime(v, true) ? v : null), 'time').default('18:00'),
  SEND_BLACKOUTS: sendingText(parseBlackouts, 'blackouts').default([]),
  SEND_DAILY_CAP: z.coerce.number().int().min(1).max(100_000).default(40),
  SEND_DOMAIN_DAILY_CAP: z.coerce.number().int().min(1).max(100_000).default(5),
});


export type Env = z.infer<typeof envSchema>;

export interface Config {
  lang: Lang;
  dataDir: string;
  templatesDir: string;
  logLevel: Env['LOG_LEVEL'];
  databaseUrl?: string;
  embeddedDbPort: number;
  temporal: { address?: string; namespace: string; taskQueue: string; port: number; uiPort: number; retention: string; cli?: string; workflowCache: number };
  smtpUrl?: string;
  catcherPort: number;
  mailFrom?: string;
  http: { host: string; port: number; publicUrl: string };
  secret?: string;
  digest: DigestSettings;
  /** Send window, blackouts and daily caps (src/domain/send-rules.ts). */
  sending: SendSettings;
}

/** When the digest goes out and what it covers (see src/service/digest.ts). */
export interface DigestSettings {
  enabled: boolean;
  weekday: 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';
  /** HH:MM, Europe/Paris. */
  time: string;
  everyWeeks: number;
  /** A day of the week of the first digest (YYYY-MM-DD): on weeks are counted from it. */
  firstDay: string;
  stalledDays: number;
  horizonDays: number;
}

/** Raised when the environment is wrong; the message names the variable in French and English. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The project folder: default data and templates live there, wherever the CLI is run from. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Parses the environment once, at an entry point; below that, code receives values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  setLanguage('fr');
  const result = envSchema.safeParse(env);
  if (!result.success) {
    // The same check once more in English, so each half of the message is in its language.
    setLanguage('en');
    const english = envSchema.safeParse(env).error!.issues;
    setLanguage('fr');
    const lines = result.error.issues.map((issue, i) => {
      const name = String(issue.path[0] ?? '?');
      const value = env[name];
      return (
        `Variable d'environnement ${name} invalide (${JSON.stringify(value ?? '')}) : ${issue.message}` +
        ` / Invalid environment variable ${name}: ${english[i]?.message ?? issue.message}`
      );
    });
    throw new ConfigError(lines.join('\n'));
  }
  const e = result.data;
  if (!windowInOrder(e.SEND_WINDOW_OPENS, e.SEND_WINDOW_CLOSES)) {
    const { fr, en } = SEND_RULE_MESSAGES.order;
    throw new ConfigError(
      `Variable d'environnement SEND_WINDOW_CLOSES invalide (${JSON.stringify(e.SEND_WINDOW_CLOSES)}) : ${fr} (SEND_WINDOW_OPENS=${e.SEND_WINDOW_OPENS})` +
        ` / Invalid environment variable SEND_WINDOW_CLOSES: ${en} (SEND_WINDOW_OPENS=${e.SEND_WINDOW_OPENS})`,
    );
  }
  setLanguage(e.MECENE_LANG);
  const httpPort = e.HTTP_PORT;
  return {
    lang: e.MECENE_LANG,
    dataDir: e.DATA_DIR ? path.resolve(cwd, e.DATA_DIR) : path.join(PROJECT_ROOT, 'data'),
    templatesDir: e.TEMPLATES_DIR ? path.resolve(cwd, e.TEMPLATES_DIR) : path.join(PROJECT_ROOT, 'templates'),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    embeddedDbPort: e.MECENE_DB_PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      retention: e.TEMPORAL_RETENTION,
      cli: e.TEMPORAL_CLI,
      workflowCache: e.MECENE_WORKFLOW_CACHE,
    },
    smtpUrl: e.SMTP_URL,
    catcherPort: e.MECENE_SMTP_PORT,
    mailFrom: e.MAIL_FROM,
    http: { host: e.HTTP_HOST, port: httpPort, publicUrl: (e.PUBLIC_URL ?? `http://${e.HTTP_HOST}:${httpPort}`).replace(/\/$/, '') },
    secret: e.MECENE_SECRET,
    digest: {
      enabled: e.DIGEST_ENABLED,
      weekday: e.DIGEST_WEEKDAY,
      time: e.DIGEST_TIME,
      everyWeeks: e.DIGEST_EVERY_WEEKS,
      firstDay: e.DIGEST_FIRST_DAY,
      stalledDays: e.DIGEST_STALLED_DAYS,
      horizonDays: e.DIGEST_HORIZON_DAYS,
    },
    sending: {
      days: e.SEND_WINDOW_DAYS,
      opens: e.SEND_WINDOW_OPENS,
      closes: e.SEND_WINDOW_CLOSES,
      blackouts: e.SEND_BLACKOUTS,
      dailyCap: e.SEND_DAILY_CAP,
      domainCap: e.SEND_DOMAIN_DAILY_CAP,
    },
  };
}


/** For entry points: the configuration, or the message naming the bad variable and exit 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}
