/**
 * The tax receipt of one sponsor payment, carrying every mention of Cerfa n° 16216 (formulaire
 * 2041-MEC-SD, "Reçu des dons et versements effectués par les entreprises au titre de l'article
 * 238 bis du code général des impôts"): order number, the beneficiary (name, legal form,
 * identifiers, address, object, quality), the donor company (name, legal form, SIREN and address
 * when known), the amount in figures between asterisks and in words, the date of the gift, its
 * form, its nature (with the valuation sentence for goods and skills), the mode of payment,
 * place, date, signatory. The form is French: the receipt is French whatever the dossier's
 * language. The same input gives the same bytes (see proposal-pdf.ts).
 */
import { amountInFrenchWords } from '../domain/french-amount';
import { formatEuros } from '../domain/money';
import type { GiftForm, PaymentMethod, PledgeNature } from '../domain/pledges';
import { drawBand, drawField, startDocument } from './pdf-setup';
import { COLOR_MUTED, COLOR_RULE, COLOR_TEXT, BOLD, REGULAR, drawLetterhead, drawPageFooters, longDate, parseIsoDate } from './proposal-pdf';

export const CERFA_RECEIPT = 'Cerfa n°\u00a016216*01';
export const RECEIPT_TITLE = 'Reçu des dons et versements effectués par les entreprises au titre de l’article 238 bis du code général des impôts';

export interface ReceiptPdfInput {
  /** "2027-0001". */
  number: string;
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
  /** Where the receipt is made ("Fait à …"). */
  place: string;
  donor: { name: string; legalForm?: string; siren?: string; address?: string[] };
  amountCents: number;
  nature: PledgeNature;
  method: PaymentMethod;
  form: GiftForm;
  /** What was given, for goods and skills. */
  description?: string | null;
  /** YYYY-MM-DD: day of the payment (or of the delivery in kind). */
  receivedOn: string;
  /** YYYY-MM-DD: day of the receipt. */
  issuedOn: string;
}

const NBSP = '\u00a0';
const BODY = 10;
const CHECKED = '☒';
const UNCHECKED = '☐';

const FORMS: [GiftForm, string][] = [
  ['authentic_deed', 'Acte authentique'],
  ['private_deed', 'Acte sous seing privé'],
  ['manual_gift', 'Déclaration de don manuel'],
  ['other', 'Autres'],
];
const NATURES: [PledgeNature, string][] = [
  ['cash', 'Numéraire'],
  ['in_kind', 'Don en nature (biens)'],
  ['skills', 'Mécénat de compétences'],
];
const METHODS: [PaymentMethod, string][] = [
  ['cash', 'Remise d’espèces'],
  ['cheque', 'Chèque'],
  ['transfer', 'Virement, prélèvement, carte bancaire'],
];
const VALUATION: Record<Exclude<PledgeNature, 'cash'>, string> = {
  in_kind: 'biens évalués à leur coût de revient ou, pour les biens en stock, à leur valeur en stock',
  skills: 'prestations évaluées à leur coût de revient (rémunérations et charges sociales des salariés mis à disposition)',
};

const checkboxes = <K extends string>(options: [K, string][], chosen: K) =>
  options.map(([key, label]) => `${key === chosen ? CHECKED : UNCHECKED}${NBSP}${label}`).join('    ');

/** The input as JSON with a fixed field order, for the document /ID. */
function canonical(i: ReceiptPdfInput): string {
  const a = i.association;
  return JSON.stringify([
    'receipt',
    i.number,
    [a.name, a.address, a.email ?? null, a.phone ?? null, a.website ?? null, a.rna ?? null, a.siret ?? null, a.purpose, a.legalForm, a.taxStatus],
    [i.signatory.name, i.signatory.title, i.place],
    [i.donor.name, i.donor.legalForm ?? null, i.donor.siren ?? null, i.donor.address ?? null],
    i.amountCents,
    i.nature,
    i.method,
    i.form,
    i.description ?? null,
    i.receivedOn,
    i.issuedOn,
  ]);
}

/** "123456789" → "123 456 789". */
const spacedSiren = (s: string) => s.replace(/^(\d{3})(\d{3})(\d{3})$/, `$1${NBSP}$2${NBSP}$3`);

