import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/runtime/temporal-dev-server';
import { waitFor, SEND_NOW } from '../support/stack';

/**
 * `npm start` on embedded defaults (PGlite, mail catcher, Temporal dev server), twice over the
 * same data folder: the second start finds the data and the running process where they were.
 */
let dataDir: string;
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function npmStart(env: Record<string, string>): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const base: Record<string, string | undefined> = { ...process.env, ...env, TEMPORAL_CLI: inject('temporalCli') };
  for (const key of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'MECENE_SECRET', 'PUBLIC_URL']) delete base[key];
  // detached: its own process group, so Ctrl-C can be sent to the group as a terminal does.
  const proc = spawn(process.execPath, ['scripts/bootstrap.mjs', 'start'], { env: base as NodeJS.ProcessEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (c) => (output += c));
  proc.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { child: proc, output: () => output, exited };
}

describe('npm start', () => {
  it('starts on embedded defaults, serves the API, stops cleanly, and restarts where it was', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mecene-start-'));
    const [http, db, temporal, ui, smtp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = { DATA_DIR: dataDir, HTTP_PORT: String(http), MECENE_DB_PORT: String(db), TEMPORAL_PORT: String(temporal), TEMPORAL_UI_PORT: String(ui), MECENE_SMTP_PORT: String(smtp), LOG_LEVEL: 'info', SEND_WINDOW_DAYS: 'mon-sun', SEND_WINDOW_OPENS: '00:00', SEND_WINDOW_CLOSES: '24:00' };
    const api = `http://127.0.0.1:${http}`;
    const json = async (url: string, init?: RequestInit): Promise<any> => (await fetch(`${api}${url}`, { ...init, headers: { "content-type": "application/json" } })).json();

    let run = await npmStart(env);
    child = run.child;
    await waitFor(async () => (await fetch(`${api}/api/health`)).ok, `the API (${run.output()})`, 120_000);
    // The summary is printed once runtime.json is written, just after the API starts listening.
    await waitFor(() => run.output().includes(`PGlite, ${path.join(dataDir, 'pglite')}`), `the summary (${run.output()})`);
    expect(run.output()).toContain(`smtp://127.0.0.1:${smtp}`);
    expect(existsSync(path.join(dataDir, 'runtime.json'))).toBe(true);

    await json('/api/people', { method: 'POST', body: JSON.stringify({ role: 'student', name: 'Inès Garnier', email: 'ines@etu.test' }) });
    await json('/api/people', { method: 'POST', body: JSON.stringify({ role: 'tutor', name: 'Yves Morel', email: 'yves@tut.test' }) });
    await json('/api/sponsors', { method: 'POST', body: JSON.stringify({ name: 'Banque Alpine', contactName: 'Rose Blanc', contactEmail: 'rose@alpine.test', source: 'salon' }) });
    const started = await json('/api/outreach', { method: 'POST', body: JSON.stringify({ sponsor: 'banque-alpine', student: 'ines@etu.test', tutor: 'yves@tut.test', ask: 1000, policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h' } }) });
    expect(started.workflowId).toMatch(/^sponsor-\d+$/);
    await waitFor(async () => (await json('/api/mail')).length === 1, 'the caught email');

    process.kill(-child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('Mécène est arrêté');
    expect(existsSync(path.join(dataDir, 'runtime.json'))).toBe(false);
    await expect(fetch(`${api}/api/health`)).rejects.toThrow();

    run = await npmStart(env);
    child = run.child;
    await waitFor(async () => (await fetch(`${api}/api/health`)).ok, `the API again (${run.output()})`, 120_000);
    // Every migration was applied by the first start; none again.
    const migrations = readdirSync('migrations').filter((f) => f.endsWith('.sql')).length;
    expect(run.output()).toContain(`alreadyApplied: ${migrations}`);
    const people = await json('/api/people');
    expect(people.map((p: { email: string }) => p.email).sort()).toEqual(['ines@etu.test', 'yves@tut.test']);
    const status = await json('/api/outreach/banque-alpine');
    expect(status.live).toMatchObject({ stage: 'contacted', next: { action: 'followup', n: 1 } });
    expect((await json('/api/mail')).length).toBe(1);
    const closed = await json('/api/outreach/banque-alpine/close', { method: 'POST', body: JSON.stringify({ reason: 'fin du test' }) });
    expect(closed.stage).toBe('lost');

    process.kill(-child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
  });
});
