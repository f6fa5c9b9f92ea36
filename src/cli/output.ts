import { formatDateTime } from '../domain/dates';
import { currentLanguage, t } from '../i18n';

/** What every CLI command prints with: plain lines, JSON, dates and tables in the user's language. */
export const out = (line = '') => void process.stdout.write(line + '\n');
export const json = (value: unknown) => out(JSON.stringify(value, null, 2));
export const when = (iso: string | Date | null | undefined) => (iso ? formatDateTime(iso, currentLanguage()) : '—');
export const stage = (s: string) => t(`stage.${s}` as never);
export const fr = () => currentLanguage() === 'fr';

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][], align: ('left' | 'right')[] = []): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (c: string, i: number) => (align[i] === 'right' ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i]));
  const line = (cells: string[]) => cells.map(pad).join('  ').trimEnd();
  out(line(headers));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  rows.forEach((r) => out(line(r)));
}
