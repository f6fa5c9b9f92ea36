export const TEMPORAL_CLI_VERSION: string;
export function cacheDir(): string;
export function resolveTemporalCli(opts?: { log?: (message: string) => void }): string;
