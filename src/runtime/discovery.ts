import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * `npm start` writes where each service listens to data/runtime.json, so the CLI, a standalone
 * worker or the API started in another terminal find the embedded services without configuration.
 */
export const runtimeSchema = z.object({
  pid: z.number(),
  databaseUrl: z.string(),
  temporalAddress: z.string(),
  temporalUi: z.string().nullable(),
  apiUrl: z.string(),
  smtp: z.object({ host: z.string(), port: z.number() }).nullable(),
  mailDir: z.string().nullable(),
});
export type RuntimeInfo = z.infer<typeof runtimeSchema>;

export const runtimeFile = (dataDir: string) => path.join(dataDir, 'runtime.json');

export async function writeRuntime(dataDir: string, info: RuntimeInfo): Promise<void> {
  await writeFile(runtimeFile(dataDir), JSON.stringify(info, null, 2) + '\n');
}

export async function clearRuntime(dataDir: string): Promise<void> {
  await rm(runtimeFile(dataDir), { force: true });
}

/** The running stack's addresses, or null when `npm start` is not running. */
export async function readRuntime(dataDir: string): Promise<RuntimeInfo | null> {
  try {
    const info = runtimeSchema.parse(JSON.parse(await readFile(runtimeFile(dataDir), 'utf8')));
    process.kill(info.pid, 0); // throws when the process is gone (stale file after a crash)
    return info;
  } catch {
    return null;
  }
}