export async function renderReceiptPdf(input: ReceiptPdfInput): Promise<Buffer> {
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) {
    throw new Error(`renderReceiptPdf: amountCents must be a positive integer, got ${String(input.amountCents)}`);
  }
  if (input.nature !== 'cash' && !input.description?.trim()) {
    throw new Error('renderReceiptPdf: a gift in kind or of skills needs its description');
  }
  if ((input.nature === 'cash') === (input.method === 'in_kind')) {
    throw new Error(`renderReceiptPdf: method ${input.method} does not fit a gift of nature ${input.nature}`);
  }
  const received = parseIsoDate(input.receivedOn);
  const issued = parseIsoDate(input.issuedOn);
  const a = input.association;
  const { doc, done, left, width, ensureSpace } = startDocument({
    date: input.issuedOn,
    title: `Reçu fiscal n°${NBSP}${input.number} — ${a.name}`,
    author: a.name,
    subject: `${RECEIPT_TITLE} — ${input.donor.name}`,
    keywords: `${CERFA_RECEIPT}, ${input.number}`,
    identity: canonical(input),
    bodySize: BODY,
  });

  // The object is printed in the beneficiary's section: the letterhead leaves it out.
  drawLetterhead(doc, { ...a, purpose: undefined }, { phone: 'Tél.', rna: `RNA${NBSP}:`, siret: `SIRET${NBSP}:` }, left, width);

  // --- Title block ----------------------------------------------------------
  const top = doc.y;
  doc.font(REGULAR).fontSize(9).fillColor(COLOR_MUTED).text(CERFA_RECEIPT, left, top, { width, align: 'right' });
  doc.y = top;
  doc.font(BOLD).fontSize(13).fillColor(COLOR_TEXT).text(RECEIPT_TITLE, left, doc.y, { width: width - 110 });
  doc.moveDown(0.5);
  doc.font(BOLD).fontSize(11.5).text(`Numéro d’ordre du reçu${NBSP}: ${input.number}`, left, doc.y, { width });
  doc.moveDown(0.8);

  // --- Beneficiary ----------------------------------------------------------
  doc.font(REGULAR).fontSize(BODY);
  drawBand(doc, 'Organisme bénéficiaire des dons et versements', left, width, BODY);
  drawField(doc, 'Dénomination', a.name, left, width);
  drawField(doc, 'Forme juridique', a.legalForm, left, width);
  const ids = [a.rna ? `RNA ${a.rna}` : '', a.siret ? `SIRET ${a.siret}` : ''].filter(Boolean).join(' — ');
  if (ids) drawField(doc, 'Identification', ids, left, width);
  drawField(doc, 'Adresse', a.address.join(', '), left, width);
  drawField(doc, 'Objet', a.purpose, left, width);
  drawField(doc, 'Qualité de l’organisme', a.taxStatus, left, width);
  doc.moveDown(0.6);

  // --- Donor ----------------------------------------------------------------
  const d = input.donor;
  drawBand(doc, 'Entreprise donatrice', left, width, BODY);
  drawField(doc, 'Dénomination', d.name, left, width);
  if (d.legalForm) drawField(doc, 'Forme juridique', d.legalForm, left, width);
  if (d.siren) drawField(doc, `N°${NBSP}SIREN`, spacedSiren(d.siren), left, width);
  if (d.address?.length) drawField(doc, 'Adresse', d.address.join(', '), left, width);
  doc.moveDown(0.6);

  // --- The gift -------------------------------------------------------------
  drawBand(doc, 'Dons et versements reçus', left, width, BODY);
  doc.font(REGULAR).text(
    'L’organisme bénéficiaire reconnaît avoir reçu, au titre des dons et versements ouvrant droit à réduction d’impôt, la somme de' + NBSP + ':',
    left,
    doc.y,
    { width },
  );
  doc.moveDown(0.3);
  doc.font(BOLD).fontSize(12.5).text(`***${formatEuros(input.amountCents, 'fr')}***`, left, doc.y, { width, align: 'center' });
  doc.moveDown(0.3);
  doc.fontSize(BODY);
  drawField(doc, 'Somme en toutes lettres', amountInFrenchWords(input.amountCents), left, width);
  drawField(doc, input.nature === 'cash' ? 'Date du versement' : 'Date du don', longDate('fr', received), left, width);
  doc.moveDown(0.3);
  drawField(doc, 'Forme du don', checkboxes(FORMS, input.form), left, width);
  drawField(doc, 'Nature du don', checkboxes(NATURES, input.nature), left, width);
  if (input.nature === 'cash') {
    drawField(doc, 'Mode de versement', checkboxes(METHODS, input.method), left, width);
  } else {
    drawField(doc, 'Description des biens ou prestations', input.description!.trim(), left, width);
    drawField(
      doc,
      'Valorisation',
      `${formatEuros(input.amountCents, 'fr')}, montant déterminé par l’entreprise donatrice sous sa responsabilité (${VALUATION[input.nature]}).`,
      left,
      width,
    );
  }
  doc.moveDown(0.6);

  // --- Legal mentions -------------------------------------------------------
  ensureSpace(5 * doc.currentLineHeight(true));
  doc.font(REGULAR).fontSize(9).fillColor(COLOR_TEXT);
  doc.text(
    'Le bénéficiaire certifie sur l’honneur que les dons et versements qu’il reçoit ouvrent droit à la réduction d’impôt prévue à l’article 238 bis du code général des impôts.',
    left,
    doc.y,
    { width },
  );
  doc.moveDown(0.3);
  doc.fillColor(COLOR_MUTED).text(
    `Article 238 bis du code général des impôts${NBSP}: les dons et versements des entreprises à un organisme d’intérêt général ouvrent droit à une réduction ` +
      `d’impôt sur le revenu ou sur les sociétés égale à 60${NBSP}% de leur montant (40${NBSP}% pour la fraction supérieure à 2${NBSP}millions d’euros), ` +
      `retenus dans la limite de 20${NBSP}000${NBSP}€ ou de 0,5${NBSP}% du chiffre d’affaires hors taxes lorsque ce dernier montant est plus élevé ; ` +
      `l’excédent est reportable sur les cinq exercices suivants.`,
    { width },
  );
  doc.moveDown(1.2);

  // --- Place, date, signature ----------------------------------------------
  ensureSpace(90);
  doc.font(REGULAR).fontSize(BODY).fillColor(COLOR_TEXT);
  const signX = left + width / 2;
  const signW = width / 2;
  doc.text(`Fait à ${input.place}, le ${longDate('fr', issued)}`, signX, doc.y, { width: signW });
  doc.moveDown(0.3);
  doc.font(BOLD).text(`${input.signatory.name}, ${input.signatory.title}`, signX, doc.y, { width: signW });
  doc.font(REGULAR).fillColor(COLOR_MUTED).text('Signature', signX, doc.y, { width: signW });
  const boxY = doc.y + 4;
  doc.rect(signX, boxY, signW - 20, 46).lineWidth(0.6).strokeColor(COLOR_RULE).stroke();
  doc.x = left;
  doc.y = boxY + 52;

  drawPageFooters(doc, (page, pages) => `Reçu n°${NBSP}${input.number} — ${a.name} — Page ${page} / ${pages}`, left, width);
  doc.end();
  return done;
}
