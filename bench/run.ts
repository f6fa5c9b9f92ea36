// `npm run bench`: what each sponsor costs on this machine, against the same work without
// orchestration, in the same run. Writes bench/results/latest.json; BENCHMARKS.md reads it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/api/app';
import { campaignBaseline, campaignWithTemporal } from './campaign';
import type { PdfResult } from './pdf';
import { startServices, startWorker } from './services';
import { startupSeconds } from './startup';
import { cpuSeconds, figure, postgresCpuSeconds, round, type Figure } from './stats';
import { drain, fillWaiting, footprint, pipelineLatency, reactionLatency } from './waiting';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, // smoke: tiny sizes, one run
    campaign: { type: 'string', default: '100,1000' },
    repeats: { type: 'string', default: '3' },
    waiting: { type: 'string', default: '10000' },
    replies: { type: 'string', default: '500' },
    pdfs: { type: 'string', default: '50' },
    'skip-startup': { type: 'boolean', default: false },
    'npm-test': { type: 'boolean', default: false }, // also time one full `npm test`
    out: { type: 'string', default: 'bench/results/latest.json' },
    profile: { type: 'string' }, // directory: the worker writes a V8 CPU profile there (--cpu-prof)
    only: { type: 'string' },
    'worker-heap-mb': { type: 'string' }, // cap the worker's V8 heap (with MECENE_WORKFLOW_CACHE for its cache) // e.g. "campaign,pdf": measure these, keep the other figures of --out
  },
});
const quick = args.quick;
const sizes = quick ? [10] : args.campaign!.split(',').map(Number);
const repeats = quick ? 1 : Number(args.repeats);
const waitingN = quick ? 20 : Number(args.waiting);
const repliesN = quick ? 5 : Math.min(Number(args.replies), waitingN);
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (part: string) => !only || only.has(part);
const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

