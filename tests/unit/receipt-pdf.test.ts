import { describe, expect, it } from 'vitest';
import { renderConventionPdf, type ConventionPdfInput } from '../../src/documents/convention-pdf';
import { renderReceiptPdf, type ReceiptPdfInput } from '../../src/documents/receipt-pdf';
import { allocatePayments, formatReceiptNumber, nextInstalmentDue, pledgeInputSchema } from '../../src/domain/pledges';
import { moneyEn, moneyFr } from '../../src/i18n/catalog/money';
import { pdfText } from '../support/pdf-text';

const association: ReceiptPdfInput['association'] = {
  name: 'Association des Professionnels du Service Public',
  address: ['12 rue de la République', '69002 Lyon'],
  email: 'contact@apsp-asso.fr',
  rna: 'W691234567',
  purpose: 'Rassembler les professionnels du service public et accompagner les étudiants.',
  legalForm: 'Association régie par la loi du 1er juillet 1901',
  taxStatus: 'Œuvre ou organisme d’intérêt général ayant un caractère éducatif et culturel',
};

function receipt(overrides: Partial<ReceiptPdfInput> = {}): ReceiptPdfInput {
  return {
    number: '2027-0042',
    association,
    signatory: { name: 'Claire Moreau', title: 'Trésorière' },
    place: 'Lyon',
    donor: { name: 'Crédit Coopératif', legalForm: 'Société coopérative anonyme', siren: '349974931', address: ['12 boulevard Pesaro', '92000 Nanterre'] },
    amountCents: 123_456,
    nature: 'cash',
    method: 'transfer',
    form: 'manual_gift',
    receivedOn: '2027-03-03',
    issuedOn: '2027-03-04',
    ...overrides,
  };
}

const flat = (s: string) => s.replace(/\s+/g, ' ');

