import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it, expect, vi } from 'vitest';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { renderProposalPdf, type ProposalInput } from '../../src/documents/proposal-pdf';
import { fontCacheStats, resetFontCacheStats } from '../../src/documents/pdf-font-cache';
import { TrueTypeSubsetter } from '../../src/documents/ttf-subset';
import { formatEuros } from '../../src/domain/money';

function input(overrides: Partial<ProposalInput> = {}): ProposalInput {
  return {
    lang: 'fr',
    association: {
      name: 'Les Amis du Théâtre Étudiant',
      address: ["12 rue de l'École", '75005 Paris'],
      email: 'contact@amis-theatre.fr',
      phone: '01 23 45 67 89',
      website: 'https://amis-theatre.fr',
      rna: 'W751234567',
      siret: '123 456 789 00012',
      purpose: 'Promouvoir le théâtre amateur auprès des étudiants.',
    },
    project: {
      title: 'Festival des Scènes Jeunes 2027',
      summary: 'Un festival de trois jours réunissant douze troupes étudiantes.',
      paragraphs: [
        'Depuis sa création, notre association accompagne les jeunes troupes. '.repeat(4),
        'Le festival se tiendra au printemps 2027 dans trois lieux partenaires. '.repeat(4),
        "Votre soutien financerait la technique, la communication et l'accueil des troupes. ".repeat(3),
      ],
    },
    budget: Array.from({ length: 10 }, (_, i) => ({ label: `Poste ${i + 1} — matériel scénique`, amountCents: 12_345 * (i + 1) })),
    sponsor: { name: 'Fondation Société Générale', contactName: 'Mme Hélène Dupré' },
    amountAskedCents: 250_000,
    student: { name: 'Zoé Martin', email: 'zoe.martin@etu.example.fr' },
    tutor: { name: 'Jean-Luc Bernard', email: 'jl.bernard@example.fr' },
    date: '2026-11-28',
    reference: 'MEC-2026-0042',
    ...overrides,
  };
}

