/**
 * Sponsorship proposal PDF (one per sponsor), rendered with pdfkit.
 *
 * Output is deterministic: the same input always yields the same bytes, whatever the process
 * rendered before. In pdfkit 0.20.2 (+ fontkit 2.0.4) the only non-deterministic inputs on the
 * path we use are:
 *   - `info.CreationDate`, which defaults to `new Date()` in the constructor: we pass
 *     CreationDate/ModDate (UTC midnight of `input.date`) through `options.info`;
 *   - the trailer `/ID`, md5 of the info dictionary (hence of that date): we replace it with a
 *     hash of the whole input, which is deterministic AND differs between two proposals;
 *   - encryption (random bytes): not used;
 *   - fontkit's per-Font glyph cache, if a Font object were shared between documents (see
 *     the font section below): each document gets its own Font.
 * Everything else is a pure function of the content: font ids ("F1", "F2") and the subset
 * tags derived from them, zlib compression, TrueType subsetting, the long date (written
 * without Intl, whose ICU data differs between Node builds).
 *
 * Speed: a campaign renders hundreds to thousands of these, and the text is nearly the same
 * for every sponsor of an association. Shaping and subsetting are cached across documents by
 * pdf-font-cache.ts, without changing a single byte (the unit tests compare with the uncached
 * path). What remains is pdfkit's own line wrapping and content writing, and zlib.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startDocument } from './pdf-setup';
import { formatEuros, type Lang } from '../domain/money';
import { FontFace, type FontkitFont } from './pdf-font-cache';

export interface ProposalInput {
  lang: Lang;
  association: {
    name: string;
    address: string[];
    email: string;
    phone?: string;
    website?: string;
    rna?: string;
    siret?: string;
    purpose: string;
  };
  project: { title: string; summary: string; paragraphs: string[] };
  budget: { label: string; amountCents: number }[];
  sponsor: { name: string; contactName?: string };
  amountAskedCents: number;
  student: { name: string; email: string };
  tutor: { name: string; email: string };
  date: string;
  reference: string;
}

// ---------------------------------------------------------------------------
// Fonts: the TTF files are read once per process; their tables are decoded once per process.
//
// Decoding DejaVu's tables (cmap, GSUB, GPOS, kern, hmtx...) costs more than laying out a
// whole proposal, so we hand pdfkit fontkit Font objects ourselves (supported since pdfkit
// 0.20.0: "Accept already-parsed fontkit Font instances in doc.font() and registerFont").
//
// We must NOT give every document the very same Font object, though: fontkit caches Glyph
// objects per Font, and a Glyph keeps the code points it was first created with. A glyph
// first created as a component of a composite glyph while subsetting one document (e.g. "E"
// inside "É") keeps `codePoints = []`, and the next document that types "E" gets no
// ToUnicode entry for it: the bytes (and text extraction!) would depend on what the process
// rendered before. So each document gets a fresh Font (cheap: only the table directory is
// read) that shares the decoded tables of a process-wide template Font.
//
// FontFace (pdf-font-cache.ts) makes those Fonts and caches, across documents, what fontkit
// computes for them: the shaping of each word (nearly every word of a proposal is the same for
// every sponsor) and the subset font program (written by ttf-subset.ts, ~20x faster than
// fontkit, same bytes). The caches only ever hand a document what fontkit would have computed
// for that document's own Font, so the output does not depend on what was rendered before.
// fontkit is resolved from pdfkit's own location: it is pdfkit's dependency, not ours.

/** The regular and bold DejaVu faces; each document takes its own Font from them (`documentFont()`). */
export interface FontFaces {
  regular: FontFace;
  bold: FontFace;
}

let fontFaces: FontFaces | null = null;

