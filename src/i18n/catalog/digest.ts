/** Messages of the digest feature; French first, English mirrors it key for key. */
export const digestFr = {
} as const;

export const digestEn: Record<keyof typeof digestFr, string> = {
};
