/**
 * The end-of-project report ("bilan") as an A4 PDF for the association's board: letterhead,
 * goal against money received, the cumulative chart, per-sponsor and per-funder outcomes,
 * contacts, meetings, reasons for refusals, month by month, outcomes by stage.
 *
 * The fonts, letterhead and "Page i / n" footers are the proposal's (proposal-pdf.ts), and so is
 * the way to deterministic bytes: CreationDate/ModDate are the report's day (not "now"), the
 * trailer /ID is a hash of the report itself, dates are written without Intl, every document
 * gets its own fontkit Font. The same report always gives the same bytes.
 */
import { formatEuros, type Lang } from '../domain/money';
import { t, type MessageKey } from '../i18n';
import type { Report } from '../service/report';
import {
  BOLD,
  COLOR_ACCENT,
  COLOR_HEADER_FILL,
  COLOR_MUTED,
  COLOR_ROW_RULE,
  COLOR_RULE,
  COLOR_TEXT,
  MONTHS,
  REGULAR,
  drawLetterhead,
  drawPageFooters,
  longDate,
  parseIsoDate,
  type Doc,
} from './proposal-pdf';
import { startDocument } from './pdf-setup';

const NBSP = '\u00a0';
const BODY_SIZE = 10;
const TABLE_SIZE = 9;
const COLOR_GOAL = '#b45309';
const COLOR_AREA = '#d5e0f0';
const COLOR_FUNDER = '#2f7d6d';

const SHORT_MONTHS: Record<Lang, readonly string[]> = {
  fr: ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

/** "62,5 %" / "62.5%". */
export function formatPercent(value: number, lang: Lang): string {
  const text = value.toFixed(1);
  return lang === 'fr' ? `${text.replace('.', ',')}${NBSP}%` : `${text}%`;
}

/** "1er janvier 2026" / "1 January 2026", from YYYY-MM-DD (no Intl: same text on every build). */
export function reportDay(day: string, lang: Lang): string {
  return longDate(lang, parseIsoDate(day));
}

/** "mars 2026" / "March 2026" from YYYY-MM. */
const monthLabel = (month: string, lang: Lang) => `${MONTHS[lang][Number(month.slice(5, 7)) - 1]}${NBSP}${month.slice(0, 4)}`;

/** Whole euros for chart axes: "12 500 €" / "€12,500". */
const wholeEuros = (cents: number, lang: Lang) => formatEuros(Math.round(cents / 100) * 100, lang).replace(/[,.]00(?=\u00a0€|$)/, '');

const dayNumber = (day: string) => parseIsoDate(day).utc.getTime() / 86_400_000;

/** A round axis maximum and step (1, 2, 2.5 or 5 × 10^k) giving at most `ticks` intervals. */
function niceScale(max: number, ticks: number): { top: number; step: number } {
  const raw = Math.max(max, 1) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step || step, step };
}

interface Column {
  header: string;
  /** Share of the content width. */
  width: number;
  align?: 'left' | 'right';
}

export interface RenderedReport {
  pdf: Buffer;
  pages: number;
}

