/**
 * Process-wide caches for the fontkit work pdfkit does on every document: text shaping
 * (`font.layout`) and TrueType subsetting (`subset.encode`). They make the 2nd to Nth proposal
 * of a campaign cheap, because almost every word repeats from one sponsor to the next.
 *
 * The rule: a cache may make a document cheaper, never different. Every document still gets its
 * own fontkit Font (see proposal-pdf.ts for why a shared one breaks ToUnicode), and the caches
 * only hand it what fontkit would have computed for that very Font, given what that Font has
 * seen so far in this document.
 *
 * Shaping. fontkit's `layout(text)` depends on the font tables, the text and the features, but
 * ALSO on the Font's glyph cache: fontkit creates each Glyph once per Font, with the code points
 * of the first `getGlyph(id, codePoints)` request, and later requests for that id get the same
 * Glyph back. Those code points end up in pdfkit's ToUnicode map, and the shaper reads them too.
 * So a shaping result is a function of the text AND of the code points of the Glyphs it touches:
 *   - on a miss we shape the text once and record, for every glyph id the shaping requested,
 *     the code points of its FIRST request: that is what a fresh Font would have created. We
 *     shape on a long-lived private Font (fast: its Glyphs and their metrics are already
 *     built) and check that each Glyph it returned carries exactly those code points; if one
 *     does not (a glyph first met through another code point, e.g. .notdef), we empty its
 *     glyph cache and shape again, which is then literally a fresh Font;
 *   - on a hit, we check the document Font's glyph cache against the record: for every
 *     recorded id, no Glyph yet or a Glyph with the recorded code points. Then shaping on the
 *     document Font would run exactly as on a fresh one, so we create the missing Glyphs with
 *     the recorded code points (what that shaping would have done) and return the recorded run,
 *     with fresh position objects (pdfkit scales them in place). If the check fails we shape
 *     for real on the document Font, as pdfkit would have.
 *
 * Subsetting. fontkit's `subset.encode()` costs ~2 ms per font per document, mostly decoding
 * every included glyph outline again. Each document's Subset keeps fontkit's bookkeeping (glyph
 * order, `includeGlyph`), but its `encode()` is done by TrueTypeSubsetter (ttf-subset.ts), which
 * writes the very same bytes from raw tables read once per process (~0.1 ms).
 *
 * Guards: this relies on fontkit 2.0.x details (the Font's private `_glyphs` cache, the
 * GlyphRun/GlyphPosition shapes, `Subset.glyphs`, the subset file layout). `FontFace` checks
 * them when it is created: it runs probe texts through both the cached and the real shaping,
 * and encodes a probe subset (composite glyphs included) both ways; whatever does not match
 * exactly is not installed (slower, same bytes). `fontCacheStats` lets the tests assert that
 * the fast paths are really taken, and `setFontCaching(false)` lets them compare the output
 * with the slow path byte for byte.
 */
import { TrueTypeSubsetter } from './ttf-subset';

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

/** fontkit 2.0.x internals we use (guarded). */
interface FontkitInternals {
  /** decoded tables, by tag */
  _tables?: unknown;
  /** the Glyph cache, by glyph id */
  _glyphs?: Record<number, FontkitGlyph | undefined>;
}

const internals = (font: FontkitFont) => font as unknown as FontkitInternals;

// ---------------------------------------------------------------------------
// Stats and switch (for tests and diagnostics).

export const fontCacheStats = {
  /** `layout` calls answered from the shaping cache. */
  shapeHits: 0,
  /** `layout` calls that shaped the text and stored the result. */
  shapeMisses: 0,
  /** Misses whose shaping met a Glyph with other code points: shaped again on an empty glyph cache. */
  shaperResets: 0,
  /** Cached runs rejected because the document Font's glyph cache disagreed: shaped for real. */
  shapeConflicts: 0,
  /** `layout` calls the cache leaves to fontkit (features object, extra arguments...). */
  shapeBypassed: 0,
  /** Subsets encoded by TrueTypeSubsetter rather than fontkit. */
  fastSubsets: 0,
};

