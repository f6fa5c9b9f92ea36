/**
 * The sponsorship agreement (convention de mécénat) of one pledge, to be signed by both parties:
 * the parties (the association and its signatory; the company and its representative when
 * known), the purpose (the project), the amount and nature of the gift in figures and words, the
 * schedule of instalments, the counterparts (refused above 25 % of the gift: they must stay in
 * "disproportion marquée" with it), receipts, use of the funds, duration, termination and a
 * signature block for each party. French only: it is a French legal document. The same input
 * gives the same bytes (see proposal-pdf.ts).
 */
import { amountInFrenchWords } from '../domain/french-amount';
import { formatEuros } from '../domain/money';
import { maxCounterpartsCents, type PledgeNature } from '../domain/pledges';
import { drawField, startDocument } from './pdf-setup';
import {
  BOLD,
  COLOR_ACCENT,
  COLOR_HEADER_FILL,
  COLOR_MUTED,
  COLOR_ROW_RULE,
  COLOR_RULE,
  COLOR_TEXT,
  REGULAR,
  drawLetterhead,
  drawPageFooters,
  longDate,
  parseIsoDate,
  type Doc,
} from './proposal-pdf';
import { CERFA_RECEIPT } from './receipt-pdf';

export interface ConventionPdfInput {
  /** Printed in every footer, e.g. "credit-cooperatif · 3f2a9c1e · promesse 1". */
  reference: string;
  /** YYYY-MM-DD: the day the agreement is drawn up (the pledge's day). */
  date: string;
  association: {
    name: string;
    address: string[];
    email?: string;
    phone?: string;
    website?: string;
    rna?: string;
    siret?: string;
    purpose: string;
    legalForm: string;
    taxStatus: string;
  };
  signatory: { name: string; title: string };
  place: string;
  sponsor: { name: string; legalForm?: string; siren?: string; address?: string[]; representative?: { name: string; title: string } };
  project: { title: string; summary: string };
  amountCents: number;
  nature: PledgeNature;
  description: string;
  instalments: { n: number; expectedOn: string; amountCents: number }[];
  counterparts?: string | null;
  counterpartsValueCents?: number | null;
  /** YYYY-MM-DD: the agreement ends that day. */
  endsOn: string;
}

const NBSP = '\u00a0';
const BODY = 10;

function canonical(i: ConventionPdfInput): string {
  const a = i.association;
  const s = i.sponsor;
  return JSON.stringify([
    'convention',
    i.reference,
    i.date,
    [a.name, a.address, a.email ?? null, a.phone ?? null, a.website ?? null, a.rna ?? null, a.siret ?? null, a.purpose, a.legalForm, a.taxStatus],
    [i.signatory.name, i.signatory.title, i.place],
    [s.name, s.legalForm ?? null, s.siren ?? null, s.address ?? null, s.representative ? [s.representative.name, s.representative.title] : null],
    [i.project.title, i.project.summary],
    i.amountCents,
    i.nature,
    i.description,
    i.instalments.map((x) => [x.n, x.expectedOn, x.amountCents]),
    i.counterparts ?? null,
    i.counterpartsValueCents ?? null,
    i.endsOn,
  ]);
}

/** "12,5 %" (one decimal at most, French comma). */
function percentOf(part: number, whole: number): string {
  const tenths = Math.round((part * 1000) / whole);
  return `${Math.floor(tenths / 10)}${tenths % 10 ? `,${tenths % 10}` : ''}${NBSP}%`;
}

