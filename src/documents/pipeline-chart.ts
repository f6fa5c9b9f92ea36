/**
 * The treasurer's two charts as standalone SVG (xmlns, width and height, a white background,
 * generic sans-serif): money received against the campaign goal over time, and the pipeline by
 * stage. Pure: data and already-translated labels in, a string out, the same bytes for the same
 * data (coordinates rounded to a tenth of a pixel, month names from fixed tables rather than
 * the platform's locale data).
 */
export type ChartLang = 'fr' | 'en';

export interface ReceivedVsGoalChart {
  lang: ChartLang;
  title: string;
  /** Legend of the cumulative line, e.g. "Reçu". */
  receivedLabel: string;
  /** Legend of the goal line, e.g. "Objectif". */
  goalLabel: string;
  /** First and last day of the period (YYYY-MM-DD, both included). */
  from: string;
  to: string;
  /** The goal; null draws no goal line. */
  goalCents: number | null;
  /** Money received per day in the period, any order (summed when a day repeats). */
  days: { day: string; cents: number }[];
  /** Where the line stops (today); defaults to the end of the period. */
  until?: string;
}

export interface StagesChart {
  lang: ChartLang;
  title: string;
  askedLabel: string;
  weightedLabel: string;
  /** Shown instead of bars when there is nothing. */
  emptyLabel: string;
  /** One group per kind (sponsors, applications), its rows in stage order. */
  groups: { label: string; rows: { label: string; askedCents: number; weightedCents: number }[] }[];
}

const MONTHS: Record<ChartLang, string[]> = {
  fr: ['janv.', 'févr.', 'mars', 'avr.', 'mai', 'juin', 'juil.', 'août', 'sept.', 'oct.', 'nov.', 'déc.'],
  en: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
};

const COLOURS = { received: '#1b7837', goal: '#c0392b', asked: '#9ecae1', weighted: '#08519c', axis: '#555555', grid: '#e5e5e5', text: '#222222' };

/** Whole euros as a reader expects them on a chart: "12 500 €" / "€12,500". */
export function formatChartEuros(cents: number, lang: ChartLang): string {
  const euros = Math.round(cents / 100);
  const grouped = String(Math.abs(euros)).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'fr' ? '\u202f' : ',');
  const sign = euros < 0 ? '-' : '';
  return lang === 'fr' ? `${sign}${grouped}\u00a0€` : `${sign}€${grouped}`;
}

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const colon = (lang: ChartLang) => (lang === 'fr' ? '\u00a0: ' : ': ');

/** A coordinate with one decimal at most ("12", "12.5"). */
const n = (v: number) => String(Math.round(v * 10) / 10);

const dayNumber = (day: string) => Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / 86_400_000;

/** The smallest "round" amount (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 × 10^k cents) at or above `value`: a fifth of it is a round tick. */
export function niceCeiling(value: number): number {
  if (value <= 100) return 100;
  const exponent = Math.floor(Math.log10(value));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 10]) {
    const candidate = Math.round(m * 10 ** exponent);
    if (candidate >= value) return candidate;
  }
  return Math.round(10 ** (exponent + 1));
}

function open(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="12" fill="${COLOURS.text}" role="img">` +
    `<title>${escapeXml(title)}</title>` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>` +
    `<text x="16" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`
  );
}