export function resetFontCacheStats(): void {
  for (const key of Object.keys(fontCacheStats) as (keyof typeof fontCacheStats)[]) fontCacheStats[key] = 0;
}

let cachingEnabled = true;

/** Turn the caches off (Fonts created afterwards take fontkit's own paths) or on again. */
export function setFontCaching(enabled: boolean): void {
  cachingEnabled = enabled;
}

// ---------------------------------------------------------------------------
// A bounded map with two generations: entries every document uses (the static text) keep
// being promoted, one-off entries (sponsor names, amounts) age out. Nothing to do on a hit in
// the young generation.

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

/** Shaping results kept per font file, per generation (words with their trailing space, in practice). */
const SHAPE_GENERATION = 5_000;

// ---------------------------------------------------------------------------
// Shaping records and the objects handed to pdfkit.

interface ShapedText {
  /** Every glyph id the shaping requested, with the code points of its first request. */
  requestedIds: number[];
  requestedCodePoints: number[][];
  /** The run: glyph ids, their advance widths, positions as [xAdvance, yAdvance, xOffset, yOffset] * n. */
  ids: number[];
  advances: number[];
  positions: Float64Array;
  script: unknown;
  language: unknown;
  direction: unknown;
  /** Frozen: shared by every run replayed from this record (pdfkit does not read it). */
  features: Readonly<Record<string, boolean>>;
}

/** fontkit's GlyphPosition own keys, in order: pdfkit scales them with a for...in loop. */
const POSITION_KEYS = ['xAdvance', 'yAdvance', 'xOffset', 'yOffset'] as const;

