import { createRequire } from 'node:module';
import path from 'node:path';
import { renderProposalPdf, type ProposalInput } from '../src/documents/proposal-pdf';
import { formatEuros } from '../src/domain/money';
import { loadAssociation, localise } from '../src/templates/association';
import { percentile } from './stats';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The same proposal as HTML, for Chromium to print: same fonts (files, not data: URLs), same content. */
export function proposalHtml(i: ProposalInput): string {
  const fonts = path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json'));
  const total = i.budget.reduce((s, l) => s + l.amountCents, 0);
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
@font-face { font-family: DV; src: url(file://${fonts}/ttf/DejaVuSans.ttf); }
@font-face { font-family: DV; font-weight: bold; src: url(file://${fonts}/ttf/DejaVuSans-Bold.ttf); }
@page { size: A4; margin: 20mm 20mm 25mm; }
body { font-family: DV; font-size: 10.5pt; color: #1f2933; }
h1 { font-size: 16pt; color: #1d3f72; } h2 { font-size: 12pt; color: #1d3f72; }
table { width: 100%; border-collapse: collapse; } th { background: #e4e9f0; text-align: left; }
td, th { padding: 4px; border-bottom: 1px solid #cbd2d9; } td.n { text-align: right; }
.head { border-bottom: 1px solid #9aa5b1; padding-bottom: 8px; color: #52606d; }
</style></head><body>
<div class="head"><strong>${esc(i.association.name)}</strong><br>${i.association.address.map(esc).join('<br>')}<br>${esc(i.association.email)} · ${esc(i.association.website ?? '')}</div>
<p>Le ${esc(i.date)}</p><p>À l'attention de ${esc(i.sponsor.contactName ?? '')}, ${esc(i.sponsor.name)}</p>
<h1>Proposition de partenariat — ${esc(i.project.title)}</h1>
<p>${esc(i.project.summary)}</p>${i.project.paragraphs.map((p) => `<p>${esc(p)}</p>`).join('')}
<h2>Notre demande</h2><p><strong>Montant sollicité : ${formatEuros(i.amountAskedCents)}</strong></p>
<h2>Budget prévisionnel du projet</h2><table><tr><th>Poste de dépense</th><th>Montant</th></tr>
${i.budget.map((l) => `<tr><td>${esc(l.label)}</td><td class="n">${formatEuros(l.amountCents)}</td></tr>`).join('')}
<tr><th>Total</th><th class="n">${formatEuros(total)}</th></tr></table>
<h2>Avantage fiscal pour votre entreprise</h2><p>Les dons des entreprises à un organisme d'intérêt général ouvrent droit à une réduction d'impôt égale à 60 % de leur montant (article 238 bis du CGI).</p>
<h2>Contacts</h2><p>Votre interlocuteur : ${esc(i.student.name)} — ${esc(i.student.email)}<br>Tuteur du projet : ${esc(i.tutor.name)} — ${esc(i.tutor.email)}</p>
</body></html>`;
}

export async function sampleProposal(templatesDir: string, n: number): Promise<ProposalInput> {
  const profile = await loadAssociation(templatesDir);
  const l = localise(profile, 'fr');
  return {
    lang: 'fr',
    ...l,
    budget: [...l.budget, ...l.budget.slice(0, 4).map((b) => ({ ...b, label: `${b.label} (bis)` }))], // 10 rows
    sponsor: { name: `Société Générale des Eaux n° ${n}`, contactName: 'Hélène Dupré' },
    amountAskedCents: 250_000 + n,
    student: { name: 'Camille Martin', email: 'camille@etu.test' },
    tutor: { name: 'Jérôme Leroy', email: 'jerome@tut.test' },
    date: '2026-11-28',
    reference: `bench-${n}`,
  };
}

/** ms per document over `inputs`, and the size of the last one. */
async function timeEach(inputs: ProposalInput[], render: (i: ProposalInput) => Promise<Uint8Array>): Promise<{ times: number[]; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (const i of inputs) {
    const t = performance.now();
    bytes = (await render(i)).length;
    times.push(performance.now() - t);
  }
  return { times, bytes };
}

export interface PdfResult {
  ms: number;
  p95Ms: number;
  bytes: number;
  chromiumMs: number | null;
  chromiumBytes: number | null;
  speedup: number | null;
  chromiumNote?: string;
}

/** ms per proposal: our pdfkit generator vs the same content printed by one warm headless Chromium page. */
export async function benchPdf(templatesDir: string, count: number): Promise<PdfResult> {
  const WARM_UP = 10; // both sides: caches filled and code compiled, as in a campaign's steady state
  const inputs = await Promise.all(Array.from({ length: count + WARM_UP }, (_, n) => sampleProposal(templatesDir, n)));
  await timeEach(inputs.slice(0, WARM_UP), renderProposalPdf);
  const ours = await timeEach(inputs.slice(WARM_UP), renderProposalPdf);
  const result: PdfResult = { ms: percentile(ours.times, 50), p95Ms: percentile(ours.times, 95), bytes: ours.bytes, chromiumMs: null, chromiumBytes: null, speedup: null };
  let browser;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--allow-file-access-from-files'],
    });
    const page = await browser.newPage();
    const print = async (i: ProposalInput) => {
      await page.setContent(proposalHtml(i), { waitUntil: 'load' });
      return page.pdf({ format: 'A4', printBackground: true, displayHeaderFooter: true, footerTemplate: `<div style="font-size:8pt;width:100%;text-align:center">${esc(i.reference)} — Page <span class="pageNumber"></span> / <span class="totalPages"></span></div>`, headerTemplate: '<span></span>' });
    };
    await timeEach(inputs.slice(0, WARM_UP), print);
    const theirs = await timeEach(inputs.slice(WARM_UP), print);
    result.chromiumMs = percentile(theirs.times, 50);
    result.chromiumBytes = theirs.bytes;
    result.speedup = result.chromiumMs / result.ms;
  } catch (error) {
    result.chromiumNote = `Chromium unavailable: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await browser?.close();
  }
  return result;
}
