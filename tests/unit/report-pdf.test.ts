import { describe, expect, it } from 'vitest';
import { renderProposalPdf } from '../../src/documents/proposal-pdf';
import { formatPercent, renderReportPdf, reportDay } from '../../src/documents/report-pdf';
import { reportEn, reportFr } from '../../src/i18n/catalog/report';
import type { Report } from '../../src/service/report';
import { pdfText } from '../support/pdf-text';

/** A report as buildReport returns it: a campaign of six months, two sponsors, two funders. */
function report(overrides: Partial<Report> = {}): Report {
  return {
    lang: 'fr',
    generatedOn: '2026-07-02',
    period: { from: '2026-01-01', to: '2026-06-30', source: 'requested' },
    association: {
      name: 'Association des Professionnels du Service Public',
      address: ['12 rue de la République', '69002 Lyon'],
      email: 'contact@apsp-asso.fr',
      rna: 'W691234567',
      purpose: 'Association d’intérêt général (loi 1901).',
    },
    projectTitle: 'Rencontres du service public 2027',
    goal: {
      label: 'Campagne 2026',
      goalCents: 2_000_000,
      receivedCents: 1_250_050,
      receivedSponsorCents: 250_050,
      receivedApplicationCents: 1_000_000,
      committedCents: 1_500_000,
      percentOfGoal: 62.5,
      committedPercentOfGoal: 75,
      remainingCents: 749_950,
    },
    sponsors: [
      { sponsor: 'Crédit Coopératif', slug: 'credit-cooperatif', student: 'Léa Fournier', stage: 'meeting', outcome: 'rendez-vous', status: 'open', askedCents: 500_000, committedCents: 0, receivedCents: 250_050, openedOn: '2026-01-10', closedOn: null, reason: null },
      { sponsor: 'Fondation Orange', slug: 'fondation-orange', student: 'Léa Fournier', stage: 'declined', outcome: 'refus', status: 'lost', askedCents: 300_000, committedCents: 0, receivedCents: 0, openedOn: '2026-02-10', closedOn: '2026-03-01', reason: 'Budget épuisé' },
    ],
    funders: [
      { funder: 'Région Auvergne-Rhône-Alpes', slug: 'region-aura', programme: 'Appel à projets jeunesse', stage: 'awarded', outcome: 'accordée', status: 'won', requestedCents: 1_500_000, awardedCents: 1_234_500, committedCents: 1_234_500, receivedCents: 1_000_000, openedOn: '2026-01-05', closedOn: null, reason: null },
      { funder: 'Ville de Lyon', slug: 'ville-de-lyon', programme: 'Fonds d’initiatives locales', stage: 'refused', outcome: 'refusée', status: 'lost', requestedCents: 876_500, awardedCents: null, committedCents: 0, receivedCents: 0, openedOn: '2026-01-20', closedOn: '2026-04-10', reason: 'Dossier incomplet' },
    ],
    contacts: { contactsEmailed: 7, organisationsContacted: 6, initialEmails: 7, followUps: 11, tutorAlerts: 2, replies: { interested: 1, meeting: 1, declined: 1, total: 3 }, optOuts: 1 },
    meetings: { count: 1, items: [{ sponsor: 'Crédit Coopératif', slug: 'credit-cooperatif', on: '2026-03-12', stage: 'meeting', stageLabel: 'rendez-vous', source: 'reply' }] },
    refusals: {
      total: 2,
      reasons: [
        { reason: 'Budget épuisé', count: 1, sponsors: 1, funders: 0, counterparts: ['Fondation Orange'] },
        { reason: 'Dossier incomplet', count: 1, sponsors: 0, funders: 1, counterparts: ['Ville de Lyon'] },
      ],
    },
    timeline: ['01', '02', '03', '04', '05', '06'].map((m, i) => ({
      month: `2026-${m}`,
      dossiersOpened: i,
      emailsSent: 2 * i,
      replies: i % 2,
      applicationsSubmitted: 0,
      decisions: 0,
      receivedCents: 0,
      cumulativeReceivedCents: 0,
    })),
    chart: { goalCents: 2_000_000, points: [{ on: '2026-01-01', cumulativeCents: 0 }, { on: '2026-03-10', cumulativeCents: 250_050 }, { on: '2026-04-20', cumulativeCents: 1_250_050 }] },
    outcomesByStage: [
      { kind: 'sponsor', stage: 'meeting', label: 'rendez-vous', count: 1 },
      { kind: 'sponsor', stage: 'declined', label: 'refus', count: 1 },
      { kind: 'application', stage: 'awarded', label: 'accordée', count: 1 },
      { kind: 'application', stage: 'refused', label: 'refusée', count: 1 },
    ],
    ...overrides,
  };
}

