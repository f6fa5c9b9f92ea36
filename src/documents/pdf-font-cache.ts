/**
 * Process-wide caches for the fontkit work pdfkit does on every document: text shaping
 * (`font.layout`) and TrueType subsetting (`subset.encode`). They make the 2nd to Nth proposal
 * of a campaign cheap, because almost every word and most glyph sets repeat between sponsors.
 *
 * The rule: a cache may make a document cheaper, never different. Every document still gets its
 * own fontkit Font (see proposal-pdf.ts for why a shared one breaks ToUnicode), and the caches
 * only hand it what fontkit would have computed for that very Font, given what that Font has
 * seen so far in this document.
 *
 * Shaping. fontkit's `layout(text)` result depends on the font tables, the text and the
 * features, but ALSO on the Font's glyph cache: fontkit creates each Glyph once per Font, with
 * the code points of its first request, and later requests for the same glyph id get that Glyph
 * (same code points) back. Those code points end up in the ToUnicode map, and the shaper reads
 * them too. So a cached run is only valid for a document whose Font holds, for every glyph id
 * the shaping touched, either no Glyph yet or a Glyph with the same code points:
 *   - on a miss we shape the text on a brand-new Font (empty glyph cache) and record the glyph
 *     ids and code points that shaping created, the resulting glyph ids, and the positions;
 *   - on a hit we first check the document Font's glyph cache against that record; if it
 *     agrees, shaping on the document Font would run exactly as on the fresh one, so we create
 *     the missing Glyphs with the recorded code points (what that shaping would have done)
 *     and return the recorded run made of the document Font's own Glyph objects, with fresh
 *     position objects (pdfkit scales them in place). If it disagrees (e.g. a glyph first
 *     typed as U+00A0 and now as U+0020 in a font that maps both to one glyph) we shape for
 *     real on the document Font, as pdfkit would have.
 *
 * Subsetting. `subset.encode()` is a pure function of the font tables and of the ordered list
 * of glyph ids included so far (fontkit appends the components of composite glyphs while it
 * encodes). We memoise the bytes by that list, and replay the component inclusion on a hit
 * so the Subset object ends in the same state. The cached bytes are shared between documents:
 * pdfkit copies them (concat + deflate) and never writes into them.
 *
 * Guards: both paths rely on fontkit 2.0.x details (the Font's private `_glyphs` cache, the
 * GlyphRun/GlyphPosition shapes, `Subset.glyphs`). `FontFace` checks them when it is created
 * and runs one probe text through both the cached and the real shaping; if anything is off the
 * caches are simply not installed (slower, same bytes). `fontCacheStats` lets the tests assert
 * that the fast path is really taken, and `setFontCaching(false)` lets them compare its output
 * with the slow path byte for byte.
 */

export interface FontkitGlyph {
  id: number;
  codePoints: number[];
  advanceWidth: number;
}

export interface FontkitPosition {
  xAdvance: number;
  yAdvance: number;
  xOffset: number;
  yOffset: number;
}

export interface FontkitRun {
  glyphs: FontkitGlyph[];
  positions: FontkitPosition[];
  script?: unknown;
  language?: unknown;
  direction?: unknown;
  features?: unknown;
  readonly advanceWidth: number;
}

export interface FontkitSubset {
  glyphs: number[];
  includeGlyph(glyph: number): number;
  encode(): Uint8Array;
}

/** The part of fontkit's Font that we (and pdfkit, which duck-types on `layout`) rely on. */
export interface FontkitFont {
  postscriptName: string;
  layout(text: string, features?: unknown, ...rest: unknown[]): FontkitRun;
  getGlyph(id: number, codePoints?: number[]): FontkitGlyph;
  createSubset(): FontkitSubset;
}

/** fontkit 2.0.x internals we read (guarded). */
interface FontkitInternals {
  _tables?: unknown;
  _glyphs?: Record<number, FontkitGlyph | undefined>;
}

const internals = (font: FontkitFont) => font as unknown as FontkitInternals;

// ---------------------------------------------------------------------------
// Stats and switch (for tests and diagnostics).