export async function renderReportPdf(report: Report): Promise<RenderedReport> {
  const lang = report.lang;
  const say = (key: MessageKey, params: Record<string, string | number> = {}) => t(key, params, lang);
  const money = (cents: number) => formatEuros(cents, lang);
  const day = (d: string) => reportDay(d, lang);
  const { from, to } = report.period;

  const { doc, done, left, width, ensureSpace } = startDocument({
    date: report.generatedOn,
    title: `${say('report.pdf.title')} — ${report.association.name}`.replace(/ — $/, ''),
    author: report.association.name,
    subject: say('report.pdf.period', { from: day(from), to: day(to) }),
    // The default /ID is md5(info), shared by two reports of the same period and day: hash the report.
    identity: JSON.stringify(report),
    bodySize: BODY_SIZE,
    lang,
  });
  const bottomLimit = () => doc.page.height - doc.page.margins.bottom;
  const heading = (text: string, keepWith = 60) => {
    doc.moveDown(0.9);
    ensureSpace(20 + keepWith);
    doc.font(BOLD).fontSize(12.5).fillColor(COLOR_ACCENT).text(text, left, doc.y, { width });
    doc.moveDown(0.35);
    doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
  };
  const line = (text: string, opts: { font?: string; size?: number; color?: string; align?: 'left' | 'right' } = {}) => {
    doc.font(opts.font ?? REGULAR).fontSize(opts.size ?? BODY_SIZE).fillColor(opts.color ?? COLOR_TEXT);
    doc.text(text, left, doc.y, { width, align: opts.align ?? 'left', lineGap: 1 });
  };

  /** A table; the header is repeated on each page, the last row stays with the total row. */
  const table = (columns: Column[], rows: string[][], opts: { total?: string[]; header?: boolean; size?: number } = {}) => {
    const size = opts.size ?? TABLE_SIZE;
    const padX = 4;
    const padY = 3;
    const widths = fitColumns(doc, columns, opts.total ? [...rows, opts.total] : rows, size, padX, width);
    const xs = widths.map((_, i) => left + widths.slice(0, i).reduce((a, b) => a + b, 0));
    const rowHeight = (cells: string[], font: string) => {
      doc.font(font).fontSize(size);
      return Math.max(...cells.map((cell, i) => doc.heightOfString(cell || ' ', { width: widths[i] - 2 * padX }))) + 2 * padY;
    };
    const drawRow = (cells: string[], font: string, y: number) => {
      doc.font(font).fontSize(size).fillColor(COLOR_TEXT);
      cells.forEach((cell, i) => doc.text(cell, xs[i] + padX, y + padY, { width: widths[i] - 2 * padX, align: columns[i].align ?? 'left' }));
    };
    const rule = (y: number, color: string, lineWidth: number) => doc.moveTo(left, y).lineTo(left + width, y).lineWidth(lineWidth).strokeColor(color).stroke();
    const headers = columns.map((c) => c.header);
    const headerHeight = opts.header === false ? 0 : rowHeight(headers, BOLD);
    const header = () => {
      if (opts.header === false) return;
      const y = doc.y;
      doc.rect(left, y, width, headerHeight).fill(COLOR_HEADER_FILL);
      drawRow(headers, BOLD, y);
      doc.y = y + headerHeight;
    };
    const heights = rows.map((r) => rowHeight(r, REGULAR));
    const totalHeight = opts.total ? rowHeight(opts.total, BOLD) : 0;
    if (doc.y + headerHeight + (heights[0] ?? 0) + (rows.length === 1 ? totalHeight : 0) > bottomLimit()) doc.addPage();
    header();
    rows.forEach((cells, i) => {
      const needed = heights[i] + (i === rows.length - 1 ? totalHeight : 0);
      if (doc.y + needed > bottomLimit()) {
        doc.addPage();
        header();
      }
      const y = doc.y;
      drawRow(cells, REGULAR, y);
      rule(y + heights[i], COLOR_ROW_RULE, 0.5);
      doc.y = y + heights[i];
    });
    if (opts.total) {
      const y = doc.y;
      rule(y, COLOR_TEXT, 0.9);
      drawRow(opts.total, BOLD, y);
      doc.y = y + totalHeight;
    }
    doc.x = left;
    doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
  };

  // --- Letterhead and title ---------------------------------------------------------------
  if (report.association.name) {
    drawLetterhead(doc, report.association, lang === 'fr' ? { phone: 'Tél.', rna: `RNA${NBSP}:`, siret: `SIRET${NBSP}:` } : { phone: 'Tel.', rna: 'RNA:', siret: 'SIRET:' }, left, width);
  }
  line(say('report.pdf.generated', { date: reportDay(report.generatedOn, lang) }), { size: 9, color: COLOR_MUTED, align: 'right' });
  doc.moveDown(0.4);
  line(say('report.pdf.title'), { font: BOLD, size: 16, color: COLOR_ACCENT });
  doc.moveDown(0.2);
  if (report.projectTitle) line(say('report.pdf.project', { title: report.projectTitle }), { font: BOLD, size: 11 });
  line(say('report.pdf.period', { from: day(from), to: day(to) }), { size: 11 });
  if (report.goal.label) line(say('report.pdf.goalLabel', { label: report.goal.label }), { size: 10, color: COLOR_MUTED });

  // --- Goal against money -------------------------------------------------------------------
  const g = report.goal;
  heading(say('report.pdf.goalHeading'), 120);
  const figures: string[][] = [
    [say('report.pdf.goal'), g.goalCents === null ? say('report.pdf.noGoal') : money(g.goalCents)],
    [say('report.pdf.received'), money(g.receivedCents)],
    [`    ${say('report.pdf.receivedSponsors')}`, money(g.receivedSponsorCents)],
    [`    ${say('report.pdf.receivedApplications')}`, money(g.receivedApplicationCents)],
  ];
  if (g.percentOfGoal !== null) figures.push([say('report.pdf.percent'), formatPercent(g.percentOfGoal, lang)]);
  figures.push([say('report.pdf.committed'), money(g.committedCents)]);
  if (g.committedPercentOfGoal !== null) figures.push([say('report.pdf.committedPercent'), formatPercent(g.committedPercentOfGoal, lang)]);
  if (g.remainingCents !== null) figures.push([say('report.pdf.remaining'), money(g.remainingCents)]);
  table([{ header: '', width: 0.62 }, { header: '', width: 0.38, align: 'right' }], figures, { header: false, size: 10 });
  if (g.goalCents !== null && g.percentOfGoal !== null) {
    doc.moveDown(0.5);
    const y = doc.y;
    const filled = Math.min(g.percentOfGoal, 100) / 100;
    doc.rect(left, y, width, 9).fill(COLOR_HEADER_FILL);
    if (filled > 0) doc.rect(left, y, width * filled, 9).fill(COLOR_ACCENT);
    doc.rect(left, y, width, 9).lineWidth(0.5).strokeColor(COLOR_RULE).stroke();
    doc.y = y + 9;
  }

  // --- Chart: cumulative money received against the goal ------------------------------------
  heading(say('report.pdf.chartHeading'), 200);
  drawCumulativeChart(doc, report, left, width);

  // --- Per sponsor --------------------------------------------------------------------------
  heading(say('report.pdf.sponsorsHeading'));
  if (report.sponsors.length === 0) line(say('report.pdf.noSponsors'));
  else {
    const sum = (pick: (s: Report['sponsors'][number]) => number) => report.sponsors.reduce((a, s) => a + pick(s), 0);
    table(
      [
        { header: say('report.pdf.sponsor'), width: 0.4 },
        { header: say('report.pdf.outcome'), width: 0.26 },
        { header: say('report.pdf.asked'), width: 0.17, align: 'right' },
        { header: say('report.pdf.receivedShort'), width: 0.17, align: 'right' },
      ],
      report.sponsors.map((s) => [s.sponsor, s.reason && s.stage !== 'opted_out' ? `${s.outcome} (${s.reason})` : s.outcome, money(s.askedCents), money(s.receivedCents)]),
      { total: [say('report.pdf.total'), '', money(sum((s) => s.askedCents)), money(sum((s) => s.receivedCents))] },
    );
  }

  // --- Per funder ---------------------------------------------------------------------------
  heading(say('report.pdf.fundersHeading'));
  if (report.funders.length === 0) line(say('report.pdf.noFunders'));
  else {
    const sum = (pick: (f: Report['funders'][number]) => number) => report.funders.reduce((a, f) => a + pick(f), 0);
    table(
      [
        { header: say('report.pdf.funder'), width: 0.2 },
        { header: say('report.pdf.programme'), width: 0.2 },
        { header: say('report.pdf.requested'), width: 0.14, align: 'right' },
        { header: say('report.pdf.awarded'), width: 0.14, align: 'right' },
        { header: say('report.pdf.receivedShort'), width: 0.14, align: 'right' },
        { header: say('report.pdf.outcome'), width: 0.18 },
      ],
      report.funders.map((f) => [f.funder, f.programme, money(f.requestedCents), f.awardedCents === null ? '—' : money(f.awardedCents), money(f.receivedCents), f.outcome]),
      { total: [say('report.pdf.total'), '', money(sum((f) => f.requestedCents)), money(sum((f) => f.awardedCents ?? 0)), money(sum((f) => f.receivedCents)), ''] },
    );
  }

  // --- Contacts made ------------------------------------------------------------------------
  const c = report.contacts;
  heading(say('report.pdf.contactsHeading'), 100);
  table(
    [{ header: '', width: 0.75 }, { header: '', width: 0.25, align: 'right' }],
    [
      [say('report.pdf.contactsEmailed'), String(c.contactsEmailed)],
      [say('report.pdf.organisationsContacted'), String(c.organisationsContacted)],
      [say('report.pdf.followUps'), String(c.followUps)],
      [say('report.pdf.tutorAlerts'), String(c.tutorAlerts)],
      [say('report.pdf.replies'), String(c.replies.total)],
      [`    ${say('report.pdf.repliesInterested')}`, String(c.replies.interested)],
      [`    ${say('report.pdf.repliesMeeting')}`, String(c.replies.meeting)],
      [`    ${say('report.pdf.repliesDeclined')}`, String(c.replies.declined)],
      [say('report.pdf.optOuts'), String(c.optOuts)],
    ],
    { header: false, size: 10 },
  );

  // --- Meetings -----------------------------------------------------------------------------
  heading(say('report.pdf.meetingsHeading'), 30);
  if (report.meetings.count === 0) line(say('report.pdf.noMeetings'));
  else {
    line(say('report.pdf.meetingsCount', { count: report.meetings.count }), { font: BOLD });
    doc.moveDown(0.2);
    for (const m of report.meetings.items) {
      ensureSpace(14);
      line(`•  ${say('report.pdf.meetingItem', { sponsor: m.sponsor, date: day(m.on), stage: m.stageLabel })}`);
    }
  }

  // --- Reasons for refusals -----------------------------------------------------------------
  heading(say('report.pdf.refusalsHeading'));
  if (report.refusals.reasons.length === 0) line(say('report.pdf.noRefusals'));
  else {
    table(
      [
        { header: say('report.pdf.reason'), width: 0.45 },
        { header: say('report.pdf.count'), width: 0.12, align: 'right' },
        { header: say('report.pdf.who'), width: 0.43 },
      ],
      report.refusals.reasons.map((r) => [r.reason, String(r.count), r.counterparts.join(', ')]),
      { total: [say('report.pdf.total'), String(report.refusals.total), ''] },
    );
  }

  // --- Month by month -----------------------------------------------------------------------
  heading(say('report.pdf.timelineHeading'));
  const tl = report.timeline;
  table(
    [
      { header: say('report.pdf.month'), width: 0.15 },
      { header: say('report.pdf.opened'), width: 0.1, align: 'right' },
      { header: say('report.pdf.emails'), width: 0.1, align: 'right' },
      { header: say('report.pdf.repliesShort'), width: 0.1, align: 'right' },
      { header: say('report.pdf.submitted'), width: 0.13, align: 'right' },
      { header: say('report.pdf.decisions'), width: 0.1, align: 'right' },
      { header: say('report.pdf.moneyIn'), width: 0.16, align: 'right' },
      { header: say('report.pdf.cumulative'), width: 0.16, align: 'right' },
    ],
    tl.map((m) => [monthLabel(m.month, lang), String(m.dossiersOpened), String(m.emailsSent), String(m.replies), String(m.applicationsSubmitted), String(m.decisions), money(m.receivedCents), money(m.cumulativeReceivedCents)]),
    {
      size: 8,
      total: [
        say('report.pdf.total'),
        ...(['dossiersOpened', 'emailsSent', 'replies', 'applicationsSubmitted', 'decisions'] as const).map((k) => String(tl.reduce((a, m) => a + m[k], 0))),
        money(tl.reduce((a, m) => a + m.receivedCents, 0)),
        '',
      ],
    },
  );

  // --- Outcomes by stage --------------------------------------------------------------------
  if (report.outcomesByStage.length) {
    heading(say('report.pdf.stagesHeading'), 80);
    drawStageBars(doc, report, left, width, say);
  }

  drawPageFooters(doc, (page, pages) => say('report.pdf.footer', { from: day(from), to: day(to), page, pages }), left, width);
  const pages = doc.bufferedPageRange().count;
  doc.end();
  return { pdf: await done, pages };
}