/** Same data and getters as fontkit's GlyphRun, for what pdfkit reads. */
class CachedRun implements FontkitRun {
  constructor(
    public glyphs: FontkitGlyph[],
    public positions: FontkitPosition[],
    public script: unknown,
    public language: unknown,
    public direction: unknown,
    public features: Readonly<Record<string, boolean>>,
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

/**
 * A document Glyph with its advance width already known. fontkit's TrueType Glyph computes its
 * metrics by decoding the glyph header (for vertical metrics nobody here uses), once per Glyph,
 * i.e. once per glyph per document: a tenth of a proposal. pdfkit reads `id`, `codePoints` (the
 * document Glyph's own) and `advanceWidth`; every other Glyph member is forwarded to the Glyph
 * (forwardGlyphMembers), so the view behaves like the Glyph for any other reader. (Using the
 * Glyph as the view's prototype was slower: V8 reshapes objects that become prototypes.)
 */
class GlyphView implements FontkitGlyph {
  constructor(
    readonly glyph: FontkitGlyph,
    readonly advanceWidth: number,
  ) {}

  get id(): number {
    return this.glyph.id;
  }

  get codePoints(): number[] {
    return this.glyph.codePoints;
  }
}

/** What GlyphView itself provides (as own fields or accessors). */
const GLYPH_VIEW_OWN = new Set(['constructor', 'glyph', 'id', 'codePoints', 'advanceWidth']);
let glyphMembersForwarded = false;

/** Give GlyphView every other member of fontkit's Glyph (own fields and prototype chain), forwarded. */
function forwardGlyphMembers(sample: object): void {
  if (glyphMembersForwarded) return;
  glyphMembersForwarded = true;
  for (let o: object | null = sample; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (GLYPH_VIEW_OWN.has(key) || Object.prototype.hasOwnProperty.call(GlyphView.prototype, key)) continue;
      Object.defineProperty(GlyphView.prototype, key, {
        configurable: true,
        get(this: GlyphView) {
          const value = (this.glyph as unknown as Record<string, unknown>)[key];
          return typeof value === 'function' ? value.bind(this.glyph) : value;
        },
      });
    }
  }
}

function sameCodePoints(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Cache key part for the features pdfkit may pass; null when we leave the call to fontkit. */
function featuresKey(features: unknown): string | null {
  if (features === undefined) return '';
  if (Array.isArray(features) && features.every((f) => typeof f === 'string')) return features.join(',');
  return null;
}

// ---------------------------------------------------------------------------

/**
 * One font file: its bytes, a template Font whose decoded tables every document Font shares,
 * the private Font that shapes cache misses, and the caches for that file.
 */
export class FontFace {
  private readonly template: FontkitFont;
  private readonly shaper: FontkitFont;
  /** While the shaper shapes a miss: glyph id -> code points of its first request. */
  private requests: Map<number, number[]> | null = null;
  private readonly shapes = new GenerationalCache<ShapedText | null>(SHAPE_GENERATION);
  private readonly subsetter: TrueTypeSubsetter | null;
  /** Whether the shaping cache reproduces fontkit here (checked once). */
  private readonly shapingCacheable: boolean;
  /** Whether TrueTypeSubsetter reproduces fontkit's subsets here (checked once). */
  private readonly subsetterExact: boolean;

  constructor(
    private readonly file: Buffer,
    private readonly create: (data: Uint8Array) => FontkitFont,
  ) {
    this.template = create(file);
    this.shaper = this.freshFont();
    const realGetGlyph = this.shaper.getGlyph;
    this.shaper.getGlyph = (id: number, codePoints?: number[]): FontkitGlyph => {
      if (this.requests && !this.requests.has(id)) this.requests.set(id, [...(codePoints ?? [])]);
      return realGetGlyph.call(this.shaper, id, codePoints);
    };
    this.shapingCacheable = this.checkShaping();
    let subsetter: TrueTypeSubsetter | null = null;
    try {
      subsetter = new TrueTypeSubsetter(file);
    } catch {
      // a font our encoder does not read (e.g. CFF outlines): fontkit encodes its subsets
    }
    this.subsetter = subsetter;
    this.subsetterExact = this.checkSubsetter();
  }

  /**
   * A Font with its own glyph cache, reusing the template's decoded tables (decoding DejaVu's
   * cmap/GSUB/GPOS/hmtx costs more than a whole proposal). Decoded tables are read-only data
   * (the subsetter clones head/hhea/maxp before changing them) and all fontkit work runs
   * synchronously inside one render, so sharing them is safe. `_tables` is fontkit's private
   * table cache: should it ever disappear, each Font decodes its own tables (slower, same bytes).
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

  /** The Font for one document: fresh glyph cache, shared tables, caches installed if exact. */
  documentFont(): FontkitFont {
    const font = this.freshFont();
    if (!cachingEnabled) return font;
    if (this.shapingCacheable) {
      const realLayout = font.layout;
      const views = new Map<number, FontkitGlyph>();
      font.layout = (text: string, features?: unknown, ...rest: unknown[]): FontkitRun => {
        const run = rest.length === 0 && typeof text === 'string' ? this.cachedLayout(font, views, text, features) : null;
        return run ?? realLayout.call(font, text, features, ...rest);
      };
    }
    if (this.subsetterExact) {
      const realCreateSubset = font.createSubset;
      font.createSubset = (): FontkitSubset => this.fastSubset(realCreateSubset.call(font));
    }
    return font;
  }

  // --- shaping ---------------------------------------------------------------

  /** The run fontkit would return for `font.layout(text, features)`, or null to let fontkit do it. */
  private cachedLayout(
    font: FontkitFont,
    views: Map<number, FontkitGlyph>,
    text: string,
    features: unknown,
  ): FontkitRun | null {
    const fkey = featuresKey(features);
    if (fkey === null) {
      fontCacheStats.shapeBypassed++;
      return null;
    }
    const key = fkey + '\u0000' + text;
    let shaped = this.shapes.get(key);
    if (shaped === undefined) {
      shaped = this.shapeInIsolation(text, features as string[] | undefined);
      this.shapes.set(key, shaped);
      fontCacheStats.shapeMisses++;
    } else if (shaped !== null) {
      fontCacheStats.shapeHits++;
    }
    if (shaped === null) {
      fontCacheStats.shapeBypassed++;
      return null;
    }
    const run = this.replay(font, views, shaped);
    if (run === null) fontCacheStats.shapeConflicts++;
    return run;
  }

  /** Shape as a fresh Font would and record it (see the top of this file); null if not recordable. */
  private shapeInIsolation(text: string, features: string[] | undefined): ShapedText | null {
    const shaper = this.shaper;
    const requests = new Map<number, number[]>();
    const shape = () => {
      requests.clear();
      this.requests = requests;
      try {
        return shaper.layout(text, features ? [...features] : undefined);
      } finally {
        this.requests = null;
      }
    };
    let run = shape();
    let glyphCache = internals(shaper)._glyphs;
    if (glyphCache === null || typeof glyphCache !== 'object') return null;
    const asIfFresh = (cache: Record<number, FontkitGlyph | undefined>) => {
      for (const [id, codePoints] of requests) {
        const glyph = cache[id];
        if (!glyph || !sameCodePoints(glyph.codePoints, codePoints)) return false;
      }
      return true;
    };
    if (!asIfFresh(glyphCache)) {
      fontCacheStats.shaperResets++;
      internals(shaper)._glyphs = {};
      run = shape();
      glyphCache = internals(shaper)._glyphs;
      if (glyphCache === null || typeof glyphCache !== 'object' || !asIfFresh(glyphCache)) return null;
    }

    const n = run.glyphs.length;
    if (run.positions.length !== n) return null;
    const ids = new Array<number>(n);
    const advances = new Array<number>(n);
    const positions = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      const glyph = run.glyphs[i];
      // every glyph of the run must be one the replay creates or checks
      if (!requests.has(glyph.id) || glyphCache[glyph.id] !== glyph) return null;
      ids[i] = glyph.id;
      advances[i] = glyph.advanceWidth;
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
      requestedIds: [...requests.keys()],
      requestedCodePoints: [...requests.values()],
      ids,
      advances,
      positions,
      script: run.script,
      language: run.language,
      direction: run.direction,
      features: Object.freeze({ ...(runFeatures as Record<string, boolean>) }),
    };
  }

  /**
   * The recorded run on `font`'s own Glyphs (through per-document GlyphViews), or null if
   * `font`'s glyph cache disagrees with the record.
   */
  private replay(font: FontkitFont, views: Map<number, FontkitGlyph>, shaped: ShapedText): FontkitRun | null {
    const glyphCache = internals(font)._glyphs;
    if (glyphCache === null || typeof glyphCache !== 'object' || !agrees(glyphCache, shaped)) return null;
    createMissingGlyphs(font, glyphCache, shaped);
    const glyphs = glyphViews(glyphCache, views, shaped);
    if (!glyphs) return null;
    return new CachedRun(glyphs, positionObjects(shaped), shaped.script, shaped.language, shaped.direction, shaped.features);
  }

  // --- subsetting ------------------------------------------------------------

  /** fontkit's Subset, encoded by TrueTypeSubsetter (same bytes, same final Subset state). */
  private fastSubset(subset: FontkitSubset): FontkitSubset {
    const subsetter = this.subsetter;
    if (!subsetter || !Array.isArray(subset.glyphs) || typeof subset.includeGlyph !== 'function') return subset;
    subset.encode = (): Uint8Array => {
      const encoded = subsetter.encode(subset.glyphs);
      // fontkit appends the components of composite glyphs to the subset while encoding
      for (let i = subset.glyphs.length; i < encoded.glyphs.length; i++) subset.includeGlyph(encoded.glyphs[i]);
      fontCacheStats.fastSubsets++;
      return encoded.bytes;
    };
    return subset;
  }

  // --- guards ----------------------------------------------------------------

  /**
   * True if this fontkit has what the shaping cache relies on, and the cached shaping of probe
   * texts matches fontkit's own, glyph for glyph (ids, code points, positions, advances).
   */
  private checkShaping(): boolean {
    try {
      const plain = this.freshFont();
      const glyphCache = internals(plain)._glyphs;
      if (glyphCache === null || typeof glyphCache !== 'object' || typeof plain.getGlyph !== 'function') return false;
      forwardGlyphMembers(this.freshFont().getGlyph(0));

      // Words recorded then replayed, words whose glyphs partly exist already, a word replayed
      // twice, and .notdef (unmapped characters) met with different code points.
      const probe = ['Façade ', 'Ωmega ', 'Łódź ', 'fin. ', '2\u00a0500,00\u00a0€ ', 'AVA ', 'Façade ', '\u4e2d ', '\u4e8c '];
      const cached = this.freshFont();
      const views = new Map<number, FontkitGlyph>();
      for (const text of probe) {
        const expected = plain.layout(text);
        const shaped = this.shapeInIsolation(text, undefined);
        const got = shaped ? (this.replay(cached, views, shaped) ?? cached.layout(text)) : null;
        if (!got || !sameRun(expected, got)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** True if TrueTypeSubsetter writes fontkit's bytes for a probe subset with composite glyphs. */
  private checkSubsetter(): boolean {
    const subsetter = this.subsetter;
    if (!subsetter) return false;
    try {
      const font = this.freshFont();
      const subset = font.createSubset();
      if (!Array.isArray(subset.glyphs) || typeof subset.includeGlyph !== 'function') return false;
      subset.includeGlyph(0);
      // accented letters are composite glyphs in most TrueType fonts (DejaVu included)
      for (const glyph of font.layout('Éé Łódź Ωmega ÀÇËÏÔÙœæ fi 0123 € ООО').glyphs) subset.includeGlyph(glyph.id);
      const ours = subsetter.encode(subset.glyphs);
      const theirs = subset.encode();
      return Buffer.from(theirs).equals(Buffer.from(ours.bytes)) && ours.glyphs.join(',') === subset.glyphs.join(',');
    } catch {
      return false;
    }
  }
}

// Replay steps (small functions: V8 optimises them better than one big loop nest).

type GlyphCache = Record<number, FontkitGlyph | undefined>;

/** True if every glyph id the shaping requested is absent from the cache or has the recorded code points. */
function agrees(glyphCache: GlyphCache, shaped: ShapedText): boolean {
  const { requestedIds, requestedCodePoints } = shaped;
  for (let i = 0; i < requestedIds.length; i++) {
    const existing = glyphCache[requestedIds[i]];
    if (existing && !sameCodePoints(existing.codePoints, requestedCodePoints[i])) return false;
  }
  return true;
}

/** What the shaping would have done to the document Font: create the Glyphs it lacks. */
function createMissingGlyphs(font: FontkitFont, glyphCache: GlyphCache, shaped: ShapedText): void {
  const { requestedIds, requestedCodePoints } = shaped;
  for (let i = 0; i < requestedIds.length; i++) {
    if (!glyphCache[requestedIds[i]]) font.getGlyph(requestedIds[i], [...requestedCodePoints[i]]);
  }
}

function glyphViews(glyphCache: GlyphCache, views: Map<number, FontkitGlyph>, shaped: ShapedText): FontkitGlyph[] | null {
  const { ids, advances } = shaped;
  const glyphs = new Array<FontkitGlyph>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let view = views.get(id);
    if (!view) {
      const glyph = glyphCache[id];
      if (!glyph) return null; // cannot happen: every run glyph was requested, so it exists now
      view = new GlyphView(glyph, advances[i]);
      views.set(id, view);
    }
    glyphs[i] = view;
  }
  return glyphs;
}

/** Fresh GlyphPosition-shaped objects (pdfkit scales them in place). */
function positionObjects(shaped: ShapedText): FontkitPosition[] {
  const p = shaped.positions;
  const positions = new Array<FontkitPosition>(shaped.ids.length);
  for (let i = 0; i < positions.length; i++) {
    positions[i] = { xAdvance: p[4 * i], yAdvance: p[4 * i + 1], xOffset: p[4 * i + 2], yOffset: p[4 * i + 3] };
  }
  return positions;
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