export const fontCacheStats = {
  /** `layout` calls answered from the shaping cache. */
  shapeHits: 0,
  /** `layout` calls that shaped the text on a fresh Font and stored the result. */
  shapeMisses: 0,
  /** Cached runs rejected because the document Font's glyph cache disagreed: shaped for real. */
  shapeConflicts: 0,
  /** `layout` calls the cache does not handle (features object, extra arguments...). */
  shapeBypassed: 0,
  subsetHits: 0,
  subsetMisses: 0,
};

export function resetFontCacheStats(): void {
  for (const key of Object.keys(fontCacheStats) as (keyof typeof fontCacheStats)[]) fontCacheStats[key] = 0;
}

let cachingEnabled = true;

/** Turn the caches off (fonts created afterwards take pdfkit's/fontkit's own path) or on again. */
export function setFontCaching(enabled: boolean): void {
  cachingEnabled = enabled;
}

// ---------------------------------------------------------------------------
// A bounded map: two generations, so entries used by every document (the static text) stay,
// while one-off entries (sponsor names, amounts) age out. Cheap: no reordering on a hit in the
// young generation.

class GenerationalCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly generationSize: number) {}

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const survivor = this.old.get(key);
    if (survivor !== undefined) this.set(key, survivor);
    return survivor;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

// ---------------------------------------------------------------------------
// Shaping.

interface ShapedText {
  /** Every Glyph the shaping created on a fresh Font: id and code points. */
  createdIds: number[];
  createdCodePoints: number[][];
  /** The run: glyph ids, and positions as [xAdvance, yAdvance, xOffset, yOffset] * n. */
  ids: number[];
  positions: Float64Array;
  script: unknown;
  language: unknown;
  direction: unknown;
  features: Record<string, boolean>;
}

/** fontkit's GlyphPosition own keys, in order: pdfkit scales them with a for...in loop. */
const POSITION_KEYS = ['xAdvance', 'yAdvance', 'xOffset', 'yOffset'] as const;

/** Same shape and getters as fontkit's GlyphRun for what pdfkit reads. */
class CachedRun implements FontkitRun {
  constructor(
    public glyphs: FontkitGlyph[],
    public positions: FontkitPosition[],
    public script: unknown,
    public language: unknown,
    public direction: unknown,
    public features: Record<string, boolean>,
  ) {}

  /** Summed in order, like fontkit's getter (pdfkit reads it after scaling the positions). */
  get advanceWidth(): number {
    let width = 0;
    for (const position of this.positions) width += position.xAdvance;
    return width;
  }

  get advanceHeight(): number {
    let height = 0;
    for (const position of this.positions) height += position.yAdvance;
    return height;
  }
}