/** Cumulative money received (a step line over the days of the period) and the goal line. */
function drawCumulativeChart(doc: Doc, report: Report, left: number, width: number): void {
  const lang = report.lang;
  const chartHeight = 170;
  const top = doc.y + 4;
  const x0 = left + 64;
  const x1 = left + width - 8;
  const yTop = top + 8;
  const yBottom = top + chartHeight - 24;
  const { from, to } = report.period;
  const points = report.chart.points;
  const last = points[points.length - 1].cumulativeCents;
  const goal = report.chart.goalCents;
  const { top: maxCents, step } = niceScale(Math.max(goal ?? 0, last, 100) * 1.05, 5);
  const span = dayNumber(to) - dayNumber(from);
  const xOf = (d: string) => x0 + (span === 0 ? 0.5 : (dayNumber(d) - dayNumber(from)) / span) * (x1 - x0);
  const yOf = (cents: number) => yBottom - (cents / maxCents) * (yBottom - yTop);

  // Grid and amounts.
  doc.font(REGULAR).fontSize(7.5);
  for (let v = 0; v <= maxCents + 0.5; v += step) {
    const y = yOf(v);
    doc.moveTo(x0, y).lineTo(x1, y).lineWidth(0.4).strokeColor(v === 0 ? COLOR_MUTED : COLOR_ROW_RULE).stroke();
    doc.fillColor(COLOR_MUTED).text(wholeEuros(v, lang), left, y - 3.5, { width: x0 - left - 6, align: 'right', lineBreak: false });
  }

  // Month ticks (every k-th labelled so that labels never collide).
  const months: string[] = [];
  for (let m = `${from.slice(0, 7)}-01`; m <= to; m = nextMonth(m)) months.push(m < from ? from : m);
  const every = Math.max(1, Math.ceil(months.length / 12));
  months.forEach((m, i) => {
    const x = xOf(m);
    doc.moveTo(x, yBottom).lineTo(x, yBottom + 3).lineWidth(0.5).strokeColor(COLOR_MUTED).stroke();
    if (i % every === 0) {
      const label = `${SHORT_MONTHS[lang][Number(m.slice(5, 7)) - 1]} ${m.slice(2, 4)}`;
      doc.fillColor(COLOR_MUTED).text(label, x - 20, yBottom + 5, { width: 40, align: 'center', lineBreak: false });
    }
  });

  // Cumulative money: up to the report's day, not into the future.
  const end = report.generatedOn < to ? report.generatedOn : to;
  if (end >= from) {
    const path: [number, number][] = [[xOf(from), yOf(0)]];
    for (const p of points) {
      if (p.on > end) break;
      const x = xOf(p.on);
      path.push([x, path[path.length - 1][1]], [x, yOf(p.cumulativeCents)]);
    }
    path.push([xOf(end), path[path.length - 1][1]]);
    doc.moveTo(path[0][0], yBottom);
    for (const [x, y] of path) doc.lineTo(x, y);
    doc.lineTo(path[path.length - 1][0], yBottom).closePath().fill(COLOR_AREA);
    doc.moveTo(path[0][0], path[0][1]);
    for (const [x, y] of path.slice(1)) doc.lineTo(x, y);
    doc.lineWidth(1.6).strokeColor(COLOR_ACCENT).stroke();
  }

  // The goal.
  if (goal !== null) {
    const y = yOf(goal);
    doc.moveTo(x0, y).lineTo(x1, y).lineWidth(1.2).dash(5, { space: 3 }).strokeColor(COLOR_GOAL).stroke();
    doc.undash();
  }

  // Legend.
  const ly = top + chartHeight - 8;
  doc.moveTo(x0, ly + 3.5).lineTo(x0 + 18, ly + 3.5).lineWidth(1.6).strokeColor(COLOR_ACCENT).stroke();
  doc.font(REGULAR).fontSize(8).fillColor(COLOR_TEXT);
  const receivedLabel = t('report.pdf.chartReceived', { amount: formatEuros(last, lang) }, lang);
  doc.text(receivedLabel, x0 + 23, ly, { lineBreak: false });
  if (goal !== null) {
    const gx = x0 + 23 + doc.widthOfString(receivedLabel) + 20;
    doc.moveTo(gx, ly + 3.5).lineTo(gx + 18, ly + 3.5).lineWidth(1.2).dash(5, { space: 3 }).strokeColor(COLOR_GOAL).stroke();
    doc.undash();
    const goalLabel = t('report.pdf.chartGoal', { amount: formatEuros(goal, lang) }, lang);
    doc.fillColor(COLOR_TEXT).text(goalLabel, gx + 23, ly, { lineBreak: false });
  }
  doc.x = left;
  doc.y = top + chartHeight + 4;
  doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
}

