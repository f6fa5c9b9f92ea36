import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { parseCsv } from '../../src/domain/csv';
import { parseDuration } from '../../src/domain/duration';
import { formatEuros, parseEurosToCents } from '../../src/domain/money';
import { optOutToken, verifyOptOutToken } from '../../src/domain/opt-out';
import { outreachStartInput, policySchema, sponsorInput } from '../../src/domain/schemas';
import { slugify } from '../../src/domain/slug';
import { messages } from '../../src/i18n/messages';

describe('durations', () => {
  it('parses what a policy says', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('36h')).toBe(36 * 3_600_000);
    expect(parseDuration('20s')).toBe(20_000);
    expect(parseDuration('1d12h')).toBe(36 * 3_600_000);
    expect(parseDuration('1w')).toBe(7 * 86_400_000);
    expect(parseDuration('500ms')).toBe(500);
    for (const bad of ['', '7', 'd', '7 days', '-1d', '1.5d', '7d!']) expect(parseDuration(bad)).toBeNull();
  });
});

describe('money', () => {
  it('parses euros as people type them, into integer cents', () => {
    expect(parseEurosToCents('2500')).toBe(250_000);
    expect(parseEurosToCents('2 500,50')).toBe(250_050);
    expect(parseEurosToCents('2\u202f500,5 €')).toBe(250_050);
    expect(parseEurosToCents('0.1')).toBe(10);
    for (const bad of ['', 'abc', '2,500.00', '1,234', '12.345', '-5', '1e3']) expect(parseEurosToCents(bad)).toBeNull();
  });
  it('formats in French and English', () => {
    expect(formatEuros(250_050, 'fr')).toBe('2\u202f500,50\u00a0€');
    expect(formatEuros(250_050, 'en')).toBe('€2,500.50');
    expect(formatEuros(5, 'fr')).toBe('0,05\u00a0€');
  });
});

describe('CSV', () => {
  it('reads French spreadsheets: BOM, semicolons, quotes, newlines in fields, CRLF', () => {
    const { headers, records } = parseCsv('\ufeffnom;notes\r\n"Fondation ""A""";"deux\r\nlignes"\r\n\r\nB;\r\n');
    expect(headers).toEqual(['nom', 'notes']);
    expect(records).toEqual([
      { line: 2, values: { nom: 'Fondation "A"', notes: 'deux\r\nlignes' } },
      { line: 5, values: { nom: 'B', notes: '' } },
    ]);
  });
  it('rejects broken files with the line', () => {
    expect(() => parseCsv('a,b\n"x,y\n')).toThrow(/ligne 2/);
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(/ligne 2 : 3 colonnes au lieu de 2/);
    expect(() => parseCsv('')).toThrow(/vide/);
  });
});

describe('input schemas', () => {
  it('names every wrong field of a sponsor', () => {
    const r = sponsorInput.safeParse({ name: '', kind: 'spaceship', contactName: 'A', contactEmail: 'nope', source: '', website: 'ftp://x' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['contactEmail', 'kind', 'name', 'source', 'website']);
  });
  it('validates a follow-up policy and fills defaults', () => {
    expect(policySchema.parse({})).toEqual({
      followUps: ['7d', '14d'], grace: '7d', sendTimeout: '2m', holidays: true, validation: 'tutor',
      validationReminder: '2bd', validationEscalation: '4bd', validationFlag: '6bd',
      nextStep: '7d', meetingResult: '2d', meetingReminder: '1d', instalmentGrace: '7d', escalateAfter: '3d', linkTtl: '7d', historyLimit: 5000,
    });
    const r = policySchema.safeParse({ followUps: ['7d', '7d'], grace: 'soon', extra: 1, validationReminder: '2 jours', validation: 'personne' });
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['', 'validation'].sort());
    const later = policySchema.safeParse({ followUps: ['7d', '7d'], grace: 'soon', validationReminder: '2 jours' });
    expect(later.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['followUps.1', 'grace', 'validationReminder'].sort());
  });
  it('turns the amount asked into cents and lower-cases addresses', () => {
    const parsed = outreachStartInput.parse({ sponsor: 'x', student: 'Lea@Etu.TEST', tutor: 'm@t.test', ask: '1 200,5' });
    expect(parsed).toMatchObject({ student: 'lea@etu.test', ask: 120_050, lang: 'fr' });
    expect(outreachStartInput.safeParse({ sponsor: 'x', student: 'a@b.c', tutor: 'a@b.c', ask: '0' }).success).toBe(false);
  });
});

describe('identifiers and links', () => {
  it('derives slugs people can type', () => {
    expect(slugify('Fondation Société Générale')).toBe('fondation-societe-generale');
    expect(slugify('  Œuvre & Cœur — Lyon ')).toBe('oeuvre-coeur-lyon');
    expect(slugify('***')).toBe('mecene');
  });
  it('signs opt-out links so they cannot be forged or redirected', () => {
    const token = optOutToken('s3cret-s3cret-s3cret', 42);
    expect(verifyOptOutToken('s3cret-s3cret-s3cret', token)).toBe(42);
    expect(verifyOptOutToken('another-secret-value', token)).toBeNull();
    expect(verifyOptOutToken('s3cret-s3cret-s3cret', token.replace(/^42/, '43'))).toBeNull();
    expect(verifyOptOutToken('s3cret-s3cret-s3cret', '42')).toBeNull();
  });
});

describe('configuration', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({}, '/somewhere/else');
    expect(c.dataDir).toBe(path.resolve('data')); // the project's, not the working directory's
    expect(loadConfig({ DATA_DIR: 'd' }, '/srv').dataDir).toBe('/srv/d');
    expect(c).toMatchObject({ lang: 'fr', embeddedDbPort: 5433, catcherPort: 2525, http: { host: '127.0.0.1', port: 3600, publicUrl: 'http://127.0.0.1:3600' } });
    expect(c.databaseUrl).toBeUndefined();
  });
  it('names the bad variable in French and English', () => {
    expect(() => loadConfig({ HTTP_PORT: '99999' })).toThrow(/Variable d'environnement HTTP_PORT invalide .* \/ Invalid environment variable HTTP_PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ TEMPORAL_ADDRESS: 'localhost' })).toThrow(/TEMPORAL_ADDRESS/);
    expect(() => loadConfig({ MECENE_SECRET: 'short' })).toThrow(/MECENE_SECRET/);
  });
});

describe('messages', () => {
  it('has every French sentence in English too, with the same placeholders', () => {
    for (const [key, french] of Object.entries(messages.fr)) {
      const english = messages.en[key as keyof typeof messages.en];
      expect(english?.trim().length ?? 0, key).toBeGreaterThan(0);
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(english), key).toEqual(names(french));
    }
  });
});