/** The DejaVu faces, read and decoded once per process (shared with the other PDFs: report). */
export function loadFontFaces(): FontFaces {
  if (fontFaces) return fontFaces;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(data: Uint8Array): FontkitFont };
  const create = (data: Uint8Array) => fontkit.create(data);
  fontFaces = {
    regular: new FontFace(readFileSync(join(dir, 'DejaVuSans.ttf')), create),
    bold: new FontFace(readFileSync(join(dir, 'DejaVuSans-Bold.ttf')), create),
  };
  return fontFaces;
}

/** pdfkit's typings predate Font-instance support. */
export const asFontSource = (font: FontkitFont) => font as unknown as PDFKit.Mixins.PDFFontSource;

export const REGULAR = 'DejaVuSans';
export const BOLD = 'DejaVuSans-Bold';

// ---------------------------------------------------------------------------
// Wording.

const NBSP = '\u00a0';

export const MONTHS: Record<Lang, readonly string[]> = {
  fr: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

interface Wording {
  phone: string;
  rna: string;
  siret: string;
  date: (longDate: string) => string;
  attention: (sponsor: string, contact?: string) => string;
  title: (project: string) => string;
  subject: (sponsor: string) => string;
  requestHeading: string;
  amountAsked: (amount: string) => string;
  budgetHeading: string;
  budgetLabel: string;
  budgetAmount: string;
  budgetTotal: string;
  taxHeading: string;
  taxText: string;
  taxExample: (amount: string, reduction: string, net: string) => string;
  contactHeading: string;
  student: string;
  tutor: string;
  closing: string;
  footer: (reference: string, page: number, pages: number) => string;
}

const WORDING: Record<Lang, Wording> = {
  fr: {
    phone: 'Tél.',
    rna: `RNA${NBSP}:`,
    siret: `SIRET${NBSP}:`,
    date: (d) => `Le ${d}`,
    attention: (s, c) => (c ? `À l'attention de ${c}, ${s}` : `À l'attention de ${s}`),
    title: (p) => `Proposition de partenariat — ${p}`,
    subject: (s) => `Demande de mécénat adressée à ${s}`,
    requestHeading: 'Notre demande',
    amountAsked: (a) => `Montant sollicité${NBSP}: ${a}`,
    budgetHeading: 'Budget prévisionnel du projet',
    budgetLabel: 'Poste de dépense',
    budgetAmount: 'Montant',
    budgetTotal: 'Total',
    taxHeading: 'Avantage fiscal pour votre entreprise',
    taxText:
      `Les dons des entreprises à un organisme d'intérêt général ouvrent droit à une réduction d'impôt ` +
      `égale à 60${NBSP}% de leur montant (40${NBSP}% pour la fraction supérieure à 2${NBSP}millions d'euros), ` +
      `en application de l'article 238 bis du Code général des impôts (CGI). Les versements sont retenus ` +
      `dans la limite de 20${NBSP}000${NBSP}€ ou de 0,5${NBSP}% du chiffre d'affaires hors taxes lorsque ce ` +
      `dernier montant est plus élevé ; l'excédent est reportable sur les cinq exercices suivants. ` +
      `Un reçu fiscal (Cerfa n°${NBSP}16216*01) vous sera délivré.`,
    taxExample: (a, r, n) =>
      `Ainsi, pour un don de ${a}, la réduction d'impôt peut atteindre ${r}, soit un coût réel de ${n} pour votre entreprise.`,
    contactHeading: 'Contacts',
    student: `Votre interlocuteur${NBSP}:`,
    tutor: `Tuteur du projet${NBSP}:`,
    closing:
      `Nous restons à votre disposition pour tout complément d'information et vous prions d'agréer, ` +
      `Madame, Monsieur, l'expression de nos salutations distinguées.`,
    footer: (r, i, n) => `${r} — Page ${i} / ${n}`,
  },
  en: {
    phone: 'Tel.',
    rna: 'RNA:',
    siret: 'SIRET:',
    date: (d) => d,
    attention: (s, c) => (c ? `For the attention of ${c}, ${s}` : `For the attention of ${s}`),
    title: (p) => `Partnership proposal — ${p}`,
    subject: (s) => `Sponsorship request to ${s}`,
    requestHeading: 'Our request',
    amountAsked: (a) => `Amount requested: ${a}`,
    budgetHeading: 'Project budget',
    budgetLabel: 'Expense item',
    budgetAmount: 'Amount',
    budgetTotal: 'Total',
    taxHeading: 'Tax benefit for French companies',
    taxText:
      `Donations made by companies taxed in France to a public-interest organisation entitle them to a tax ` +
      `reduction of 60% of the amount donated (40% for the portion above €2 million), under article 238 bis ` +
      `of the French General Tax Code (CGI). Donations count up to €20,000 or 0.5% of annual turnover ` +
      `excluding VAT, whichever is higher; any excess can be carried forward over the following five ` +
      `financial years. A tax receipt (Cerfa form no. 16216*01) will be issued to you.`,
    taxExample: (a, r, n) =>
      `For example, for a donation of ${a}, the tax reduction can reach ${r}, i.e. a net cost of ${n} for your company.`,
    contactHeading: 'Contacts',
    student: 'Your contact:',
    tutor: 'Project tutor:',
    closing: 'We remain at your disposal for any further information. Yours faithfully,',
    footer: (r, i, n) => `${r} — Page ${i} / ${n}`,
  },
};

// ---------------------------------------------------------------------------
// Helpers.

export function parseIsoDate(date: string): { year: number; month: number; day: number; utc: Date } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const utc = new Date(Date.UTC(year, month - 1, day));
    if (utc.getUTCFullYear() === year && utc.getUTCMonth() === month - 1 && utc.getUTCDate() === day) {
      return { year, month, day, utc };
    }
  }
  throw new Error(`renderProposalPdf: date must be a valid 'YYYY-MM-DD' date, got ${JSON.stringify(date)}`);
}

