// Finds the Temporal CLI (which embeds the dev server), building it once when needed.
// Plain Node, no dependencies: `npm start` and `npm test` call it before anything is installed.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = 'v1.5.1'; // server 1.29.1; later tags cannot be `go install`ed

export function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mecene', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

/**
 * Resolution order: TEMPORAL_CLI, `temporal` on PATH, the cache, then `go install` into the
 * cache when Go exists. Throws one bilingual message saying what to install otherwise.
 */
export function resolveTemporalCli({ log = (m) => console.error(m) } = {}) {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (executable(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI=${fromEnv} n'est pas un exécutable / is not an executable.`);
  }
  const found = onPath('temporal');
  if (found) return found;
  const dir = cacheDir();
  const cached = path.join(dir, 'temporal');
  if (executable(cached)) return cached;
  const go = onPath('go') || (executable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error(
      'Temporal CLI introuvable. Installez-le (https://docs.temporal.io/cli) et mettez `temporal` dans le PATH ou définissez TEMPORAL_CLI, ' +
        'ou installez Go (apt-get install golang) pour que Mécène le construise.\n' +
        'Temporal CLI not found. Install it and put `temporal` on PATH or set TEMPORAL_CLI, or install Go so Mécène can build it.',
    );
  }
  mkdirSync(dir, { recursive: true });
  log(
    `Construction du Temporal CLI ${TEMPORAL_CLI_VERSION} (serveur de développement Temporal) avec Go : une seule fois, environ 3 à 4 minutes sur 2 cœurs, mis en cache dans ${dir}.\n` +
      `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} (the Temporal dev server) with Go: once, about 3-4 minutes on 2 cores, cached in ${dir}.`,
  );
  const started = Date.now();
  const result = spawnSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: dir, GOFLAGS: process.env.GOFLAGS || '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !executable(cached)) {
    throw new Error(`La construction du Temporal CLI a échoué (go install, code ${result.status}) / building the Temporal CLI failed.`);
  }
  log(`Temporal CLI prêt en ${Math.round((Date.now() - started) / 1000)} s : ${cached}`);
  return cached;
}
