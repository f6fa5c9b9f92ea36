/**
 * An A4 pdfkit document set up like the proposal (DejaVu faces, margins, colours), with the
 * same guarantees of identical bytes for identical input: fixed dates from the input, a /ID that
 * hashes the input, a Font object of its own per document. Shared by the receipt, the
 * sponsorship agreement and the end-of-project report.
 */
import { createHash } from 'node:crypto';
import PDFDocument from 'pdfkit';
import {
  asFontSource,
  BOLD,
  COLOR_HEADER_FILL,
  COLOR_TEXT,
  loadFontFaces,
  MARGIN_BOTTOM,
  MARGIN_TOP,
  MARGIN_X,
  parseIsoDate,
  REGULAR,
  type Doc,
} from './proposal-pdf';

export interface StartedDocument {
  doc: Doc;
  /** Resolves with the whole file once `doc.end()` was called. */
  done: Promise<Buffer>;
  left: number;
  width: number;
  /** Adds a page when `height` points would not fit above the bottom margin. */
  ensureSpace(height: number): void;
}

export function startDocument(opts: {
  /** YYYY-MM-DD: CreationDate and ModDate (UTC midnight), never the clock. */
  date: string;
  title: string;
  author: string;
  subject: string;
  keywords?: string;
  /** Canonical text of the whole input: the document /ID is its md5. */
  identity: string;
  bodySize: number;
  /** Language of the document (default French). */
  lang?: 'fr' | 'en';
}): StartedDocument {
  const date = parseIsoDate(opts.date);
  const faces = loadFontFaces();
  const regular = faces.regular.documentFont();
  const bold = faces.bold.documentFont();
  const doc = new PDFDocument({
    font: asFontSource(regular) as unknown as string,
    size: 'A4',
    margins: { top: MARGIN_TOP, bottom: MARGIN_BOTTOM, left: MARGIN_X, right: MARGIN_X },
    bufferPages: true,
    lang: opts.lang === 'en' ? 'en' : 'fr-FR',
    displayTitle: true,
    info: {
      Title: opts.title,
      Author: opts.author,
      Subject: opts.subject,
      ...(opts.keywords ? { Keywords: opts.keywords } : {}),
      Creator: 'Mécène',
      Producer: 'Mécène (PDFKit)',
      CreationDate: date.utc,
      ModDate: date.utc,
    },
  });
  const internals = doc as unknown as { _id?: unknown };
  if (internals._id instanceof Uint8Array) internals._id = createHash('md5').update(opts.identity).digest();

  const chunks: Uint8Array[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont(REGULAR, asFontSource(regular));
  doc.registerFont(BOLD, asFontSource(bold));
  doc.font(REGULAR).fontSize(opts.bodySize).fillColor(COLOR_TEXT);

  const left = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  return {
    doc,
    done,
    left,
    width,
    ensureSpace(height) {
      if (doc.y + height > doc.page.height - doc.page.margins.bottom) doc.addPage();
    },
  };
}

/** A shaded band with a bold title, as the sections of a Cerfa form. */
export function drawBand(doc: Doc, text: string, left: number, width: number, bodySize: number): void {
  doc.font(BOLD).fontSize(bodySize + 0.5);
  const h = doc.heightOfString(text, { width: width - 12 }) + 8;
  if (doc.y + h + 3 * doc.currentLineHeight(true) > doc.page.height - doc.page.margins.bottom) doc.addPage();
  const y = doc.y;
  doc.rect(left, y, width, h).fill(COLOR_HEADER_FILL);
  doc.fillColor(COLOR_TEXT).text(text, left + 6, y + 4, { width: width - 12 });
  doc.x = left;
  doc.y = y + h + 4;
  doc.font(REGULAR).fontSize(bodySize).fillColor(COLOR_TEXT);
}

/** "Label : value" on one paragraph, the label in bold. */
export function drawField(doc: Doc, label: string, value: string, left: number, width: number): void {
  doc.font(BOLD).text(`${label}\u00a0: `, left, doc.y, { width, continued: true });
  doc.font(REGULAR).text(value, { width });
}