function sameCodePoints(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Cache key for the features pdfkit may pass; null when we leave the call to fontkit. */
function featuresKey(features: unknown): string | null {
  if (features === undefined) return '';
  if (Array.isArray(features) && features.every((f) => typeof f === 'string')) return features.join(',');
  return null;
}

// ---------------------------------------------------------------------------
// Subsetting.

interface EncodedSubset {
  bytes: Uint8Array;
  /** `subset.glyphs` after encoding: the input list plus the components fontkit appended. */
  glyphsAfter: number[];
}

// ---------------------------------------------------------------------------

/** Shaping results kept per face (words, with their trailing space, in practice). */
const SHAPE_GENERATION = 20_000;
/** Encoded subsets kept per face (~40 KB each). */
const SUBSET_GENERATION = 32;

/**
 * One font file: its bytes, a template Font whose decoded tables every document Font shares,
 * and the shaping and subset caches for that file.
 */
export class FontFace {
  private readonly template: FontkitFont;
  private readonly shapes = new GenerationalCache<ShapedText | null>(SHAPE_GENERATION);
  private readonly subsets = new GenerationalCache<EncodedSubset>(SUBSET_GENERATION);
  /** Whether fontkit looks like the version the caches were written for (checked once). */
  private readonly cacheable: boolean;

  constructor(
    private readonly file: Buffer,
    private readonly create: (data: Uint8Array) => FontkitFont,
  ) {
    this.template = create(file);
    this.cacheable = this.checkFontkit();
  }

  /**
   * A Font with its own glyph cache, reusing the template's decoded tables (decoding DejaVu's
   * cmap/GSUB/GPOS/hmtx costs more than a whole proposal). Decoded tables are read-only data
   * (the subsetter clones head/hhea/maxp before changing them) and all fontkit work runs
   * synchronously inside one render, so sharing them is safe. `_tables` is fontkit's private
   * table cache: should it ever disappear, each document decodes its own tables (slower, same
   * bytes).
   */
  private freshFont(): FontkitFont {
    const font = this.create(this.file);
    const shared = internals(this.template)._tables;
    const own = internals(font);
    if (shared !== null && typeof shared === 'object' && own._tables !== null && typeof own._tables === 'object') {
      own._tables = shared;
    }
    return font;
  }

  /** The Font for one document: fresh glyph cache, shared tables, caches installed if safe. */
  documentFont(): FontkitFont {
    const font = this.freshFont();
    if (this.cacheable && cachingEnabled) this.install(font);
    return font;
  }

  private install(font: FontkitFont): void {
    const realLayout = font.layout;
    const realCreateSubset = font.createSubset;
    font.layout = (text: string, features?: unknown, ...rest: unknown[]): FontkitRun => {
      const run = rest.length === 0 && typeof text === 'string' ? this.cachedLayout(font, text, features) : null;
      return run ?? realLayout.call(font, text, features, ...rest);
    };
    font.createSubset = (): FontkitSubset => this.cachingSubset(realCreateSubset.call(font));
  }

  // --- shaping ---------------------------------------------------------------

  /** The run fontkit would return for `font.layout(text, features)`, or null to let fontkit do it. */
  private cachedLayout(font: FontkitFont, text: string, features: unknown): FontkitRun | null {
    const fkey = featuresKey(features);
    if (fkey === null) {
      fontCacheStats.shapeBypassed++;
      return null;
    }
    const key = fkey + '\u0000' + text;
    let shaped = this.shapes.get(key);
    if (shaped === undefined) {
      shaped = this.shapeOnFreshFont(text, features as string[] | undefined);
      this.shapes.set(key, shaped);
      fontCacheStats.shapeMisses++;
    } else if (shaped !== null) {
      fontCacheStats.shapeHits++;
    }
    if (shaped === null) {
      fontCacheStats.shapeBypassed++;
      return null;
    }
    const run = this.replay(font, shaped);
    if (run === null) fontCacheStats.shapeConflicts++;
    return run;
  }

  /** Shape on a Font with an empty glyph cache and record what that did; null if not recordable. */
  private shapeOnFreshFont(text: string, features: string[] | undefined): ShapedText | null {
    const font = this.freshFont();
    const run = font.layout(text, features ? [...features] : undefined);
    const glyphCache = internals(font)._glyphs;
    if (glyphCache === null || typeof glyphCache !== 'object') return null;

    const createdIds: number[] = [];
    const createdCodePoints: number[][] = [];
    for (const [id, glyph] of Object.entries(glyphCache)) {
      if (!glyph) continue;
      createdIds.push(Number(id));
      createdCodePoints.push([...glyph.codePoints]);
    }
    const n = run.glyphs.length;
    if (run.positions.length !== n) return null;
    const ids = new Array<number>(n);
    const positions = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      const glyph = run.glyphs[i];
      // every glyph of the run must come from the glyph cache we replay
      if (glyphCache[glyph.id] !== glyph) return null;
      ids[i] = glyph.id;
      const position = run.positions[i];
      const keys = Object.keys(position);
      if (keys.length !== POSITION_KEYS.length || keys.some((k, j) => k !== POSITION_KEYS[j])) return null;
      positions[4 * i] = position.xAdvance;
      positions[4 * i + 1] = position.yAdvance;
      positions[4 * i + 2] = position.xOffset;
      positions[4 * i + 3] = position.yOffset;
    }
    const runFeatures = run.features;
    if (runFeatures === null || typeof runFeatures !== 'object') return null;
    return {
      createdIds,
      createdCodePoints,
      ids,
      positions,
      script: run.script,
      language: run.language,
      direction: run.direction,
      features: { ...(runFeatures as Record<string, boolean>) },
    };
  }

  /** The recorded run on `font`'s own Glyphs, or null if `font`'s glyph cache disagrees. */
  private replay(font: FontkitFont, shaped: ShapedText): FontkitRun | null {
    const glyphCache = internals(font)._glyphs;
    if (glyphCache === null || typeof glyphCache !== 'object') return null;
    const { createdIds, createdCodePoints } = shaped;
    for (let i = 0; i < createdIds.length; i++) {
      const existing = glyphCache[createdIds[i]];
      if (existing && !sameCodePoints(existing.codePoints, createdCodePoints[i])) return null;
    }
    for (let i = 0; i < createdIds.length; i++) {
      if (!glyphCache[createdIds[i]]) font.getGlyph(createdIds[i], [...createdCodePoints[i]]);
    }
    const { ids, positions: p } = shaped;
    const glyphs = new Array<FontkitGlyph>(ids.length);
    const positions = new Array<FontkitPosition>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const glyph = glyphCache[ids[i]];
      if (!glyph) return null; // cannot happen: every run glyph was created above or before
      glyphs[i] = glyph;
      positions[i] = { xAdvance: p[4 * i], yAdvance: p[4 * i + 1], xOffset: p[4 * i + 2], yOffset: p[4 * i + 3] };
    }
    return new CachedRun(glyphs, positions, shaped.script, shaped.language, shaped.direction, { ...shaped.features });
  }

  // --- subsetting ------------------------------------------------------------

  private cachingSubset(subset: FontkitSubset): FontkitSubset {
    if (!Array.isArray(subset.glyphs) || typeof subset.encode !== 'function' || typeof subset.includeGlyph !== 'function') {
      return subset;
    }
    const realEncode = subset.encode;
    subset.encode = (): Uint8Array => {
      const before = subset.glyphs.length;
      const key = subset.glyphs.join(',');
      const cached = this.subsets.get(key);
      if (cached) {
        fontCacheStats.subsetHits++;
        for (let i = before; i < cached.glyphsAfter.length; i++) subset.includeGlyph(cached.glyphsAfter[i]);
        return cached.bytes;
      }
      fontCacheStats.subsetMisses++;
      const bytes = realEncode.call(subset);
      this.subsets.set(key, { bytes, glyphsAfter: [...subset.glyphs] });
      return bytes;
    };
    return subset;
  }

  // --- guard -----------------------------------------------------------------

  /**
   * True if this fontkit has what the caches rely on, and the cached shaping of a probe text
   * matches fontkit's own, glyph for glyph (ids, code points, positions, advance).
   */
  private checkFontkit(): boolean {
    try {
      const plain = this.freshFont();
      const glyphCache = internals(plain)._glyphs;
      if (glyphCache === null || typeof glyphCache !== 'object') return false;
      if (typeof plain.getGlyph !== 'function' || typeof plain.createSubset !== 'function') return false;
      const subset = plain.createSubset();
      if (!Array.isArray(subset.glyphs) || typeof subset.includeGlyph !== 'function') return false;

      // Twice the same word through the cache: once recorded (miss), once replayed (hit); and a
      // word whose glyphs partly exist already.
      const probe = ['Façade', 'Ωmega', 'Łódź', 'fin.', '2\u00a0500,00\u00a0€ ', 'AVA ', 'Façade'];
      const cached = this.freshFont();
      const shapes = new Map<string, ShapedText | null>();
      for (const text of probe) {
        const expected = plain.layout(text);
        if (!shapes.has(text)) shapes.set(text, this.shapeOnFreshFont(text, undefined));
        const shaped = shapes.get(text);
        if (!shaped) return false;
        const got = this.replay(cached, shaped);
        if (!got || !sameRun(expected, got)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }
}

function sameRun(a: FontkitRun, b: FontkitRun): boolean {
  if (a.glyphs.length !== b.glyphs.length || a.positions.length !== b.positions.length) return false;
  if (a.advanceWidth !== b.advanceWidth) return false;
  for (let i = 0; i < a.glyphs.length; i++) {
    const ga = a.glyphs[i];
    const gb = b.glyphs[i];
    if (ga.id !== gb.id || !sameCodePoints(ga.codePoints, gb.codePoints) || ga.advanceWidth !== gb.advanceWidth) return false;
    const pa = a.positions[i] as unknown as Record<string, number>;
    const pb = b.positions[i] as unknown as Record<string, number>;
    const ka = Object.keys(pa);
    const kb = Object.keys(pb);
    if (ka.length !== kb.length || ka.some((k, j) => k !== kb[j] || pa[k] !== pb[k])) return false;
  }
  return true;
}