const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('renderReportPdf', () => {
  it('writes the figures in French: goal, received, percent, per sponsor and funder, contacts, refusals, footers', async () => {
    const { pdf, pages } = await renderReportPdf(report());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = flat(await pdfText(pdf));
    for (const expected of [
      'Association des Professionnels du Service Public',
      'Bilan de la campagne de financement',
      'Projet : Rencontres du service public 2027',
      'Période du 1er janvier 2026 au 30 juin 2026',
      'Établi le 2 juillet 2026',
      'Objectif 20 000,00 €',
      'Reçu sur la période 12 500,50 €',
      'dont mécènes 2 500,50 €',
      'Part de l’objectif atteinte 62,5 %',
      'Engagé (accordé ou promis) 15 000,00 €',
      'Engagé rapporté à l’objectif 75,0 %',
      'Reste à collecter pour l’objectif 7 499,50 €',
      'Reçu cumulé : 12 500,50 €',
      'Crédit Coopératif rendez-vous 5 000,00 € 2 500,50 €',
      'Fondation Orange refus (Budget épuisé) 3 000,00 € 0,00 €',
      'Ville de Lyon',
      '8 765,00 €',
      '12 345,00 €',
      'Contacts écrits (premier courriel envoyé) 7',
      'Relances envoyées 11',
      'Rendez-vous obtenus sur la période : 1',
      'Crédit Coopératif — demandé le 12 mars 2026',
      'Budget épuisé 1 Fondation Orange',
      'Dossier incomplet 1 Ville de Lyon',
      'juin 2026',
      'Issues par étape',
    ]) {
      expect(text).toContain(expected);
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    for (let i = 1; i <= pages; i++) expect(text).toContain(`Bilan du 1er janvier 2026 au 30 juin 2026 — Page ${i} / ${pages}`);
    expect(text).not.toContain(`Page ${pages + 1} /`);
  });

  it('writes the report in English', async () => {
    const en = report({ lang: 'en' });
    const text = flat(await pdfText((await renderReportPdf(en)).pdf));
    expect(text).toContain('Funding campaign report');
    expect(text).toContain('Period from 1 January 2026 to 30 June 2026');
    expect(text).toContain('Goal €20,000.00');
    expect(text).toContain('Share of the goal reached 62.5%');
    expect(text).toContain('Report from 1 January 2026 to 30 June 2026 — Page 1 /');
    expect(text).not.toContain('Objectif');
  });

  it('gives the same bytes for the same report, whatever was rendered before, and other bytes for other figures', async () => {
    const a = (await renderReportPdf(report())).pdf;
    await renderProposalPdf({
      lang: 'fr',
      association: { name: 'Autre', address: ['1 rue X'], email: 'a@b.fr', purpose: 'Ωmega Łódź' },
      project: { title: 'Projet', summary: 'Résumé', paragraphs: ['Texte'] },
      budget: [{ label: 'Poste', amountCents: 100 }],
      sponsor: { name: 'Zebra' },
      amountAskedCents: 100,
      student: { name: 'É', email: 'e@x.fr' },
      tutor: { name: 'T', email: 't@x.fr' },
      date: '2026-01-01',
      reference: 'X',
    });
    await renderReportPdf(report({ lang: 'en' }));
    const b = (await renderReportPdf(structuredClone(report()))).pdf;
    expect(b.equals(a)).toBe(true);
    const other = (await renderReportPdf(report({ goal: { ...report().goal, receivedCents: 1_250_051 } }))).pdf;
    expect(other.equals(a)).toBe(false);
    const id = (pdf: Buffer) => /\/ID \[<([0-9a-f]+)>/.exec(pdf.toString('latin1'))?.[1];
    expect(id(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(id(other)).not.toBe(id(a));
    // pdfkit writes each info entry as an indirect object: /CreationDate 17 0 R … 17 0 obj (D:…)
    const raw = a.toString('latin1');
    const ref = /\/CreationDate (\d+) 0 R/.exec(raw)?.[1];
    expect(new RegExp(`\\n${ref} 0 obj\\n\\((D:[0-9Z]+)\\)`).exec(raw)?.[1]).toBe('D:20260702000000Z');
  });

  it('says when there is no goal, and lists nothing it does not have', async () => {
    const text = flat(
      await pdfText(
        (
          await renderReportPdf(
            report({
              goal: { label: null, goalCents: null, receivedCents: 0, receivedSponsorCents: 0, receivedApplicationCents: 0, committedCents: 0, percentOfGoal: null, committedPercentOfGoal: null, remainingCents: null },
              association: { name: 'Asso' },
              projectTitle: null,
              sponsors: [],
              funders: [],
              meetings: { count: 0, items: [] },
              refusals: { total: 0, reasons: [] },
              chart: { goalCents: null, points: [{ on: '2026-01-01', cumulativeCents: 0 }] },
              outcomesByStage: [],
            }),
          )
        ).pdf,
      ),
    );
    expect(text).toContain('Objectif aucun objectif défini pour la période');
    expect(text).toContain('Aucun dossier de mécénat sur la période.');
    expect(text).toContain('Aucune candidature sur la période.');
    expect(text).toContain('Aucun rendez-vous sur la période.');
    expect(text).toContain('Aucun refus ni abandon sur la période.');
    expect(text).not.toContain('Part de l’objectif');
    expect(text).not.toContain('Issues par étape');
  });

  it('spreads 60 sponsors over pages, repeating the table header, and totals them in integer cents', async () => {
    const sponsors: Report['sponsors'] = Array.from({ length: 60 }, (_, i) => ({
      sponsor: `Mécène n° ${i + 1}`,
      slug: `m-${i + 1}`,
      student: 'Léa',
      stage: 'contacted',
      outcome: 'contacté',
      status: 'open',
      askedCents: 10_001 + i,
      committedCents: 0,
      receivedCents: 0,
      openedOn: '2026-01-10',
      closedOn: null,
      reason: null,
    }));
    const { pdf, pages } = await renderReportPdf(report({ sponsors }));
    const text = flat(await pdfText(pdf));
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(text).toContain('Mécène n° 60');
    // 60 × 100,01 € + (0 + … + 59) cents = 6 000,60 € + 17,70 €
    expect(text).toContain('Total 6 018,30 €');
    expect(text.split('Mécène Issue Sollicité Reçu').length - 1).toBeGreaterThanOrEqual(2);
  });
});

describe('report wording', () => {
  it('formats percents and days the French and the English way', () => {
    expect(formatPercent(62.5, 'fr')).toBe('62,5\u00a0%');
    expect(formatPercent(100, 'en')).toBe('100.0%');
    expect(reportDay('2026-03-01', 'fr')).toBe('1er mars 2026');
    expect(reportDay('2026-03-01', 'en')).toBe('1 March 2026');
  });

  it('has every French message in English, with the same placeholders', () => {
    expect(Object.keys(reportEn).sort()).toEqual(Object.keys(reportFr).sort());
    const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(reportFr) as (keyof typeof reportFr)[]) expect([key, placeholders(reportEn[key])]).toEqual([key, placeholders(reportFr[key])]);
  });
});
