/**
 * A TrueType subset encoder that writes exactly the bytes of fontkit 2.0.x's `TTFSubset.encode()`
 * (the font program pdfkit embeds), from tables read once per process.
 *
 * Why: fontkit re-decodes every included glyph's outline (just to find composite components),
 * re-reads hmtx through its glyph objects, and re-encodes the tables through `restructure`:
 * about 2 ms per font per document, the biggest cost of a proposal once shaping is cached. Here
 * each glyph's raw `glyf` bytes, components and metrics are looked up once per process and a
 * subset is a few buffer copies.
 *
 * The layout copied from fontkit (fontkit/src/subset/TTFSubset.js + tables/directory.js):
 *   - the directory tag is 'true', table checksums are 0, tables follow the directory in the
 *     order head, hhea, loca, maxp, cvt , prep, glyf, hmtx, fpgm (absent ones skipped), with
 *     no padding;
 *   - head/hhea/maxp are the font's tables with indexToLocFormat / numberOfMetrics / numGlyphs
 *     set; cvt, prep, fpgm are copied whole;
 *   - glyphs are written in subset order; a composite glyph pulls its components into the
 *     subset (appended, in order) and gets their subset ids patched in; hmtx has one long
 *     metric per glyph.
 * `FontFace` (pdf-font-cache.ts) compares this encoder with fontkit's on a probe set of glyphs
 * (composites included) before using it, and the unit tests compare whole documents with the
 * slow path, so a fontkit upgrade that changes its output simply turns this encoder off.
 */

interface TableRecord {
  offset: number;
  length: number;
}

interface GlyphRecord {
  /** The glyph's bytes in the font file (a view: never written to). */
  data: Uint8Array;
  /** For a composite glyph: its components' glyph ids, and where each id sits in `data`. */
  componentIds: number[];
  componentPositions: number[];
  advance: number;
  bearing: number;
}

// composite glyph flags (OpenType spec, 'glyf' table)
const ARG_1_AND_2_ARE_WORDS = 0x0001;
const WE_HAVE_A_SCALE = 0x0008;
const MORE_COMPONENTS = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE = 0x0040;
const WE_HAVE_A_TWO_BY_TWO = 0x0080;

/** The tables of a subset, in fontkit's order. */
const SUBSET_TABLES = ['head', 'hhea', 'loca', 'maxp', 'cvt ', 'prep', 'glyf', 'hmtx', 'fpgm'] as const;

export interface EncodedSubset {
  bytes: Uint8Array;
  /** The input glyph ids followed by the composite components the encoding pulled in. */
  glyphs: number[];
}

export class TrueTypeSubsetter {
  private readonly view: DataView;
  private readonly tables = new Map<string, TableRecord>();
  private readonly locaLong: boolean;
  private readonly numGlyphs: number;
  private readonly numberOfHMetrics: number;
  private readonly glyphs = new Map<number, GlyphRecord>();

  constructor(private readonly file: Uint8Array) {
    this.view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const numTables = this.view.getUint16(4);
    for (let i = 0; i < numTables; i++) {
      const entry = 12 + 16 * i;
      const tag = String.fromCharCode(file[entry], file[entry + 1], file[entry + 2], file[entry + 3]);
      this.tables.set(tag, { offset: this.view.getUint32(entry + 8), length: this.view.getUint32(entry + 12) });
    }
    for (const tag of ['head', 'hhea', 'maxp', 'loca', 'glyf', 'hmtx']) {
      if (!this.tables.has(tag)) throw new Error(`TrueTypeSubsetter: no '${tag}' table`);
    }
    this.locaLong = this.view.getInt16(this.table('head').offset + 50) === 1;
    this.numGlyphs = this.view.getUint16(this.table('maxp').offset + 4);
    this.numberOfHMetrics = this.view.getUint16(this.table('hhea').offset + 34);
  }

  private table(tag: string): TableRecord {
    const table = this.tables.get(tag);
    if (!table) throw new Error(`TrueTypeSubsetter: no '${tag}' table`);
    return table;
  }

  private glyph(id: number): GlyphRecord {
    let record = this.glyphs.get(id);
    if (record) return record;
    if (!Number.isInteger(id) || id < 0 || id >= this.numGlyphs) throw new Error(`TrueTypeSubsetter: no glyph ${id}`);
    const v = this.view;
    const loca = this.table('loca').offset;
    const start = this.locaLong ? v.getUint32(loca + 4 * id) : 2 * v.getUint16(loca + 2 * id);
    const end = this.locaLong ? v.getUint32(loca + 4 * id + 4) : 2 * v.getUint16(loca + 2 * id + 2);
    const glyf = this.table('glyf').offset;
    const data = this.file.subarray(glyf + start, glyf + end);

    const componentIds: number[] = [];
    const componentPositions: number[] = [];
    if (data.length > 0 && v.getInt16(glyf + start) < 0) {
      let pos = 10; // after numberOfContours and the bounding box
      let flags = MORE_COMPONENTS;
      while (flags & MORE_COMPONENTS) {
        flags = v.getUint16(glyf + start + pos);
        componentPositions.push(pos + 2);
        componentIds.push(v.getUint16(glyf + start + pos + 2));
        pos += 4 + (flags & ARG_1_AND_2_ARE_WORDS ? 4 : 2);
        if (flags & WE_HAVE_A_SCALE) pos += 2;
        else if (flags & WE_HAVE_AN_X_AND_Y_SCALE) pos += 4;
        else if (flags & WE_HAVE_A_TWO_BY_TWO) pos += 8;
      }
    }

    // hmtx: numberOfHMetrics (advance, bearing) pairs, then bearings only (advance = the last one's)
    const hmtx = this.table('hmtx').offset;
    const metrics = this.numberOfHMetrics;
    const advance = v.getUint16(hmtx + 4 * (Math.min(id, metrics - 1)));
    const bearing = id < metrics ? v.getInt16(hmtx + 4 * id + 2) : v.getInt16(hmtx + 4 * metrics + 2 * (id - metrics));

    record = { data, componentIds, componentPositions, advance, bearing };
    this.glyphs.set(id, record);
    return record;
  }

