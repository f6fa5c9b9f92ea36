#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: install what is missing, find (or build) the
// Temporal CLI, then run the real thing. Plain Node only: nothing is installed yet.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveTemporalCli } from './temporal-cli.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
const say = (m) => console.error(m);

function dependenciesStale() {
  const hidden = path.join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return true;
  const wanted = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
  return Object.entries(wanted).some(([name, info]) => name !== '' && !info.optional && !info.peer && have[name]?.version !== info.version);
}

function ensureDependencies() {
  if (!dependenciesStale()) return;
  say('Installation des dépendances (npm ci)… / Installing dependencies (npm ci)…');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('npm ci a échoué : vérifiez l’accès au registre npm. / npm ci failed: check access to the npm registry.');
    process.exit(r.status ?? 1);
  }
}

function temporalCli() {
  try {
    return resolveTemporalCli({ log: say });
  } catch (error) {
    say(error.message);
    process.exit(1);
  }
}

/** Runs a child in the foreground; Ctrl-C reaches it through the process group, we just wait. */
function foreground(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    const ignore = () => {};
    process.on('SIGINT', ignore);
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);

if (mode === 'start') {
  ensureDependencies();
  const env = process.env.TEMPORAL_ADDRESS ? {} : { TEMPORAL_CLI: temporalCli() };
  process.exit(await foreground(process.execPath, ['--import', 'tsx', 'src/main.ts'], env));
} else if (mode === 'test') {
  ensureDependencies();
  const env = { TEMPORAL_CLI: temporalCli() };
  say('Vérification des types (tsc)… / Type check (tsc)…');
  const tsc = await foreground(bin('tsc'), ['--noEmit', '-p', '.'], {});
  if (tsc !== 0) process.exit(tsc);
  mkdirSync(path.join(root, '.tmp'), { recursive: true });
  const results = path.join(root, '.tmp', 'vitest-results.json');
  const code = await foreground(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(3)], env);
  try {
    const r = JSON.parse(readFileSync(results, 'utf8'));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${r.numPendingTests ? `, ${r.numPendingTests} skipped` : ''}`);
  } catch {
    console.log('0 passed, 1 failed');
  }
  process.exit(code);
} else if (mode === 'bench') {
  ensureDependencies();
  const env = { TEMPORAL_CLI: temporalCli() };
  process.exit(await foreground(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...process.argv.slice(3)], env));
} else {
  say('usage: node scripts/bootstrap.mjs start|test|bench');
  process.exit(2);
}