export async function renderConventionPdf(input: ConventionPdfInput): Promise<Buffer> {
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) {
    throw new Error(`renderConventionPdf: amountCents must be a positive integer, got ${String(input.amountCents)}`);
  }
  const sum = input.instalments.reduce((s, x) => s + x.amountCents, 0);
  if (!input.instalments.length || sum !== input.amountCents) {
    throw new Error(`renderConventionPdf: the instalments add up to ${sum} cents, not ${input.amountCents}`);
  }
  const value = input.counterpartsValueCents ?? null;
  if (value !== null && value > maxCounterpartsCents(input.amountCents)) {
    throw new Error(`renderConventionPdf: counterparts worth ${value} cents exceed 25 % of the ${input.amountCents} cents gift`);
  }
  const a = input.association;
  const s = input.sponsor;
  const money = (cents: number) => formatEuros(cents, 'fr');
  const day = (d: string) => longDate('fr', parseIsoDate(d));
  const { doc, done, left, width, ensureSpace } = startDocument({
    date: input.date,
    title: `Convention de mécénat — ${a.name} et ${s.name}`,
    author: a.name,
    subject: `Convention de mécénat : ${input.project.title}`,
    keywords: input.reference,
    identity: canonical(input),
    bodySize: BODY,
  });
  const paragraph = (text: string) => {
    doc.font(REGULAR).fontSize(BODY).fillColor(COLOR_TEXT).text(text, left, doc.y, { width, lineGap: 1.5 });
    doc.moveDown(0.4);
  };
  const article = (n: number, title: string) => {
    doc.moveDown(0.5);
    ensureSpace(14 + 3 * doc.currentLineHeight(true));
    doc.font(BOLD).fontSize(11).fillColor(COLOR_ACCENT).text(`Article ${n} — ${title}`, left, doc.y, { width });
    doc.moveDown(0.3);
    doc.font(REGULAR).fontSize(BODY).fillColor(COLOR_TEXT);
  };

  // The object is in the preamble: the letterhead leaves it out.
  drawLetterhead(doc, { ...a, purpose: undefined }, { phone: 'Tél.', rna: `RNA${NBSP}:`, siret: `SIRET${NBSP}:` }, left, width);
  doc.font(BOLD).fontSize(16).fillColor(COLOR_ACCENT).text('Convention de mécénat', left, doc.y, { width, align: 'center' });
  doc.font(REGULAR).fontSize(BODY).fillColor(COLOR_MUTED).text(`Projet «${NBSP}${input.project.title}${NBSP}»`, left, doc.y, { width, align: 'center' });
  doc.moveDown(1);

  // --- Parties ---------------------------------------------------------------
  doc.font(BOLD).fontSize(BODY).fillColor(COLOR_TEXT).text('Entre les soussignés', left, doc.y, { width });
  doc.moveDown(0.3);
  const ids = [a.rna ? `RNA ${a.rna}` : '', a.siret ? `SIRET ${a.siret}` : ''].filter(Boolean).join(', ');
  paragraph(
    `${a.name}, ${a.legalForm}${ids ? ` (${ids})` : ''}, dont le siège est situé ${a.address.join(', ')}, ` +
      `représentée par ${input.signatory.name}, ${input.signatory.title}, ci-après dénommée «${NBSP}l’Association${NBSP}»,`,
  );
  paragraph('et');
  const company = [
    s.name,
    s.legalForm ? `, ${s.legalForm}` : '',
    s.siren ? ` (SIREN ${s.siren})` : '',
    s.address?.length ? `, dont le siège est situé ${s.address.join(', ')}` : '',
    s.representative ? `, représentée par ${s.representative.name}, ${s.representative.title}` : ', représentée par la personne dûment habilitée signataire des présentes',
  ].join('');
  paragraph(`${company}, ci-après dénommée «${NBSP}le Mécène${NBSP}».`);

  doc.moveDown(0.3);
  doc.font(BOLD).text('Préambule', left, doc.y, { width });
  doc.moveDown(0.2);
  paragraph(`L’Association a pour objet${NBSP}: ${a.purpose} ${a.taxStatus}.`);
  paragraph(
    `Le Mécène souhaite soutenir, sans contrepartie équivalente, l’action de l’Association, dans le cadre du mécénat ` +
      `d’entreprise défini à l’article 238 bis du code général des impôts. Il a été convenu ce qui suit.`,
  );

  // --- Articles ---------------------------------------------------------------
  article(1, 'Objet');
  paragraph(
    `La présente convention définit les conditions dans lesquelles le Mécène soutient le projet «${NBSP}${input.project.title}${NBSP}» ` +
      `de l’Association${NBSP}: ${input.project.summary}`,
  );

  article(2, 'Montant et nature du don');
  const amount = `${money(input.amountCents)} (${amountInFrenchWords(input.amountCents)})`;
  const description = input.description.trim();
  if (input.nature === 'cash') {
    paragraph(`Le Mécène s’engage à verser à l’Association, à titre de don, la somme de ${amount}, selon le calendrier de l’article 3.`);
    if (description) {
      drawField(doc, 'Affectation', description, left, width);
      doc.moveDown(0.4);
    }
  } else if (input.nature === 'in_kind') {
    paragraph(
      `Le Mécène s’engage à remettre à l’Association, à titre de don en nature, les biens suivants${NBSP}: ${description}. ` +
        `Le Mécène les valorise, sous sa responsabilité, à ${amount}, à leur coût de revient ou à leur valeur en stock.`,
    );
  } else {
    paragraph(
      `Le Mécène s’engage à mettre à la disposition de l’Association, à titre de mécénat de compétences, les prestations suivantes${NBSP}: ` +
        `${description}. Le Mécène les valorise, sous sa responsabilité, à ${amount}, à leur coût de revient ` +
        `(rémunérations et charges sociales des salariés mis à disposition).`,
    );
  }

  article(3, input.nature === 'cash' ? 'Calendrier des versements' : 'Calendrier des remises');
  drawSchedule(doc, input.instalments, money, day, left, width);

  article(4, 'Contreparties');
  const counterparts = input.counterparts?.trim();
  if (counterparts) {
    paragraph(`En contrepartie du don, l’Association s’engage à${NBSP}: ${counterparts}`);
    paragraph(
      value !== null
        ? `Les parties estiment la valeur de ces contreparties à ${money(value)}, soit ${percentOf(value, input.amountCents)} du don. ` +
            `Elles restent dans une disproportion marquée avec le montant du don, la limite communément admise étant de 25${NBSP}% de sa valeur.`
        : `Les parties s’engagent à ce que ces contreparties restent dans une disproportion marquée avec le montant du don, ` +
            `soit une valeur n’excédant pas 25${NBSP}% de celui-ci.`,
    );
  } else {
    paragraph('Le don est consenti sans contrepartie.');
  }

  article(5, 'Reçus fiscaux');
  paragraph(
    `Pour chaque ${input.nature === 'cash' ? 'versement reçu' : 'remise reçue'}, l’Association délivre au Mécène un reçu fiscal ` +
      `conforme au modèle ${CERFA_RECEIPT}, qui lui permet de bénéficier de la réduction d’impôt prévue à l’article 238 bis du ` +
      `code général des impôts (60${NBSP}% du montant du don, 40${NBSP}% pour la fraction supérieure à 2${NBSP}millions d’euros, ` +
      `dans la limite de 20${NBSP}000${NBSP}€ ou de 0,5${NBSP}% du chiffre d’affaires hors taxes lorsque ce dernier montant est plus élevé).`,
  );

  article(6, 'Affectation et suivi');
  paragraph(
    `L’Association s’engage à affecter le don à la réalisation du projet décrit à l’article 1 et à informer le Mécène ` +
      `de son avancement et de son bilan.`,
  );

  article(7, 'Durée');
  paragraph(`La présente convention prend effet à la date de sa signature par les deux parties et s’achève le ${day(input.endsOn)}.`);

  article(8, 'Résiliation');
  paragraph(
    `En cas de manquement de l’une des parties à ses obligations, l’autre partie peut résilier la présente convention par ` +
      `lettre recommandée avec accusé de réception, trente jours après une mise en demeure restée sans effet. Les sommes ` +
      `déjà versées et les biens déjà remis restent acquis à l’Association.`,
  );

  // --- Signatures -------------------------------------------------------------
  doc.moveDown(0.8);
  ensureSpace(150);
  paragraph(`Fait à ${input.place}, le ${'_'.repeat(16)}, en deux exemplaires originaux (convention établie le ${day(input.date)}).`);
  doc.moveDown(0.5);
  const colW = (width - 20) / 2;
  const y = doc.y;
  const block = (x: number, heading: string, who: string) => {
    doc.font(BOLD).fontSize(BODY).fillColor(COLOR_TEXT).text(heading, x, y, { width: colW });
    doc.font(REGULAR).text(who, x, doc.y, { width: colW });
    doc.fillColor(COLOR_MUTED).fontSize(8.5).text('Signature précédée de la mention «\u00a0Lu et approuvé\u00a0»', x, doc.y, { width: colW });
    const boxY = doc.y + 4;
    doc.rect(x, boxY, colW, 60).lineWidth(0.6).strokeColor(COLOR_RULE).stroke();
    return boxY + 66;
  };
  const endA = block(left, 'Pour l’Association', `${input.signatory.name}, ${input.signatory.title}`);
  const endB = block(
    left + colW + 20,
    'Pour le Mécène',
    s.representative ? `${s.representative.name}, ${s.representative.title}` : `Nom et qualité${NBSP}: ${'_'.repeat(22)}`,
  );
  doc.x = left;
  doc.y = Math.max(endA, endB);

  drawPageFooters(doc, (page, pages) => `Convention de mécénat — ${input.reference} — Page ${page} / ${pages}`, left, width);
  doc.end();
  return done;
}

