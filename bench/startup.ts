import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../src/runtime/temporal-dev-server';

/**
 * Seconds from `npm start` (the bootstrap, as a newcomer runs it) to ready: the API answers
 * and the worker polls (the "prêt" line comes after both). First start on an empty data folder,
 * then a second start on the same data.
 */
export async function startupSeconds(cli: string): Promise<{ first: number; again: number }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mecene-bench-start-'));
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env: Record<string, string | undefined> = {
    ...process.env,
    TEMPORAL_CLI: cli,
    DATA_DIR: dataDir,
    HTTP_PORT: String(ports[0]),
    MECENE_DB_PORT: String(ports[1]),
    TEMPORAL_PORT: String(ports[2]),
    TEMPORAL_UI_PORT: String(ports[3]),
    MECENE_SMTP_PORT: String(ports[4]),
  };
  for (const k of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL']) delete env[k];
  const once = async () => {
    const t = performance.now();
    const child = spawn(process.execPath, ['scripts/bootstrap.mjs', 'start'], { env: env as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const ready = new Promise<number>((resolve, reject) => {
      const onData = (c: Buffer) => {
        output += c;
        if (/Mécène est prêt|Mécène is ready/.test(output)) resolve((performance.now() - t) / 1000);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${output}`)));
    });
    const seconds = await ready;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid!, 'SIGINT');
    await exited;
    return seconds;
  };
  try {
    const first = await once();
    const again = await once();
    return { first, again };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
