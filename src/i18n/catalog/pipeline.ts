/** Messages of the pipeline feature; French first, English mirrors it key for key. */
export const pipelineFr = {
} as const;

export const pipelineEn: Record<keyof typeof pipelineFr, string> = {
};
