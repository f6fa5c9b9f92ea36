import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';

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

export interface Endpoints {
  databaseUrl?: string;
  temporalAddress?: string;
  smtpUrl?: string;
  /** The local catcher's folder; null when a real SMTP relay is configured. */
  mailDir: string | null;
}

/** Where the services are: the environment first, else what a running `npm start` wrote. */
export async function resolveEndpoints(config: Config): Promise<Endpoints> {
  const runtime = await readRuntime(config.dataDir);
  return {
    databaseUrl: config.databaseUrl ?? runtime?.databaseUrl,
    temporalAddress: config.temporal.address ?? runtime?.temporalAddress,
    smtpUrl: config.smtpUrl ?? (runtime?.smtp ? `smtp://${runtime.smtp.host}:${runtime.smtp.port}` : undefined),
    mailDir: config.smtpUrl ? null : (runtime?.mailDir ?? path.join(config.dataDir, 'mail')),
  };
}