/**
 * Column widths from their shares, widened so that no word of a header or cell is cut in the
 * middle (pdfkit breaks a word that does not fit), the room taken from columns that have some.
 */
function fitColumns(doc: Doc, columns: Column[], rows: string[][], size: number, padX: number, width: number): number[] {
  const widest = (text: string, font: string) => {
    doc.font(font).fontSize(size);
    return Math.max(0, ...text.split(/[ \n]+/).map((word) => doc.widthOfString(word)));
  };
  const needs = columns.map((c, i) => Math.ceil(Math.max(widest(c.header, BOLD), ...rows.map((r) => widest(r[i] ?? '', BOLD)))) + 2 * padX + 1);
  const widths = columns.map((c) => c.width * width);
  const missing = widths.reduce((sum, w, i) => sum + Math.max(needs[i] - w, 0), 0);
  const slack = widths.reduce((sum, w, i) => sum + Math.max(w - needs[i], 0), 0);
  if (missing === 0 || slack < missing) return widths;
  return widths.map((w, i) => (w < needs[i] ? needs[i] : w - ((w - needs[i]) / slack) * missing));
}

function nextMonth(firstOfMonth: string): string {
  const y = Number(firstOfMonth.slice(0, 4));
  const m = Number(firstOfMonth.slice(5, 7));
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

/** How many sponsor dossiers and applications ended in each stage, as horizontal bars. */
function drawStageBars(doc: Doc, report: Report, left: number, width: number, say: (key: MessageKey) => string): void {
  const labelWidth = 170;
  const barRoom = width - labelWidth - 40;
  const rowHeight = 13;
  const max = Math.max(...report.outcomesByStage.map((o) => o.count));
  for (const [kind, title, color] of [
    ['sponsor', say('report.pdf.stagesSponsors'), COLOR_ACCENT],
    ['application', say('report.pdf.stagesFunders'), COLOR_FUNDER],
  ] as const) {
    const rows = report.outcomesByStage.filter((o) => o.kind === kind);
    if (!rows.length) continue;
    if (doc.y + 16 + rowHeight * Math.min(rows.length, 3) > doc.page.height - doc.page.margins.bottom) doc.addPage();
    doc.font(BOLD).fontSize(9.5).fillColor(COLOR_TEXT).text(title, left, doc.y, { width });
    doc.moveDown(0.2);
    for (const row of rows) {
      if (doc.y + rowHeight > doc.page.height - doc.page.margins.bottom) doc.addPage();
      const y = doc.y;
      doc.font(REGULAR).fontSize(8.5).fillColor(COLOR_TEXT).text(row.label, left, y + 1.5, { width: labelWidth - 8, align: 'right', lineBreak: false, ellipsis: true });
      const barWidth = Math.max((row.count / max) * barRoom, 1.5);
      doc.rect(left + labelWidth, y + 1.5, barWidth, rowHeight - 4).fill(color);
      doc.fillColor(COLOR_TEXT).text(String(row.count), left + labelWidth + barWidth + 5, y + 1.5, { lineBreak: false });
      doc.x = left;
      doc.y = y + rowHeight;
    }
    doc.moveDown(0.5);
  }
  doc.font(REGULAR).fontSize(BODY_SIZE).fillColor(COLOR_TEXT);
}