/** "28 novembre 2026" / "1er mars 2026" / "28 November 2026" (no Intl: ICU data varies between builds). */
export function longDate(lang: Lang, d: { year: number; month: number; day: number }): string {
  const day = lang === 'fr' && d.day === 1 ? '1er' : String(d.day);
  return `${day} ${MONTHS[lang][d.month - 1]} ${d.year}`;
}

/** 60 % of a donation in integer cents, rounded half-up, without overflowing for huge safe integers. */
function sixtyPercent(cents: number): number {
  return Math.floor(cents / 5) * 3 + Math.round(((cents % 5) * 3) / 5);
}

/**
 * The input as JSON with a fixed field order (independent of how the caller built the object,
 * and ignoring any extra fields), for the document /ID.
 */
function canonicalInput(i: ProposalInput): string {
  const a = i.association;
  return JSON.stringify([
    i.lang,
    [a.name, a.address, a.email, a.phone ?? null, a.website ?? null, a.rna ?? null, a.siret ?? null, a.purpose],
    [i.project.title, i.project.summary, i.project.paragraphs],
    i.budget.map((line) => [line.label, line.amountCents]),
    [i.sponsor.name, i.sponsor.contactName ?? null],
    i.amountAskedCents,
    [i.student.name, i.student.email],
    [i.tutor.name, i.tutor.email],
    i.date,
    i.reference,
  ]);
}

/** Above this the 40 % rate kicks in, so the simple 60 % example would be wrong: we omit it. */
const SIXTY_PERCENT_CEILING_CENTS = 2_000_000 * 100;

// ---------------------------------------------------------------------------
// Layout constants (points; A4 = 595.28 x 841.89).

export const MARGIN_X = 56;
export const MARGIN_TOP = 56;
export const MARGIN_BOTTOM = 72; // leaves room for the footer
export const FOOTER_OFFSET = 40; // footer baseline area, from the page bottom

