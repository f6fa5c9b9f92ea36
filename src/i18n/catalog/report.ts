/** Messages of the report feature; French first, English mirrors it key for key. */
export const reportFr = {
} as const;

export const reportEn: Record<keyof typeof reportFr, string> = {
};