/** Text of every page, items joined by spaces, no-break spaces normalised, whitespace collapsed. */
async function pdfText(buf: Buffer): Promise<{ pages: string[]; all: string }> {
  const pdf = await getDocument({ data: new Uint8Array(buf), useSystemFonts: false, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    const text = content.items.map((item) => ('str' in item ? item.str : '')).join(' ');
    pages.push(text.replace(/[\u202f\u00a0]/g, ' ').replace(/\s+/g, ' '));
  }
  await pdf.destroy();
  return { pages, all: pages.join(' ') };
}

describe('renderProposalPdf', () => {
  it('renders a French proposal with the sponsor, the amount, the title, the contacts and footers', async () => {
    const buf = await renderProposalPdf(input());
    expect(buf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const { pages, all } = await pdfText(buf);
    expect(all).toContain('Fondation Société Générale');
    expect(all).toContain("À l'attention de Mme Hélène Dupré, Fondation Société Générale");
    expect(all).toContain('Le 28 novembre 2026');
    expect(all).toContain('Proposition de partenariat — Festival des Scènes Jeunes 2027');
    expect(all).toContain('Montant sollicité : 2 500,00 €');
    expect(all).toContain('2 500,00');
    expect(all).toContain('238 bis');
    expect(all).toContain('zoe.martin@etu.example.fr');
    expect(all).toContain('jl.bernard@example.fr');
    expect(all).toContain('RNA : W751234567');
    expect(all).toContain('Page 1 / ');
    pages.forEach((page, i) => expect(page).toContain(`MEC-2026-0042 — Page ${i + 1} / ${pages.length}`));
    // the total of the 10 budget rows: 12 345 × 55 cents
    expect(all).toContain('6 789,75 €');
  });

  it('renders an English proposal', async () => {
    const { all } = await pdfText(await renderProposalPdf(input({ lang: 'en' })));
    expect(all).toContain('Partnership proposal — Festival des Scènes Jeunes 2027');
    expect(all).toContain('28 November 2026');
    expect(all).toContain('Amount requested: €2,500.00');
    expect(all).toContain('Tax benefit for French companies');
    expect(all).not.toContain('Montant sollicité');
  });

  it('embeds fonts that cover Polish and Greek names', async () => {
    const buf = await renderProposalPdf(
      input({ sponsor: { name: 'Łódź Spółka' }, association: { ...input().association, name: 'Ωmega Łódź' } }),
    );
    const { all } = await pdfText(buf);
    expect(all).toContain("À l'attention de Łódź Spółka");
    expect(all).toContain('Ωmega Łódź');
    const raw = buf.toString('latin1');
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/);
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans-Bold\b/);
    expect(raw).not.toContain('Helvetica');
  });

  it('is byte-for-byte deterministic, and a different sponsor gives different bytes', async () => {
    const a = await renderProposalPdf(input());
    const other = await renderProposalPdf(input({ sponsor: { name: 'Łódź Spółka' } }));
    const b = await renderProposalPdf(input());
    // same input built with a different key order
    const { reference, date, ...rest } = input();
    const c = await renderProposalPdf({ reference, date, ...rest });
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(true);
    expect(other.equals(a)).toBe(false);
    const raw = a.toString('latin1');
    // pdfkit writes each info entry as an indirect object: /CreationDate 17 0 R … 17 0 obj (D:…)
    const infoDate = (key: string) => {
      const ref = new RegExp(`/${key} (\\d+) 0 R`).exec(raw)?.[1];
      return new RegExp(`\\n${ref} 0 obj\\n\\((D:[0-9Z]+)\\)`).exec(raw)?.[1];
    };
    expect(infoDate('CreationDate')).toBe('D:20261128000000Z');
    expect(infoDate('ModDate')).toBe('D:20261128000000Z');
    const id = (buf: Buffer) => /\/ID \[<([0-9a-f]+)>/.exec(buf.toString('latin1'))?.[1];
    expect(id(a)).toMatch(/^[0-9a-f]{32}$/);
    expect(id(other)).not.toBe(id(a));
  });

  it('does not depend on what the process rendered before', async () => {
    // A fresh module instance (fresh font caches) renders the English proposal first...
    vi.resetModules();
    const cold = await import('../../src/documents/proposal-pdf');
    const first = await cold.renderProposalPdf(input({ lang: 'en' }));
    // ...another one renders it after French proposals (whose bold "É" contains an "E" glyph
    // that the English table header types later: a shared fontkit Font would lose its ToUnicode).
    vi.resetModules();
    const warm = await import('../../src/documents/proposal-pdf');
    await warm.renderProposalPdf(input());
    await warm.renderProposalPdf(input({ sponsor: { name: 'Łódź Spółka' }, budget: [] }));
    const later = await warm.renderProposalPdf(input({ lang: 'en' }));
    expect(later.equals(first)).toBe(true);
    expect((await pdfText(later)).all).toContain('Expense item');
  });

  it('splits a 40-row budget over several pages and totals it in integer cents', async () => {
    const budget = Array.from({ length: 40 }, (_, i) => ({ label: `Ligne budgétaire n° ${i + 1}`, amountCents: 1_000 + i }));
    const buf = await renderProposalPdf(input({ budget }));
    const { pages, all } = await pdfText(buf);
    expect(pages.length).toBeGreaterThan(1);
    for (let i = 1; i <= 40; i++) expect(all).toContain(`Ligne budgétaire n° ${i} `);
    // 40 × 1 000 + (0 + 1 + … + 39) = 40 780 cents
    expect(all).toMatch(/Total 407,80 €/);
    pages.forEach((page, i) => expect(page).toContain(`Page ${i + 1} / ${pages.length}`));
    // the table header is repeated on the page where the table continues
    expect(pages.filter((page) => page.includes('Poste de dépense Montant')).length).toBeGreaterThan(1);
  });

  it('sums amounts exactly (no floating point)', async () => {
    const budget = [
      { label: 'a', amountCents: 10 },
      { label: 'b', amountCents: 20 },
      { label: 'c', amountCents: 123_456_789 },
    ];
    const { all } = await pdfText(await renderProposalPdf(input({ budget })));
    expect(all).toContain('Total 1 234 568,19 €');
  });

  it('rejects an amount that is not a non-negative safe integer', async () => {
    for (const bad of [-1, 12.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      await expect(renderProposalPdf(input({ amountAskedCents: bad }))).rejects.toThrow(/amountAskedCents/);
    }
    await expect(renderProposalPdf(input({ amountAskedCents: 0 }))).resolves.toBeInstanceOf(Buffer);
  });

  // --- caches across documents (pdf-font-cache.ts, ttf-subset.ts) -------------------------

  /** A fresh module instance of the renderer, with the shaping and subset caches on or off. */
  async function freshRenderer(caching: boolean) {
    vi.resetModules();
    const cache = await import('../../src/documents/pdf-font-cache');
    cache.setFontCaching(caching);
    const { renderProposalPdf: render } = await import('../../src/documents/proposal-pdf');
    return { render, stats: cache.fontCacheStats };
  }

  const SPONSORS = [
    'Boulangerie Lemaître',
    'Łódź Spółka Akcyjna',
    'Ωmega Ψηφιακή',
    'ООО «Ромашка»',
    'Crédit Mutuel Île-de-France',
    'Zürich Versicherungs-Gesellschaft',
    'Ærø Fiskeri ApS',
    'Çelik Yapı A.Ş.',
    'Acme Corp',
    'Garage Müller & Fils',
    'Société Générale',
    'Quincaillerie Qüeñ',
    'Brasserie de l’Œuf',
    'Fondation Xavier-Yves',
    'Kraków Ŝipoj',
    'Ελληνικά Τρόφιμα',
    'Jüngling GmbH',
    'Vins Dupont-Aîné',
    'Ōsaka Trading',
    'Þór ehf.',
  ];
  const sponsorInput = (k: number) =>
    input({
      lang: k % 3 === 2 ? 'en' : 'fr',
      sponsor: { name: SPONSORS[k], contactName: k % 2 ? `Mme Noémie Ŵyatt-${k}` : undefined },
      amountAskedCents: 100_000 + 12_345 * k,
      reference: `MEC-2026-${100 + k}`,
    });
  const amountText = (k: number) => {
    const i = sponsorInput(k);
    return formatEuros(i.amountAskedCents, i.lang).replace(/[\u202f\u00a0]/g, ' ');
  };

  it('takes the cached paths: the next sponsor only shapes its own words, fontkit never subsets', async () => {
    await renderProposalPdf(input());
    resetFontCacheStats();
    const buf = await renderProposalPdf(
      input({ sponsor: { name: 'Boulangerie Lemaître', contactName: 'M. Paul Durand' }, amountAskedCents: 123_456 }),
    );
    expect(fontCacheStats.shapeHits).toBeGreaterThan(150);
    expect(fontCacheStats.shapeMisses).toBeGreaterThan(0); // the sponsor, the contact, the amounts
    expect(fontCacheStats.shapeMisses).toBeLessThan(15);
    expect(fontCacheStats.shapeConflicts).toBe(0);
    expect(fontCacheStats.shapeBypassed).toBe(0);
    expect(fontCacheStats.fastSubsets).toBe(2); // regular and bold, by TrueTypeSubsetter
    expect((await pdfText(buf)).all).toContain("À l'attention de M. Paul Durand, Boulangerie Lemaître");
  });

  it('renders 20 sponsors in a row, each with its own name and amount, with the bytes of an uncached fresh module', async () => {
    const warm: Buffer[] = [];
    for (let k = 0; k < SPONSORS.length; k++) warm.push(await renderProposalPdf(sponsorInput(k)));

    for (let k = 0; k < SPONSORS.length; k++) {
      const { all } = await pdfText(warm[k]);
      expect(all).toContain(SPONSORS[k]);
      expect(all).toContain(amountText(k));
      if (k % 2) expect(all).toContain(`Mme Noémie Ŵyatt-${k}, ${SPONSORS[k]}`);
      for (const other of SPONSORS) if (other !== SPONSORS[k]) expect(all).not.toContain(other);
    }

    // fontkit's own shaping and subsetting, nothing cached: the very same bytes
    const uncached = await freshRenderer(false);
    for (let k = 0; k < SPONSORS.length; k++) expect((await uncached.render(sponsorInput(k))).equals(warm[k])).toBe(true);
    expect(uncached.stats.shapeHits + uncached.stats.shapeMisses + uncached.stats.fastSubsets).toBe(0);

    // and each proposal alone in a fresh module (cold caches): the same bytes again
    for (const k of [0, 1, 2, 3, 13, 19]) {
      const cold = await freshRenderer(true);
      expect((await cold.render(sponsorInput(k))).equals(warm[k])).toBe(true);
      expect(cold.stats.fastSubsets).toBe(2);
    }
  }, 30_000);

  it('shapes for real when a cached run would carry other code points (.notdef), with the same bytes', async () => {
    // DejaVu has no CJK: these map to glyph 0, which every document Font already holds without
    // code points, so the recorded runs (glyph 0 = U+682A...) must not be used.
    const cjk = input({ sponsor: { name: '株式会社 Ωmega' } });
    await renderProposalPdf(cjk);
    resetFontCacheStats();
    const warm = await renderProposalPdf(cjk);
    expect(fontCacheStats.shapeConflicts).toBeGreaterThan(0);
    const uncached = await freshRenderer(false);
    expect((await uncached.render(cjk)).equals(warm)).toBe(true);
    expect((await pdfText(warm)).all).toContain('Ωmega');
  });

  it('TrueTypeSubsetter writes the bytes of fontkit\'s subsetter', () => {
    const require = createRequire(import.meta.url);
    const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as {
      create(data: Uint8Array): {
        numGlyphs: number;
        layout(text: string): { glyphs: { id: number }[] };
        createSubset(): { glyphs: number[]; includeGlyph(id: number): number; encode(): Uint8Array };
      };
    };
    const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const file of ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']) {
      const data = readFileSync(join(dir, file));
      const ours = new TrueTypeSubsetter(data);
      for (let n = 0; n < 15; n++) {
        const font = fontkit.create(data);
        const subset = font.createSubset();
        subset.includeGlyph(0);
        // accented capitals and ligatures are composite glyphs; random glyphs cover the rest
        const text = 'Éé ÀÇËÏÔÙ Łódź Ωmega ﬁ € ' + String.fromCodePoint(...Array.from({ length: 30 }, () => 0x21 + Math.floor(random() * 0x24e)));
        for (const glyph of font.layout(text).glyphs) subset.includeGlyph(glyph.id);
        for (let g = 0; g < 10; g++) subset.includeGlyph(Math.floor(random() * font.numGlyphs));
        const encoded = ours.encode(subset.glyphs);
        expect(Buffer.from(encoded.bytes).equals(Buffer.from(subset.encode()))).toBe(true);
        expect(encoded.glyphs).toEqual(subset.glyphs); // with the composite glyphs' components appended
      }
    }
  });
});