function drawSchedule(
  doc: Doc,
  rows: ConventionPdfInput['instalments'],
  money: (cents: number) => string,
  day: (d: string) => string,
  left: number,
  width: number,
): void {
  const pad = 5;
  const cols = [70, width - 70 - 140, 140];
  const lineH = doc.font(REGULAR).fontSize(BODY).currentLineHeight(true) + 2 * pad;
  const row = (cells: string[], font: string, fill?: string) => {
    if (doc.y + lineH > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const y = doc.y;
    if (fill) doc.rect(left, y, width, lineH).fill(fill);
    doc.font(font).fontSize(BODY).fillColor(COLOR_TEXT);
    let x = left;
    cells.forEach((cell, i) => {
      doc.text(cell, x + pad, y + pad, { width: cols[i] - 2 * pad, align: i === 2 ? 'right' : 'left', lineBreak: false });
      x += cols[i];
    });
    doc.moveTo(left, y + lineH).lineTo(left + width, y + lineH).lineWidth(0.5).strokeColor(COLOR_ROW_RULE).stroke();
    doc.x = left;
    doc.y = y + lineH;
  };
  row(['Échéance', 'Date prévue', 'Montant'], BOLD, COLOR_HEADER_FILL);
  for (const r of rows) row([`n°${NBSP}${r.n}`, day(r.expectedOn), money(r.amountCents)], REGULAR);
  row(['Total', '', money(rows.reduce((s, r) => s + r.amountCents, 0))], BOLD);
  doc.moveDown(0.4);
}
