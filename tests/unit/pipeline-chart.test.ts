import { describe, expect, it } from 'vitest';
import { formatChartEuros, niceCeiling, receivedVsGoalSvg, stagesSvg, type ReceivedVsGoalChart, type StagesChart } from '../../src/documents/pipeline-chart';

/**
 * A strict well-formedness check (no XML parser among the dependencies): one root, every tag
 * closed in order, attributes quoted and not repeated, `<` never loose, `&` only as an entity.
 * The browser test parses the same SVG with Chromium's XML parser.
 */
function assertWellFormedXml(xml: string): void {
  const token = /<\?xml[^?]*\?>|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  for (const m of xml.matchAll(token)) {
    const [whole, closing, name, attrs, selfClosing, text, loose] = m;
    if (loose) throw new Error(`loose "<" at ${m.index}: ${xml.slice(m.index, m.index! + 40)}`);
    if (text !== undefined) {
      if (entity.test(text)) throw new Error(`bare & in text: ${text}`);
      if (!stack.length && text.trim()) throw new Error(`text outside the root: ${text}`);
      continue;
    }
    if (!name) continue; // the XML declaration
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    const names = [...attrs.matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)].map((a) => {
      if (entity.test(a[2])) throw new Error(`bare & in attribute ${a[1]} of <${name}>`);
      return a[1];
    });
    if (new Set(names).size !== names.length) throw new Error(`repeated attribute in ${whole}`);
    if (!stack.length) roots++;
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
const tags = (svg: string, selector: RegExp) => [...svg.matchAll(selector)].map((m) => m[0]);

const received: ReceivedVsGoalChart = {
  lang: 'fr',
  title: 'Reçu face à l’objectif « Campagne 2027 <Île-de-France & Co> »',
  receivedLabel: 'Reçu',
  goalLabel: 'Objectif',
  from: '2027-01-01',
  to: '2027-12-31',
  goalCents: 5_000_000,
  days: [
    { day: '2027-03-15', cents: 1_000_000 },
    { day: '2027-01-10', cents: 250_000 },
    { day: '2027-03-15', cents: 250_050 },
    { day: '2026-12-31', cents: 999_999 }, // outside the period: ignored
  ],
  until: '2027-06-30',
};

const stages: StagesChart = {
  lang: 'fr',
  title: 'Pipeline par étape',
  askedLabel: 'Demandé',
  weightedLabel: 'Pondéré',
  emptyLabel: 'Rien',
  groups: [
    { label: 'Mécènes', rows: [{ label: 'contacté (3)', askedCents: 750_000, weightedCents: 75_000 }, { label: 'rendez-vous (1)', askedCents: 1_250_000, weightedCents: 625_000 }] },
    { label: 'Demandes de subvention', rows: [{ label: 'déposée (2)', askedCents: 3_000_000, weightedCents: 1_200_000 }] },
  ],
};

describe('received vs goal chart', () => {
  const svg = receivedVsGoalSvg(received);

  it('is a standalone, well-formed SVG with escaped text', () => {
    assertWellFormedXml(svg);
    const root = /^<svg[^>]*>/.exec(svg)![0];
    expect(attr(root, 'xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(attr(root, 'width')).toBe('720');
    expect(attr(root, 'height')).toBe('360');
    expect(attr(root, 'font-family')).toBe('sans-serif');
    expect(svg).toContain('« Campagne 2027 &lt;Île-de-France &amp; Co&gt; »');
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('is the same string for the same data, whatever the order of the days', () => {
    expect(receivedVsGoalSvg({ ...received })).toBe(svg);
    expect(receivedVsGoalSvg({ ...received, days: [...received.days].reverse() })).toBe(svg);
    expect(receivedVsGoalSvg({ ...received, goalCents: 6_000_000 })).not.toBe(svg);
  });

  it('places the goal line and the cumulative steps at their amounts', () => {
    // max = niceCeiling(5,000,000 × 1.05) = 6,000,000 cents; plot from y=56 to y=312 (256 px)
    expect(niceCeiling(5_250_000)).toBe(6_000_000);
    const y = (c: number) => Math.round((56 + 256 - (c / 6_000_000) * 256) * 10) / 10;
    const goal = tags(svg, /<line class="goal"[^>]*>/g)[0];
    expect(attr(goal, 'data-cents')).toBe('5000000');
    expect(Number(attr(goal, 'y1'))).toBe(y(5_000_000));
    const path = tags(svg, /<path class="received"[^>]*>/g)[0];
    expect(attr(path, 'data-cents')).toBe('1500050');
    const verticals = [...attr(path, 'd')!.matchAll(/V([\d.]+)/g)].map((m) => Number(m[1]));
    expect(verticals).toEqual([y(250_000), y(1_500_050)]);
    const points = tags(svg, /<circle class="received-point"[^>]*>/g).map((p) => [attr(p, 'data-day'), attr(p, 'data-cents')]);
    expect(points).toEqual([['2027-01-10', '250000'], ['2027-03-15', '1500050']]);
    // x: 10 January is 9 days into a 365-day year, the line stops at the end of 30 June (181 days)
    const horizontal = [...attr(path, 'd')!.matchAll(/H([\d.]+)/g)].map((m) => Number(m[1]));
    expect(horizontal[0]).toBe(Math.round((96 + (9 / 365) * 600) * 10) / 10);
    expect(horizontal.at(-1)).toBe(Math.round((96 + (181 / 365) * 600) * 10) / 10);
  });

  it('writes amounts the French way, and month names from its own table', () => {
    expect(svg).toContain('Objectif\u00a0: 50\u202f000\u00a0€');
    expect(svg).toContain('Reçu\u00a0: 15\u202f001\u00a0€');
    expect(svg).toContain('>60\u202f000\u00a0€</text>');
    expect(svg).toContain('>janv. 2027</text>');
    expect(svg).toContain('>févr.</text>');
    const english = receivedVsGoalSvg({ ...received, lang: 'en', goalLabel: 'Goal', receivedLabel: 'Received' });
    expect(english).toContain('Goal: €50,000');
    expect(english).toContain('>Jan 2027</text>');
  });

  it('draws no goal line without a goal', () => {
    const none = receivedVsGoalSvg({ ...received, goalCents: null });
    assertWellFormedXml(none);
    expect(none).not.toContain('class="goal"');
    expect(none).toContain('class="received"');
  });
});

describe('pipeline by stage chart', () => {
  const svg = stagesSvg(stages);

  it('is a standalone, well-formed, deterministic SVG', () => {
    assertWellFormedXml(svg);
    const root = /^<svg[^>]*>/.exec(svg)![0];
    expect(attr(root, 'xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(Number(attr(root, 'height'))).toBeGreaterThan(100);
    expect(stagesSvg(structuredClone(stages))).toBe(svg);
  });

  it('draws an asked and a weighted bar per stage, proportional to the amounts', () => {
    const bars = tags(svg, /<rect class="bar (asked|weighted)"[^>]*>/g);
    expect(bars).toHaveLength(6);
    expect(bars.map((b) => attr(b, 'data-cents'))).toEqual(['750000', '75000', '1250000', '625000', '3000000', '1200000']);
    // the scale's maximum is 3,000,000 cents over 400 px
    expect(bars.map((b) => Number(attr(b, 'width')))).toEqual([100, 10, 166.7, 83.3, 400, 160]);
    expect(svg).toContain('>30\u202f000\u00a0€</text>');
    expect(svg).toContain('>rendez-vous (1)</text>');
    expect(svg.indexOf('Mécènes')).toBeLessThan(svg.indexOf('Demandes de subvention'));
  });

  it('says so when there is nothing', () => {
    const empty = stagesSvg({ ...stages, groups: [{ label: 'Mécènes', rows: [] }] });
    assertWellFormedXml(empty);
    expect(empty).toContain('>Rien</text>');
    expect(empty).not.toContain('class="bar');
  });
});

describe('chart helpers', () => {
  it('formats whole euros and finds round maxima', () => {
    expect(formatChartEuros(1_250_049, 'fr')).toBe('12\u202f500\u00a0€');
    expect(formatChartEuros(1_250_050, 'en')).toBe('€12,501');
    expect(formatChartEuros(0, 'fr')).toBe('0\u00a0€');
    expect([1, 100, 101, 149_000, 250_000, 700_000, 760_000, 9_000_001].map(niceCeiling)).toEqual([100, 100, 150, 150_000, 250_000, 750_000, 1_000_000, 10_000_000]);
  });
});
