/**
 * Durations as people write them in a policy: "7d", "36h", "20s", "90m", "1w", "500ms",
 * or combined "1d12h". Production policies say days; tests and demos say seconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+)\s*(ms|s|m|h|d|w)/gy;

/** Parses "7d" / "36h" / "1d12h" into milliseconds; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const s = text.trim().toLowerCase();
  if (s === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART.lastIndex;
    while (s[consumed] === ' ') consumed++;
    PART.lastIndex = consumed;
  }
  return consumed === s.length && Number.isSafeInteger(total) ? total : null;
}