/** Cumulative money received as a step line over the period, and the goal as a dashed line. */
export function receivedVsGoalSvg(c: ReceivedVsGoalChart): string {
  const width = 720;
  const height = 360;
  const left = 96;
  const right = 24;
  const top = 56;
  const bottom = 48;
  const plotW = width - left - right;
  const plotH = height - top - bottom;

  const start = dayNumber(c.from);
  const span = Math.max(dayNumber(c.to) - start + 1, 1);
  const perDay = new Map<string, number>();
  for (const d of c.days) if (d.day >= c.from && d.day <= c.to) perDay.set(d.day, (perDay.get(d.day) ?? 0) + d.cents);
  const days = [...perDay.keys()].sort();
  let cumulative = 0;
  const points = days.map((day) => ({ day, cumulative: (cumulative += perDay.get(day)!) }));
  const total = cumulative;
  const lastDay = days.at(-1);
  let until = c.until && c.until < c.to ? c.until : c.to;
  if (lastDay && lastDay > until) until = lastDay;

  const max = niceCeiling(Math.max(total, c.goalCents ?? 0, 1) * 1.05);
  // x is the left edge of a day; a step happens at the start of the day the money came in.
  const x = (day: string) => left + ((dayNumber(day) - start) / span) * plotW;
  const xEnd = (day: string) => left + ((dayNumber(day) - start + 1) / span) * plotW;
  const y = (cents: number) => top + plotH - (cents / max) * plotH;

  const parts: string[] = [open(width, height, c.title)];
  // y grid and amounts
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const value = Math.round((max / ticks) * i);
    parts.push(
      `<line x1="${left}" y1="${n(y(value))}" x2="${left + plotW}" y2="${n(y(value))}" stroke="${i === 0 ? COLOURS.axis : COLOURS.grid}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${n(y(value) + 4)}" text-anchor="end" class="y-tick">${escapeXml(formatChartEuros(value, c.lang))}</text>`,
    );
  }
  // x axis: the first day of each month, labelled every `step` months so labels never collide
  const months: string[] = [];
  for (let year = Number(c.from.slice(0, 4)), month = Number(c.from.slice(5, 7)); ; month++) {
    if (month > 12) {
      month = 1;
      year++;
    }
    const first = `${year}-${String(month).padStart(2, '0')}-01`;
    if (first > c.to) break;
    if (first >= c.from) months.push(first);
  }
  const step = Math.max(1, Math.ceil(months.length / 12));
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
  months.forEach((first, i) => {
    const px = n(x(first));
    parts.push(`<line x1="${px}" y1="${top + plotH}" x2="${px}" y2="${top + plotH + 5}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
    if (i % step === 0) {
      const label = `${MONTHS[c.lang][Number(first.slice(5, 7)) - 1]}${first.slice(5, 7) === '01' || i === 0 ? ` ${first.slice(0, 4)}` : ''}`;
      parts.push(`<text x="${px}" y="${top + plotH + 20}" text-anchor="middle" class="x-tick">${escapeXml(label)}</text>`);
    }
  });

  // goal
  if (c.goalCents !== null && c.goalCents > 0) {
    const gy = n(y(c.goalCents));
    parts.push(
      `<line class="goal" x1="${left}" y1="${gy}" x2="${left + plotW}" y2="${gy}" stroke="${COLOURS.goal}" stroke-width="2" stroke-dasharray="6 4" data-cents="${c.goalCents}"/>`,
      `<text x="${left + plotW}" y="${n(y(c.goalCents) - 6)}" text-anchor="end" fill="${COLOURS.goal}">${escapeXml(`${c.goalLabel}${colon(c.lang)}${formatChartEuros(c.goalCents, c.lang)}`)}</text>`,
    );
  }

  // the cumulative step line, from zero at the start of the period to `until`
  let d = `M${n(left)} ${n(y(0))}`;
  for (const p of points) d += ` H${n(x(p.day))} V${n(y(p.cumulative))}`;
  d += ` H${n(xEnd(until))}`;
  parts.push(`<path class="received" d="${d}" fill="none" stroke="${COLOURS.received}" stroke-width="2.5" stroke-linejoin="round" data-cents="${total}"/>`);
  for (const p of points) {
    parts.push(`<circle class="received-point" cx="${n(x(p.day))}" cy="${n(y(p.cumulative))}" r="2.5" fill="${COLOURS.received}" data-day="${p.day}" data-cents="${p.cumulative}"/>`);
  }
  const endX = xEnd(until);
  const endLabel = `${c.receivedLabel}${colon(c.lang)}${formatChartEuros(total, c.lang)}`;
  const labelAnchor = endX > left + plotW - 160 ? 'end' : 'start';
  parts.push(
    `<text x="${n(labelAnchor === 'end' ? endX - 4 : endX + 6)}" y="${n(y(total) - 8)}" text-anchor="${labelAnchor}" fill="${COLOURS.received}" font-weight="bold" class="received-total">${escapeXml(endLabel)}</text>`,
  );

  // legend
  const ly = 40;
  parts.push(
    `<line x1="${left}" y1="${ly}" x2="${left + 24}" y2="${ly}" stroke="${COLOURS.received}" stroke-width="2.5"/>`,
    `<text x="${left + 30}" y="${ly + 4}">${escapeXml(c.receivedLabel)}</text>`,
  );
  if (c.goalCents !== null && c.goalCents > 0) {
    parts.push(
      `<line x1="${left + 150}" y1="${ly}" x2="${left + 174}" y2="${ly}" stroke="${COLOURS.goal}" stroke-width="2" stroke-dasharray="6 4"/>`,
      `<text x="${left + 180}" y="${ly + 4}">${escapeXml(c.goalLabel)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The pipeline by stage: per stage, the amount asked and the weighted forecast as horizontal bars. */
export function stagesSvg(c: StagesChart): string {
  const width = 720;
  const left = 200;
  const right = 120;
  const top = 64;
  const barH = 12;
  const rowH = barH * 2 + 12;
  const groupH = 26;
  const groups = c.groups.filter((g) => g.rows.length);
  const rows = groups.reduce((s, g) => s + g.rows.length, 0);
  const height = rows ? top + groups.length * groupH + rows * rowH + 16 : 120;
  const plotW = width - left - right;
  const parts: string[] = [open(width, height, c.title)];

  parts.push(
    `<rect x="${left}" y="34" width="14" height="10" fill="${COLOURS.asked}"/>`,
    `<text x="${left + 20}" y="43">${escapeXml(c.askedLabel)}</text>`,
    `<rect x="${left + 160}" y="34" width="14" height="10" fill="${COLOURS.weighted}"/>`,
    `<text x="${left + 180}" y="43">${escapeXml(c.weightedLabel)}</text>`,
  );
  if (!rows) {
    parts.push(`<text x="16" y="84" class="empty">${escapeXml(c.emptyLabel)}</text></svg>`);
    return parts.join('');
  }

  const max = niceCeiling(Math.max(1, ...groups.flatMap((g) => g.rows.flatMap((r) => [r.askedCents, r.weightedCents]))));
  const w = (cents: number) => (Math.max(cents, 0) / max) * plotW;
  let yy = top;
  for (const g of groups) {
    parts.push(`<text x="16" y="${n(yy + 16)}" font-weight="bold" class="group">${escapeXml(g.label)}</text>`);
    yy += groupH;
    for (const r of g.rows) {
      parts.push(`<text x="${left - 8}" y="${n(yy + barH + 4)}" text-anchor="end" class="stage">${escapeXml(r.label)}</text>`);
      for (const [i, kind, cents] of [[0, 'asked', r.askedCents], [1, 'weighted', r.weightedCents]] as const) {
        const by = yy + i * barH;
        const bw = w(cents);
        parts.push(
          `<rect class="bar ${kind}" x="${left}" y="${n(by)}" width="${n(bw)}" height="${barH - 1}" fill="${COLOURS[kind]}" data-cents="${cents}"/>`,
          `<text x="${n(left + bw + 6)}" y="${n(by + barH - 2)}" font-size="11" class="value">${escapeXml(formatChartEuros(cents, c.lang))}</text>`,
        );
      }
      yy += rowH;
    }
  }
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${n(yy)}" stroke="${COLOURS.axis}" stroke-width="1"/>`);
  parts.push('</svg>');
  return parts.join('');
}