export const COLOR_TEXT = '#1f2933';
export const COLOR_MUTED = '#52606d';
export const COLOR_RULE = '#9aa5b1';
export const COLOR_ACCENT = '#1d3f72';
export const COLOR_HEADER_FILL = '#e4e9f0';
export const COLOR_ROW_RULE = '#cbd2d9';

const BODY_SIZE = 10.5;

export type Doc = PDFKit.PDFDocument;

export async function renderProposalPdf(input: ProposalInput): Promise<Buffer> {
  const { amountAskedCents } = input;
  if (typeof amountAskedCents !== 'number' || !Number.isSafeInteger(amountAskedCents) || amountAskedCents < 0) {
    throw new Error(
      `renderProposalPdf: amountAskedCents must be a non-negative safe integer (cents), got ${String(amountAskedCents)}`,
    );
  }
  let totalCents = 0;
  for (const line of input.budget) {
    if (!Number.isSafeInteger(line.amountCents)) {
      throw new Error(
        `renderProposalPdf: budget line ${JSON.stringify(line.label)} has a non-integer amountCents: ${String(line.amountCents)}`,
      );
    }
    totalCents += line.amountCents;
  }
  if (!Number.isSafeInteger(totalCents)) {
    throw new Error('renderProposalPdf: the budget total overflows the safe integer range');
  }

  const lang = input.lang;
  const w = WORDING[lang];
  const money = (cents: number) => formatEuros(cents, lang);
  const { doc, done, left, width: contentWidth } = startDocument({
    date: input.date,
    title: w.title(input.project.title),
    author: input.association.name,
    subject: w.subject(input.sponsor.name),
    keywords: input.reference,
    // The default /ID is md5(info): shared by two proposals that differ only in, say, the amount.
    identity: canonicalInput(input),
    bodySize: BODY_SIZE,
    lang,
  });

  const bottomLimit = () => doc.page.height - doc.page.margins.bottom;
  const ensureSpace = (height: number) => {
    if (doc.y + height > bottomLimit()) doc.addPage();
  };
  const heading = (text: string) => {
    doc.moveDown(0.8);
    // keep a heading with at least two lines of what follows
    ensureSpace(14 + 3 * doc.currentLineHeight(true));
    doc.font(BOLD).fontSize(12.5).fillColor(COLOR_ACCENT).text(text, left, doc.y, { width: contentWidth });
    doc.moveDown(0.3);
    doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
  };
  const paragraph = (text: string) => {
    // Ragged right on purpose: pdfkit's justification splits words on /\s+/, which also
    // stretches (and re-spaces) the no-break spaces inside "2 500,00 €" or "60 %".
    doc.text(text, left, doc.y, { width: contentWidth, align: 'left', lineGap: 1.5 });
    doc.moveDown(0.5);
  };

  // --- Letterhead -----------------------------------------------------------
  const a = input.association;
  drawLetterhead(doc, a, w, left, contentWidth);

  // --- Date and addressee ---------------------------------------------------
  doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
  doc.text(w.date(longDate(lang, parseIsoDate(input.date))), left, doc.y, { width: contentWidth, align: 'right' });
  doc.moveDown(0.6);
  doc.font(BOLD).text(w.attention(input.sponsor.name, input.sponsor.contactName), left, doc.y, {
    width: contentWidth,
  });
  doc.moveDown(1.2);

  // --- Title, summary, body -------------------------------------------------
  doc.font(BOLD).fontSize(15).fillColor(COLOR_ACCENT).text(w.title(input.project.title), left, doc.y, {
    width: contentWidth,
  });
  doc.moveDown(0.6);
  doc.font(BOLD).fontSize(11).fillColor(COLOR_TEXT);
  paragraph(input.project.summary);
  doc.font(REGULAR).fontSize(BODY_SIZE);
  for (const p of input.project.paragraphs) paragraph(p);

  // --- Request --------------------------------------------------------------
  heading(w.requestHeading);
  doc.font(BOLD).fontSize(12).text(w.amountAsked(money(amountAskedCents)), left, doc.y, { width: contentWidth });
  doc.font(REGULAR).fontSize(BODY_SIZE);

  // --- Budget table ---------------------------------------------------------
  if (input.budget.length > 0) {
    heading(w.budgetHeading);
    drawBudgetTable(doc, input.budget, totalCents, w, money, left, contentWidth, bottomLimit);
  }

  // --- Tax benefit ----------------------------------------------------------
  heading(w.taxHeading);
  paragraph(w.taxText);
  if (amountAskedCents > 0 && amountAskedCents <= SIXTY_PERCENT_CEILING_CENTS) {
    const reduction = sixtyPercent(amountAskedCents);
    paragraph(w.taxExample(money(amountAskedCents), money(reduction), money(amountAskedCents - reduction)));
  }

  // --- Contacts -------------------------------------------------------------
  heading(w.contactHeading);
  const person = (label: string, p: { name: string; email: string }) => {
    doc.font(BOLD).text(`${label} `, left, doc.y, { width: contentWidth, continued: true });
    doc.font(REGULAR).text(`${p.name} — ${p.email}`);
  };
  person(w.student, input.student);
  person(w.tutor, input.tutor);
  doc.moveDown(1);
  ensureSpace(3 * doc.currentLineHeight(true));
  paragraph(w.closing);
  doc.font(BOLD).text(a.name, left, doc.y, { width: contentWidth });

  // --- Footers (every page, written once the page count is known) -----------
  drawPageFooters(doc, (page, pages) => w.footer(input.reference, page, pages), left, contentWidth);

  doc.end();
  return done;
}

