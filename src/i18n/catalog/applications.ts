/** Messages of the applications feature; French first, English mirrors it key for key. */
export const applicationsFr = {
} as const;

export const applicationsEn: Record<keyof typeof applicationsFr, string> = {
};