  /** The subset font program for these glyph ids (subset glyph i is `glyphIds[i]`). */
  encode(glyphIds: readonly number[]): EncodedSubset {
    const glyphs = [...glyphIds];
    const mapping = new Map<number, number>();
    glyphs.forEach((id, i) => {
      if (!mapping.has(id)) mapping.set(id, i);
    });
    const include = (id: number) => {
      let index = mapping.get(id);
      if (index === undefined) {
        index = glyphs.length;
        glyphs.push(id);
        mapping.set(id, index);
      }
      return index;
    };

    // glyf: the list grows while we walk it (components of composite glyphs)
    const records: GlyphRecord[] = [];
    const patches: number[][] = [];
    let glyfLength = 0;
    for (let i = 0; i < glyphs.length; i++) {
      const record = this.glyph(glyphs[i]);
      records.push(record);
      patches.push(record.componentIds.map(include));
      glyfLength += record.data.length;
    }
    const count = records.length;

    const raw = (tag: string) => {
      const t = this.tables.get(tag);
      return t ? this.file.subarray(t.offset, t.offset + t.length) : null;
    };
    const lengths: Record<(typeof SUBSET_TABLES)[number], number> = {
      head: this.table('head').length,
      hhea: this.table('hhea').length,
      loca: (count + 1) * (this.locaLong ? 4 : 2),
      maxp: this.table('maxp').length,
      'cvt ': raw('cvt ')?.length ?? 0,
      prep: raw('prep')?.length ?? 0,
      glyf: glyfLength,
      hmtx: 4 * count,
      fpgm: raw('fpgm')?.length ?? 0,
    };
    const present = SUBSET_TABLES.filter((tag) => !(tag === 'cvt ' || tag === 'prep' || tag === 'fpgm') || raw(tag));

    const numTables = present.length;
    const maxPowerOf2 = 2 ** Math.floor(Math.log2(numTables));
    const headerLength = 12 + 16 * numTables;
    let total = headerLength;
    for (const tag of present) total += lengths[tag];
    const out = new Uint8Array(total);
    const w = new DataView(out.buffer);

    out.set([0x74, 0x72, 0x75, 0x65]); // 'true'
    w.setUint16(4, numTables);
    w.setUint16(6, maxPowerOf2 * 16);
    w.setUint16(8, Math.log2(maxPowerOf2));
    w.setUint16(10, numTables * 16 - maxPowerOf2 * 16);

    let offset = headerLength;
    present.forEach((tag, i) => {
      const entry = 12 + 16 * i;
      for (let c = 0; c < 4; c++) out[entry + c] = tag.charCodeAt(c);
      // checksum (entry + 4) stays 0, as fontkit writes it
      w.setUint32(entry + 8, offset);
      w.setUint32(entry + 12, lengths[tag]);

      switch (tag) {
        case 'head':
          out.set(raw('head')!, offset);
          w.setInt16(offset + 50, this.locaLong ? 1 : 0); // indexToLocFormat
          break;
        case 'hhea':
          out.set(raw('hhea')!, offset);
          w.setUint16(offset + 34, count); // numberOfMetrics
          break;
        case 'maxp':
          out.set(raw('maxp')!, offset);
          w.setUint16(offset + 4, count); // numGlyphs
          break;
        case 'loca': {
          let at = 0;
          for (let g = 0; g <= count; g++) {
            if (this.locaLong) w.setUint32(offset + 4 * g, at);
            else w.setUint16(offset + 2 * g, at >>> 1);
            if (g < count) at += records[g].data.length;
          }
          break;
        }
        case 'glyf': {
          let at = offset;
          records.forEach((record, g) => {
            out.set(record.data, at);
            record.componentPositions.forEach((pos, c) => w.setUint16(at + pos, patches[g][c]));
            at += record.data.length;
          });
          break;
        }
        case 'hmtx':
          records.forEach((record, g) => {
            w.setUint16(offset + 4 * g, record.advance);
            w.setInt16(offset + 4 * g + 2, record.bearing);
          });
          break;
        default: // cvt , prep, fpgm
          out.set(raw(tag)!, offset);
      }
      offset += lengths[tag];
    });
    return { bytes: out, glyphs };
  }
}