/** What a letterhead shows; only the name is required (the report's API may know no more). */
export type LetterheadAssociation = Pick<ProposalInput['association'], 'name'> & Partial<Omit<ProposalInput['association'], 'name'>>;

/** The association's letterhead: name, purpose, address, contact line, identifiers, a rule. */
export function drawLetterhead(
  doc: Doc,
  a: LetterheadAssociation,
  labels: { phone: string; rna: string; siret: string },
  left: number,
  contentWidth: number,
): void {
  doc.font(BOLD).fontSize(16).fillColor(COLOR_ACCENT).text(a.name, left, doc.y, { width: contentWidth });
  doc.font(REGULAR).fontSize(9).fillColor(COLOR_MUTED);
  if (a.purpose) doc.text(a.purpose, { width: contentWidth });
  doc.moveDown(0.3);
  doc.fillColor(COLOR_TEXT);
  for (const line of a.address ?? []) doc.text(line, { width: contentWidth });
  const contact = [a.email ?? '', a.phone ? `${labels.phone} ${a.phone}` : '', a.website ?? ''].filter(Boolean).join('  ·  ');
  if (contact) doc.text(contact, { width: contentWidth });
  const ids = [a.rna ? `${labels.rna} ${a.rna}` : '', a.siret ? `${labels.siret} ${a.siret}` : ''].filter(Boolean).join('  ·  ');
  if (ids) doc.text(ids, { width: contentWidth });
  doc.moveDown(0.5);
  doc
    .moveTo(left, doc.y)
    .lineTo(left + contentWidth, doc.y)
    .lineWidth(0.6)
    .strokeColor(COLOR_RULE)
    .stroke();
  doc.moveDown(1.2);
}

/** Writes a footer on every buffered page, once the page count is known ("… Page i / n"). */
export function drawPageFooters(doc: Doc, text: (page: number, pages: number) => string, left: number, contentWidth: number): void {
  const range = doc.bufferedPageRange();
  const pageCount = range.count;
  doc.font(REGULAR).fontSize(8.5).fillColor(COLOR_MUTED);
  for (let i = 0; i < pageCount; i++) {
    doc.switchToPage(range.start + i);
    const margins = doc.page.margins;
    const savedBottom = margins.bottom;
    margins.bottom = 0; // otherwise writing below the content area would add a page
    doc.text(text(i + 1, pageCount), left, doc.page.height - FOOTER_OFFSET, {
      width: contentWidth,
      align: 'center',
      lineBreak: false,
    });
    margins.bottom = savedBottom;
  }
}