describe('renderReceiptPdf (Cerfa n° 16216)', () => {
  it('carries every mention of the form, the amount in figures and in words', async () => {
    const text = flat(await pdfText(await renderReceiptPdf(receipt())));
    for (const mention of [
      'Reçu des dons et versements effectués par les entreprises au titre de l’article 238 bis du code général des impôts',
      'Cerfa n° 16216*01',
      'Numéro d’ordre du reçu : 2027-0042',
      'Organisme bénéficiaire des dons et versements',
      'Association des Professionnels du Service Public',
      'Forme juridique : Association régie par la loi du 1er juillet 1901',
      '12 rue de la République, 69002 Lyon',
      'Objet : Rassembler les professionnels',
      'Qualité de l’organisme : Œuvre ou organisme d’intérêt général',
      'Entreprise donatrice',
      'Dénomination : Crédit Coopératif',
      'N° SIREN : 349 974 931',
      '12 boulevard Pesaro, 92000 Nanterre',
      'reconnaît avoir reçu, au titre des dons et versements ouvrant droit à réduction d’impôt, la somme de',
      '***1 234,56 €***',
      'Somme en toutes lettres : mille deux cent trente-quatre euros et cinquante-six centimes',
      'Date du versement : 3 mars 2027',
      '☒ Déclaration de don manuel',
      '☐ Acte authentique',
      '☒ Numéraire',
      '☒ Virement, prélèvement, carte bancaire',
      '☐ Chèque',
      'certifie sur l’honneur que les dons et versements qu’il reçoit ouvrent droit à la réduction d’impôt prévue à l’article 238 bis',
      '60 %',
      'Fait à Lyon, le 4 mars 2027',
      'Claire Moreau, Trésorière',
      'Reçu n° 2027-0042',
      'Page 1 / 1',
    ]) {
      expect(text, mention).toContain(mention);
    }
  });

  it('describes a gift of skills with the valuation sentence, and omits unknown donor fields', async () => {
    const text = flat(
      await pdfText(
        await renderReceiptPdf(
          receipt({
            nature: 'skills',
            method: 'in_kind',
            description: 'Deux développeurs mis à disposition pendant dix jours',
            donor: { name: 'Octo Technology' },
            amountCents: 800_000,
          }),
        ),
      ),
    );
    expect(text).toContain('☒ Mécénat de compétences');
    expect(text).toContain('Date du don : 3 mars 2027');
    expect(text).toContain('Deux développeurs mis à disposition pendant dix jours');
    expect(text).toContain('Valorisation : 8 000,00 €, montant déterminé par l’entreprise donatrice sous sa responsabilité');
    expect(text).toContain('huit mille euros');
    expect(text).not.toContain('SIREN');
    expect(text).not.toContain('Mode de versement');
  });

  it('gives the same bytes for the same input, other bytes for another number', async () => {
    const a = await renderReceiptPdf(receipt());
    const b = await renderReceiptPdf(receipt());
    const c = await renderReceiptPdf(receipt({ number: '2027-0043' }));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('refuses an inconsistent receipt', async () => {
    await expect(renderReceiptPdf(receipt({ nature: 'in_kind', method: 'in_kind', description: '' }))).rejects.toThrow(/description/);
    await expect(renderReceiptPdf(receipt({ method: 'in_kind' }))).rejects.toThrow(/does not fit/);
    await expect(renderReceiptPdf(receipt({ amountCents: 0 }))).rejects.toThrow(/positive/);
  });
});

function convention(overrides: Partial<ConventionPdfInput> = {}): ConventionPdfInput {
  return {
    reference: 'credit-cooperatif · 3f2a9c1e · promesse 1',
    date: '2027-01-15',
    association,
    signatory: { name: 'Claire Moreau', title: 'Trésorière' },
    place: 'Lyon',
    sponsor: { name: 'Crédit Coopératif', siren: '349974931', representative: { name: 'Paul Girard', title: 'Directeur de la communication' } },
    project: { title: 'Rencontres du service public 2027', summary: 'Deux journées de conférences et d’ateliers.' },
    amountCents: 600_000,
    nature: 'cash',
    description: 'Bourses de déplacement des étudiants',
    instalments: [
      { n: 1, expectedOn: '2027-02-01', amountCents: 200_000 },
      { n: 2, expectedOn: '2027-04-01', amountCents: 200_000 },
      { n: 3, expectedOn: '2027-06-01', amountCents: 200_000 },
    ],
    counterparts: 'faire figurer le logo du Mécène sur le programme et le site de l’événement.',
    counterpartsValueCents: 90_000,
    endsOn: '2027-12-31',
    ...overrides,
  };
}

describe('renderConventionPdf', () => {
  it('names the parties, the purpose, the amount, the schedule, the counterparts, the duration and both signatures', async () => {
    const text = flat(await pdfText(await renderConventionPdf(convention())));
    for (const mention of [
      'Convention de mécénat',
      'Entre les soussignés',
      'représentée par Claire Moreau, Trésorière',
      'Crédit Coopératif (SIREN 349974931), représentée par Paul Girard, Directeur de la communication',
      'Rencontres du service public 2027',
      '6 000,00 € (six mille euros)',
      'n° 1 1er février 2027 2 000,00 €',
      'n° 3 1er juin 2027 2 000,00 €',
      'Total 6 000,00 €',
      'logo du Mécène',
      'soit 15 % du don',
      'disproportion marquée',
      'Cerfa n° 16216*01',
      's’achève le 31 décembre 2027',
      'Pour l’Association',
      'Pour le Mécène',
      'Lu et approuvé',
    ]) {
      expect(text, mention).toContain(mention);
    }
  });

  it('is deterministic and refuses counterparts above 25 % of the gift', async () => {
    const a = await renderConventionPdf(convention());
    expect(a.equals(await renderConventionPdf(convention()))).toBe(true);
    await expect(renderConventionPdf(convention({ counterpartsValueCents: 150_001 }))).rejects.toThrow(/25 %/);
    await expect(renderConventionPdf(convention({ amountCents: 600_001 }))).rejects.toThrow(/add up/);
    const none = flat(await pdfText(await renderConventionPdf(convention({ counterparts: null, counterpartsValueCents: null, nature: 'in_kind', description: '40 ordinateurs portables reconditionnés' }))));
    expect(none).toContain('sans contrepartie');
    expect(none).toContain('40 ordinateurs portables reconditionnés');
    expect(none).toContain('Calendrier des remises');
  });
});

describe('pledges', () => {
  const instalments = [
    { n: 1, expectedOn: '2027-02-01', amountCents: 1000 },
    { n: 2, expectedOn: '2027-04-01', amountCents: 1000 },
    { n: 3, expectedOn: '2027-06-01', amountCents: 1000 },
  ];

  it('pays tagged instalments first, then the earliest open ones with the rest', () => {
    expect(allocatePayments(instalments, []).map((i) => i.paidCents)).toEqual([0, 0, 0]);
    expect(allocatePayments(instalments, [{ instalment: 1, amountCents: 1000 }]).map((i) => i.paidCents)).toEqual([1000, 0, 0]);
    // a lump sum on the first instalment settles the following ones
    expect(allocatePayments(instalments, [{ instalment: 1, amountCents: 2500 }]).map((i) => i.paidCents)).toEqual([1000, 1000, 500]);
    // paying the third early leaves the first due
    const early = allocatePayments(instalments, [{ instalment: 3, amountCents: 1000 }]);
    expect(early.map((i) => i.paidCents)).toEqual([0, 0, 1000]);
    expect(nextInstalmentDue(early)?.n).toBe(1);
    expect(nextInstalmentDue(allocatePayments(instalments, [{ instalment: null, amountCents: 3000 }]))).toBeUndefined();
  });

  it('validates a pledge: instalments add up, in order, described goods, counterparts within 25 %', () => {
    const base = {
      dossierId: '3f2a9c1e-0000-4000-8000-000000000001',
      key: 'k',
      amountCents: 3000,
      nature: 'cash' as const,
      description: '',
      instalments: instalments.map(({ expectedOn, amountCents }) => ({ expectedOn, amountCents })),
      by: 'nadia@asso.test',
    };
    expect(pledgeInputSchema.safeParse(base).success).toBe(true);
    const issues = (value: object) => {
      const r = pledgeInputSchema.safeParse({ ...base, ...value });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ amountCents: 3500 })).toEqual(['instalments: Les échéances totalisent 30,00 € et non les 35,00 € promis.'.replace(/ €/g, '\u00a0€')]);
    expect(issues({ instalments: [1, 0, 2].map((i) => base.instalments[i]) })[0]).toMatch(/^instalments\.1\.expectedOn: .*n° 2/);
    expect(issues({ nature: 'in_kind' })[0]).toMatch(/^description: /);
    expect(issues({ counterpartsValueCents: 750 })).toEqual([]);
    expect(issues({ counterpartsValueCents: 751 })[0]).toMatch(/^counterpartsValueCents: .*25 %/);
    expect(issues({ instalments: [{ expectedOn: '2027-02-30', amountCents: 3000 }] })[0]).toMatch(/^instalments\.0\.expectedOn: /);
    expect(issues({ endsOn: '2027-05-01' })[0]).toMatch(/^endsOn: /);
  });

  it('numbers receipts 2027-0001 and keeps its messages in both languages', () => {
    expect(formatReceiptNumber(2027, 1)).toBe('2027-0001');
    expect(formatReceiptNumber(2027, 12345)).toBe('2027-12345');
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(moneyEn).sort()).toEqual(Object.keys(moneyFr).sort());
    for (const key of Object.keys(moneyFr) as (keyof typeof moneyFr)[]) expect([key, placeholders(moneyEn[key])]).toEqual([key, placeholders(moneyFr[key])]);
  });
});
