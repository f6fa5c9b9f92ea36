import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cli: string;
  /** SQLite file for persistence; omitted = in memory (tests). */
  dbFile?: string;
  port: number;
  uiPort?: number;
  namespace?: string;
  /** e.g. "2160h": closed processes stay visible that long. */
  retention?: string;
  logFile?: string;
}

/** A free TCP port on loopback (for tests and parallel runs). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `temporal server start-dev` and waits until its namespace answers.
 * SQLite in WAL mode with synchronous=normal: durable across process crashes, about three
 * times the throughput of the default (see BENCHMARKS.md / shared reference).
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', namespace, '--log-level', 'error'];
  if (opts.dbFile) {
    await mkdir(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  // Eager activities: the server hands the next activity back with the workflow task's reply,
  // saving a poll round trip per step (the worker reserves slots for it by default).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  const child = spawn(opts.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? -1;
  });
  const address = `127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) throw new Error(`Le serveur Temporal s'est arrêté (code ${exited}) / the Temporal dev server exited:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Le serveur Temporal ne répond pas après 60 s / the Temporal dev server did not answer within 60 s:\n${output}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } finally {
        await connection.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  if (opts.retention) {
    // Namespaces are created with 24 h retention: too short to look back at a season.
    const r = spawnSync(opts.cli, ['operator', 'namespace', 'update', '--address', address, '-n', namespace, '--retention', opts.retention], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`temporal operator namespace update: ${r.stderr || r.stdout}`);
  }
  return {
    address,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : null,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