function drawBudgetTable(
  doc: Doc,
  rows: ProposalInput['budget'],
  totalCents: number,
  w: Wording,
  money: (cents: number) => string,
  left: number,
  width: number,
  bottomLimit: () => number,
): void {
  const padX = 6;
  const padY = 4;
  const fontSize = 10;
  const amounts = rows.map((row) => money(row.amountCents));
  const total = money(totalCents);

  // The amount column fits the widest amount (in bold, to be safe), 120 pt at least.
  doc.font(BOLD).fontSize(fontSize);
  let widest = doc.widthOfString(total);
  for (const amount of amounts) widest = Math.max(widest, doc.widthOfString(amount));
  const amountWidth = Math.min(Math.max(120, Math.ceil(widest) + 2 * padX + 2), width / 2);
  const labelWidth = width - amountWidth;
  const labelTextWidth = labelWidth - 2 * padX;
  const amountTextWidth = amountWidth - 2 * padX;
  const amountX = left + labelWidth;

  const headerHeight = doc.heightOfString(w.budgetLabel, { width: labelTextWidth }) + 2 * padY;
  const totalHeight = doc.heightOfString(w.budgetTotal, { width: labelTextWidth }) + 2 * padY;
  // A label taller than a page could never fit: clip it (with an ellipsis) to what does.
  const pageRoom = doc.page.height - doc.page.margins.top - doc.page.margins.bottom;
  const maxLabelHeight = pageRoom - headerHeight - totalHeight - 2 * padY;

  const labelHeight = (label: string) => {
    doc.font(REGULAR).fontSize(fontSize);
    return Math.min(doc.heightOfString(label, { width: labelTextWidth }), maxLabelHeight);
  };
  const cells = (label: string, amount: string, font: string, y: number, labelMax: number) => {
    doc.font(font).fontSize(fontSize).fillColor(COLOR_TEXT);
    doc.text(label, left + padX, y + padY, { width: labelTextWidth, height: labelMax, ellipsis: true });
    doc.text(amount, amountX + padX, y + padY, { width: amountTextWidth, align: 'right' });
  };
  const rule = (y: number, color: string, lineWidth: number) => {
    doc.moveTo(left, y).lineTo(left + width, y).lineWidth(lineWidth).strokeColor(color).stroke();
  };
  const header = () => {
    const y = doc.y;
    doc.rect(left, y, width, headerHeight).fill(COLOR_HEADER_FILL);
    cells(w.budgetLabel, w.budgetAmount, BOLD, y, maxLabelHeight);
    doc.y = y + headerHeight;
  };

  const heights = rows.map((row) => labelHeight(row.label) + 2 * padY);
  // Never leave a lone header at the bottom of a page.
  if (doc.y + headerHeight + heights[0] > bottomLimit()) doc.addPage();
  header();

  rows.forEach((row, i) => {
    const h = heights[i];
    // The last row moves with the total row: never a lone total at the top of a page.
    const needed = i === rows.length - 1 ? h + totalHeight : h;
    if (doc.y + needed > bottomLimit()) {
      doc.addPage();
      header();
    }
    const y = doc.y;
    cells(row.label, amounts[i], REGULAR, y, h - 2 * padY);
    rule(y + h, COLOR_ROW_RULE, 0.5);
    doc.y = y + h;
  });

  const y = doc.y;
  rule(y, COLOR_TEXT, 1);
  cells(w.budgetTotal, total, BOLD, y, maxLabelHeight);
  doc.x = left;
  doc.y = y + totalHeight;
  doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
}
