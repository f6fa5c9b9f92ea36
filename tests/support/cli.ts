import { execFile } from 'node:child_process';
import { inject } from 'vitest';
import type { TestStack } from './stack';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `mecene` command, in its own process, against the test stack's services. */
export function runMecene(stack: TestStack, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const base: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: stack.db.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    DATA_DIR: stack.dataDir,
    SMTP_URL: undefined,
    MECENE_LANG: undefined,
    ...env,
  };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/mecene.mjs', ...args], { env: base as NodeJS.ProcessEnv, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
