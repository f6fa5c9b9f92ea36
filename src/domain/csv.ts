/**
 * A small RFC 4180 reader: quoted fields, doubled quotes, newlines inside quotes, CRLF,
 * a UTF-8 BOM, and `;` or `,` as separator (French spreadsheets write `;`).
 * Each record keeps the line it starts on, so a rejected row can be named.
 */
export interface CsvRecord {
  line: number;
  values: Record<string, string>;
}

export class CsvSyntaxError extends Error {}

export function parseCsv(text: string): { headers: string[]; records: CsvRecord[] } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const firstLine = src.slice(0, src.search(/\r?\n|$/));
  const sep = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0].trim() === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  while (i < src.length) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === sep) {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) throw new CsvSyntaxError(`guillemet non fermé à partir de la ligne ${rowLine} / unclosed quote from line ${rowLine}`);
  if (field !== '' || fields.length) endRow();
  if (!rows.length) throw new CsvSyntaxError('fichier vide / empty file');
  const headers = rows[0].fields.map((h) => h.trim());
  const records = rows.slice(1).map(({ line: at, fields: values }) => {
    if (values.length > headers.length) {
      throw new CsvSyntaxError(`ligne ${at} : ${values.length} colonnes au lieu de ${headers.length} / line ${at}: ${values.length} columns instead of ${headers.length}`);
    }
    return { line: at, values: Object.fromEntries(headers.map((h, k) => [h, values[k] ?? ''])) };
  });
  return { headers, records };
}