async function main() {
  const services = await startServices();
  const cli = process.env.TEMPORAL_CLI ?? '';
  const results: Record<string, unknown> = {};
  try {
    // 0. Start-up
    if (!args['skip-startup'] && !quick && wanted('startup')) {
      const first: number[] = [];
      const again: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const s = await startupSeconds(cli || (await import('../scripts/temporal-cli.mjs')).resolveTemporalCli());
        first.push(s.first);
        again.push(s.again);
        log(`startup run ${r + 1}: first ${s.first.toFixed(1)} s, again ${s.again.toFixed(1)} s`);
      }
      results.startup = { ready_s: round(figure(first).median), ready_spread_s: [round(Math.min(...first)), round(Math.max(...first))], ready_again_s: round(figure(again).median), ready_again_spread_s: [round(Math.min(...again)), round(Math.max(...again))] };
    }
    if (args['npm-test']) {
      const t = performance.now();
      const r = spawnSync('npm', ['test'], { stdio: 'inherit' });
      (results.startup as Record<string, unknown> | undefined ?? (results.startup = {}) as Record<string, unknown>).npm_test_s = round((performance.now() - t) / 1000, 1);
      if (r.status !== 0) log('npm test failed during the benchmark');
    }

    // 2. Proposal PDF (before the campaign warms anything up in this process)
    if (wanted('pdf')) {
    log('pdf: pdfkit vs chromium');
    const pdf = benchPdfInChild(quick ? 5 : Number(args.pdfs));
    results.pdf = { ms: round(pdf.ms), p95_ms: round(pdf.p95Ms), bytes: pdf.bytes, chromium_ms: pdf.chromiumMs === null ? null : round(pdf.chromiumMs), chromium_bytes: pdf.chromiumBytes, speedup_vs_chromium: pdf.speedup === null ? null : round(pdf.speedup, 1), ...(pdf.chromiumNote ? { note: pdf.chromiumNote } : {}) };
    }

    // 1. Campaign throughput, Temporal and plain script alternating
    const worker = await startWorker(services, 'bench', { profileDir: args.profile, heapMb: args['worker-heap-mb'] ? Number(args['worker-heap-mb']) : undefined });
    if (wanted('campaign')) {
    const byN: Record<string, { temporal: Figure; baseline: Figure; ratio: number }> = {};
    const cpu: Record<string, Record<string, number>> = {};
    // CPU milliseconds per sponsor, by process: where the time goes.
    const snapshot = async () => ({
      worker: await cpuSeconds(worker.child.pid!),
      server: await cpuSeconds(services.server.process.pid!),
      driver: await cpuSeconds(process.pid),
      postgres: await postgresCpuSeconds(),
    });
    const perSponsor = (a: Record<string, number>, b: Record<string, number>, n: number) =>
      Object.fromEntries(Object.keys(a).map((k) => [k, round(((b[k] - a[k]) * 1000) / n, 1)]));
    for (const n of sizes) {
      const temporal: number[] = [];
      const baseline: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const t0 = await snapshot();
        const seconds = await campaignWithTemporal({ sql: services.sql, client: services.client, taskQueue: 'bench', n, prefix: `c${n}t${r}` });
        const t1 = await snapshot();
        temporal.push(n / seconds);
        const base = await campaignBaseline({ sql: services.sql, smtpPort: services.sink.port, dataDir: services.dir, n, prefix: `c${n}b${r}` });
        const t2 = await snapshot();
        baseline.push(n / base);
        if (r === repeats - 1) cpu[n] = { ...Object.fromEntries(Object.entries(perSponsor(t0, t1, n)).map(([k, v]) => [`temporal_${k}_ms`, v])), ...Object.fromEntries(Object.entries(perSponsor(t1, t2, n)).map(([k, v]) => [`baseline_${k}_ms`, v])) };
        log(`campaign N=${n} run ${r + 1}: temporal ${(n / seconds).toFixed(1)}/s, baseline ${(n / base).toFixed(1)}/s`);
      }
      const t = figure(temporal);
      const b = figure(baseline);
      byN[n] = { temporal: t, baseline: b, ratio: t.median / b.median };
    }
    const largest = byN[Math.max(...sizes)];
    results.campaign = {
      n: Math.max(...sizes),
      sponsors_per_s: round(largest.temporal.median),
      baseline_per_s: round(largest.baseline.median),
      ratio: round(largest.ratio),
      by_n: Object.fromEntries(Object.entries(byN).map(([n, f]) => [n, { sponsors_per_s: round(f.temporal.median), spread: [round(f.temporal.min), round(f.temporal.max)], baseline_per_s: round(f.baseline.median), baseline_spread: [round(f.baseline.min), round(f.baseline.max)], ratio: round(f.ratio) }])),
      duplicates_at_smtp: services.sink.duplicates(),
      cpu_ms_per_sponsor: cpu,
    };
    }

    // 4. Waiting at scale, 3. reaction latency while the others wait, then drain, 5. pipeline
    if (wanted('waiting')) {
    log(`waiting: starting ${waitingN} dossiers`);
    const filled = await fillWaiting({ sql: services.sql, client: services.client, taskQueue: 'bench', n: waitingN, prefix: 'w' });
    const fp = await footprint({ sql: services.sql, databaseName: services.databaseName, workerPid: worker.child.pid!, serverPid: services.server.process.pid!, dir: services.dir });
    log(`waiting: ${waitingN} filled in ${filled.fillSeconds.toFixed(0)} s; worker ${fp.workerRssMb.toFixed(0)} MiB`);
    const app = await buildApp({ sql: services.sql, client: services.client, taskQueue: 'bench', mailStore: null, secret: 'bench-secret-0123456789', associationName: 'Bench', documentsDir: path.join(services.dir, 'documents') });
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const replied = filled.sponsors.slice(0, repliesN);
    const reaction = await reactionLatency({ app, baseUrl, sql: services.sql, slugs: replied });
    results.reaction = { p50_ms: round(reaction.p50), p95_ms: round(reaction.p95), p99_ms: round(reaction.p99), replies: reaction.n, waiting_meanwhile: waitingN - repliesN };
    log(`reaction: p95 ${reaction.p95.toFixed(1)} ms`);
    const drainSeconds = await drain({ sql: services.sql, client: services.client, ids: filled.sponsors.slice(repliesN).map((s) => s.id) });
    const drained = waitingN - repliesN;
    results.waiting = { dossiers: waitingN, fill_s: round(filled.fillSeconds, 1), worker_rss_mb: round(fp.workerRssMb, 0), server_rss_mb: round(fp.serverRssMb, 0), database_mb: round(fp.databaseMb, 1), temporal_db_mb: round(fp.temporalDbMb, 1), drain_s: round(drainSeconds, 1), drain_per_s: round(drained / drainSeconds, 1) };
    const [{ count }] = await services.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM dossiers`;
    const pipe = await pipelineLatency(baseUrl, quick ? 5 : 100);
    results.pipeline = { dossiers: count, view_p50_ms: round(pipe.view.p50), view_p95_ms: round(pipe.view.p95), csv_p50_ms: round(pipe.csv.p50), csv_p95_ms: round(pipe.csv.p95) };
    await app.close();
    }
    await worker.stop();
  } finally {
    await services.close();
  }

  const pkg = JSON.parse(await readFile('package.json', 'utf8'));
  const pgVersion = (() => {
    try {
      return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  })();
  const chromium = (() => {
    try {
      return execFileSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  })();
  const previous = only ? JSON.parse(await readFile(args.out!, 'utf8').catch(() => '{}')) : {};
  const output = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    quick,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: round(os.totalmem() / 2 ** 30, 1), os: `${os.type()} ${os.release()}`, node: process.version },
    versions: { mecene: pkg.version, temporal_sdk: pkg.dependencies['@temporalio/worker'], temporal_server: '1.29.1 (CLI v1.5.1 dev server, SQLite WAL)', postgresql: pgVersion, pdfkit: pkg.dependencies.pdfkit, nodemailer: pkg.dependencies.nodemailer, chromium },
    ...previous,
    ...results,
    ...(only ? { partial_reruns: [...(previous.partial_reruns ?? []), `${[...only].join(',')} measured again at ${new Date().toISOString()}`] } : {}),
  };
  await mkdir(path.dirname(args.out!), { recursive: true });
  await writeFile(args.out!, JSON.stringify(output, null, 2) + '\n');
  printTable(output as never);
  log(`written ${args.out}`);
}

function benchPdfInChild(count: number): PdfResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/pdf-main.ts', String(count)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('pdf benchmark failed');
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function printTable(r: Record<string, Record<string, unknown>>) {
  const rows: [string, unknown][] = !r.campaign || !r.pdf || !r.waiting ? [] : [
    ['startup.ready_s (npm start, first / again)', r.startup ? `${r.startup.ready_s} / ${r.startup.ready_again_s}` : '—'],
    ['startup.npm_test_s', r.startup?.npm_test_s ?? '—'],
    [`campaign.sponsors_per_s (N=${r.campaign.n})`, r.campaign.sponsors_per_s],
    ['campaign.baseline_per_s', r.campaign.baseline_per_s],
    ['campaign.ratio (target ≥ 0.7)', r.campaign.ratio],
    ['pdf.ms / chromium_ms', `${r.pdf.ms} / ${r.pdf.chromium_ms}`],
    ['pdf.speedup_vs_chromium (target ≥ 20)', r.pdf.speedup_vs_chromium],
    ['reaction.p50 / p95 / p99 ms (target p95 < 250)', `${r.reaction.p50_ms} / ${r.reaction.p95_ms} / ${r.reaction.p99_ms}`],
    [`waiting.worker_rss_mb (${r.waiting.dossiers} waiting, target < 1024)`, r.waiting.worker_rss_mb],
    ['waiting.server_rss_mb / database_mb / temporal_db_mb', `${r.waiting.server_rss_mb} / ${r.waiting.database_mb} / ${r.waiting.temporal_db_mb}`],
    ['waiting.drain_s (per s)', `${r.waiting.drain_s} (${r.waiting.drain_per_s})`],
    [`pipeline.view_p95_ms (${r.pipeline.dossiers} dossiers, target < 100)`, r.pipeline.view_p95_ms],
    ['pipeline.csv_p95_ms', r.pipeline.csv_p95_ms],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
