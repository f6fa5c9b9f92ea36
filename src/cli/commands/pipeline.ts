import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { formatDay } from '../../domain/dates';
import { MeceneError } from '../../domain/errors';
import { formatEuros } from '../../domain/money';
import { currentLanguage, t } from '../../i18n';
import { goalProgress, setCampaignGoal, type GoalProgress } from '../../service/goal';
import {
  PIPELINE_KINDS,
  PIPELINE_STATUSES,
  kindLabel,
  parsePercentText,
  pipelineCsv,
  pipelineItems,
  pipelineSummary,
  setProbability,
  stageLabel,
  type PipelineSummary,
} from '../../service/pipeline';
import type { CliContext } from '../context';
import { fr, json, out, table } from '../output';

const euros = (cents: number) => formatEuros(cents, currentLanguage());
/** A calendar day (YYYY-MM-DD) or an instant, as the reader says it: "7 décembre 2026". */
const day = (d: string | null | undefined) => (d ? formatDay(d.length === 10 ? `${d}T12:00:00Z` : d, currentLanguage()) : '—');
const percent = (p: number) => `${String(p).replace('.', fr() ? ',' : '.')}${fr() ? '\u00a0%' : '%'}`;
const counterpart = (c: string, title: string | null) => (title ? `${c} — ${title}` : c);

/** One line about the goal: amount, period, received over it, percent and what remains. */
export function goalLine(goal: GoalProgress): string {
  return t('pipeline.goal.line', {
    label: goal.label,
    amount: euros(goal.amountCents),
    from: day(goal.startsOn),
    to: day(goal.endsOn),
    received: euros(goal.receivedCents),
    percent: percent(goal.percent),
    remaining: euros(goal.remainingCents),
  });
}

function printSummary(s: PipelineSummary): void {
  out(t('pipeline.title', { day: day(s.today) }));
  if (!s.stages.length) {
    out();
    out(t('pipeline.empty'));
  }
  const headers = [t('pipeline.col.stage'), t('pipeline.col.count'), t('pipeline.col.asked'), t('pipeline.col.weighted'), t('pipeline.col.committed'), t('pipeline.col.received')];
  const right: ('left' | 'right')[] = ['left', 'right', 'right', 'right', 'right', 'right'];
  for (const kind of PIPELINE_KINDS) {
    const rows = s.stages.filter((x) => x.kind === kind);
    if (!rows.length) continue;
    out();
    out(kindLabel(kind));
    const sub = rows.reduce((a, r) => ({ count: a.count + r.count, asked: a.asked + r.askedCents, weighted: a.weighted + r.weightedCents, committed: a.committed + r.committedCents, received: a.received + r.receivedCents }), { count: 0, asked: 0, weighted: 0, committed: 0, received: 0 });
    table(
      headers,
      [
        ...rows.map((r) => [stageLabel(r.stage), String(r.count), euros(r.askedCents), euros(r.weightedCents), euros(r.committedCents), euros(r.receivedCents)]),
        [t('pipeline.subtotal'), String(sub.count), euros(sub.asked), euros(sub.weighted), euros(sub.committed), euros(sub.received)],
      ],
      right,
    );
  }

  out();
  out(t('pipeline.money.title'));
  const money: [string, string][] = [
    [t('pipeline.money.asked'), euros(s.totals.askedCents)],
    [t('pipeline.money.weighted'), euros(s.totals.weightedCents)],
    [t('pipeline.money.committed'), euros(s.totals.committedCents)],
    [t('pipeline.money.received'), euros(s.totals.receivedCents)],
  ];
  const labelWidth = Math.max(...money.map(([l]) => l.length));
  const amountWidth = Math.max(...money.map(([, a]) => a.length));
  for (const [label, amount] of money) out(`  ${label.padEnd(labelWidth)}  ${amount.padStart(amountWidth)}`);
  out(s.goal ? `  ${goalLine(s.goal)}` : `  ${t('pipeline.goal.none')}`);

  out();
  out(t('pipeline.overduePayments.title', { count: s.overduePayments.length }));
  if (!s.overduePayments.length) out(`  ${t('pipeline.none')}`);
  else {
    table(
      [t('pipeline.col.counterpart'), t('pipeline.col.tranche'), t('pipeline.col.dueOn'), t('pipeline.col.expected'), t('pipeline.col.owner'), t('pipeline.col.late')],
      s.overduePayments.map((p) => [counterpart(p.counterpart, p.title), p.trancheN === null ? '—' : String(p.trancheN), day(p.dueOn), euros(p.expectedCents), p.owner.name, t('pipeline.days', { n: p.daysLate })]),
      ['left', 'right', 'left', 'right', 'left', 'right'],
    );
  }
  out();
  out(t('pipeline.overdueReports.title', { count: s.overdueReports.length }));
  if (!s.overdueReports.length) out(`  ${t('pipeline.none')}`);
  else {
    table(
      [t('pipeline.col.counterpart'), t('pipeline.col.report'), t('pipeline.col.dueOn'), t('pipeline.col.owner'), t('pipeline.col.late')],
      s.overdueReports.map((r) => [counterpart(r.counterpart, r.title), t(`pipeline.report.${r.reportKind}`, { n: r.reportN }), day(r.dueOn), r.owner.name, t('pipeline.days', { n: r.daysLate })]),
      ['left', 'left', 'left', 'left', 'right'],
    );
  }
  out();
  out(t('pipeline.next30.title', { total: euros(s.next30Days.totalCents) }));
  if (!s.next30Days.items.length) out(`  ${t('pipeline.none')}`);
  else {
    table(
      [t('pipeline.col.expectedOn'), t('pipeline.col.counterpart'), t('pipeline.col.tranche'), t('pipeline.col.expected'), t('pipeline.col.owner')],
      s.next30Days.items.map((e) => [day(e.expectedOn), counterpart(e.counterpart, e.title), e.trancheN === null ? '—' : String(e.trancheN), euros(e.expectedCents), e.owner.name]),
      ['left', 'left', 'right', 'right', 'left'],
    );
  }
}

/** Writes a file whole or not at all: a temporary file renamed over the target. */
async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') throw new MeceneError('pipeline.error.cannotWrite', { file, reason: code });
    throw error;
  }
}

/** `mecene pipeline …` and `mecene goal …`: the treasurer's view of the money. */
export function registerPipelineCommands(program: Command, ctx: CliContext): void {
  const pipeline = program.command('pipeline').description(fr() ? 'pipeline de financement du trésorier : mécènes et subventions' : 'the treasurer’s funding pipeline: sponsors and grants');
  pipeline
    .command('show', { isDefault: true })
    .description(fr() ? 'totaux par étape, argent demandé / pondéré / promis / reçu face à l’objectif, retards, 30 prochains jours' : 'totals by stage, money asked / weighted / pledged / received vs goal, overdue, next 30 days')
    .option('--json', 'JSON')
    .option('--csv', fr() ? 'toutes les lignes en CSV sur la sortie standard (UTF-8 avec BOM, ;)' : 'every item as CSV on standard output (UTF-8 with BOM, ;)')
    .action(async (o) => {
      const sql = await ctx.sql();
      if (o.csv) return void process.stdout.write(await pipelineCsv(sql));
      const summary = await pipelineSummary(sql);
      if (o.json) return json(summary);
      printSummary(summary);
    });
  pipeline
    .command('items')
    .description(fr() ? 'lister les dossiers et candidatures du pipeline' : 'list the pipeline’s dossiers and applications')
    .addOption(new Option('--kind <type>', fr() ? 'type' : 'kind').choices([...PIPELINE_KINDS]))
    .addOption(new Option('--status <statut>', fr() ? 'statut' : 'status').choices([...PIPELINE_STATUSES]))
    .option('--stage <étape>', fr() ? 'étape (code, ex. meeting, submitted)' : 'stage (code, e.g. meeting, submitted)')
    .option('--tutor <adresse>', fr() ? 'seulement les étudiants de ce tuteur' : 'only this tutor’s students')
    .option('--owner <adresse>', fr() ? 'seulement ceux de cet étudiant' : 'only this student’s')
    .option('--overdue', fr() ? 'seulement ceux qui ont un versement ou un rapport en retard' : 'only those with an overdue payment or report')
    .option('--limit <n>', fr() ? 'nombre de lignes au plus' : 'at most this many rows', '500')
    .option('--json', 'JSON')
    .action(async (o) => {
      const page = await pipelineItems(await ctx.sql(), { kind: o.kind, status: o.status, stage: o.stage, tutor: o.tutor, owner: o.owner, overdue: o.overdue, limit: o.limit });
      if (o.json) return json(page);
      if (!page.items.length) return out(t('pipeline.items.none'));
      table(
        [t('pipeline.col.ref'), t('pipeline.col.kind'), t('pipeline.col.counterpart'), t('pipeline.col.stage'), t('pipeline.col.asked'), t('pipeline.col.probability'), t('pipeline.col.weighted'), t('pipeline.col.received'), t('pipeline.col.owner'), t('pipeline.col.flags')],
        page.items.map((i) => [
          i.refId.slice(0, 8),
          kindLabel(i.kind),
          counterpart(i.counterpart, i.title),
          stageLabel(i.stage),
          euros(i.askedCents),
          `${i.probability}${fr() ? '\u00a0%' : '%'}${i.probabilityOverride === null ? '' : '*'}`,
          euros(i.weightedCents),
          euros(i.receivedCents),
          i.owner.name,
          [i.overduePayment ? t('pipeline.flag.payment') : '', i.overdueReport ? t('pipeline.flag.report') : ''].filter(Boolean).join(', '),
        ]),
        ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left', 'left'],
      );
      if (page.total > page.items.length) out(t('pipeline.items.more', { shown: page.items.length, total: page.total }));
      if (page.items.some((i) => i.probabilityOverride !== null)) out(t('pipeline.items.overrideNote'));
    });
  pipeline
    .command('export')
    .description(fr() ? 'exporter toutes les lignes dans un fichier CSV pour Excel (UTF-8 avec BOM, ;)' : 'export every item to a CSV file for Excel (UTF-8 with BOM, ;)')
    .requiredOption('--csv <fichier>', fr() ? 'fichier CSV à écrire' : 'CSV file to write')
    .action(async (o) => {
      const csv = await pipelineCsv(await ctx.sql());
      await writeAtomically(o.csv, csv);
      out(t('pipeline.exported', { count: csv.split('\r\n').length - 2, file: o.csv }));
    });
  pipeline
    .command('probability <ref> <pourcentage>')
    .description(fr() ? 'forcer la probabilité d’un dossier ou d’une candidature (0 à 100, ou « default » pour revenir à celle de l’étape)' : 'override the probability of a dossier or application (0 to 100, or "default" for the stage’s)')
    .requiredOption('--as <adresse>', fr() ? 'trésorier·e qui décide' : 'treasurer who decides')
    .action(async (ref: string, text: string, o) => {
      const percentValue = parsePercentText(text);
      if (percentValue === undefined || (percentValue !== null && percentValue > 100)) throw new MeceneError('pipeline.error.badPercent', { value: text });
      const item = await setProbability(await ctx.sql(), ref, { percent: percentValue, as: o.as });
      out(
        t(item.probabilityOverride === null ? 'pipeline.probability.default' : 'pipeline.probability.set', {
          counterpart: counterpart(item.counterpart, item.title),
          kind: kindLabel(item.kind),
          stage: stageLabel(item.stage),
          percent: `${item.probability}${fr() ? '\u00a0%' : '%'}`,
          weighted: euros(item.weightedCents),
        }),
      );
    });

  const goal = program.command('goal').description(fr() ? 'objectif de la campagne (montant, période)' : 'campaign goal (amount, period)');
  goal
    .command('set')
    .description(fr() ? 'fixer l’objectif de la campagne (trésorier·e)' : 'set the campaign goal (treasurer)')
    .requiredOption('--amount <euros>', fr() ? 'montant en euros, ex. 50000 ou « 50 000,50 »' : 'amount in euros, e.g. 50000')
    .requiredOption('--from <AAAA-MM-JJ>', fr() ? 'premier jour de la période' : 'first day of the period')
    .requiredOption('--to <AAAA-MM-JJ>', fr() ? 'dernier jour de la période' : 'last day of the period')
    .option('--label <libellé>', fr() ? 'nom de la campagne' : 'campaign name')
    .requiredOption('--as <adresse>', fr() ? 'trésorier·e qui fixe l’objectif' : 'treasurer who sets it')
    .action(async (o) => {
      const sql = await ctx.sql();
      const set = await setCampaignGoal(sql, { label: o.label, amount: o.amount, from: o.from, to: o.to, as: o.as });
      out(t('pipeline.goal.set', { label: set.label, amount: euros(set.amountCents), from: day(set.startsOn), to: day(set.endsOn), by: set.setBy }));
    });
  goal
    .command('show', { isDefault: true })
    .description(fr() ? 'l’objectif en cours et ce qui est reçu sur sa période' : 'the current goal and what came in over its period')
    .option('--json', 'JSON')
    .action(async (o) => {
      const progress = await goalProgress(await ctx.sql());
      if (o.json) return json({ goal: progress });
      out(progress ? goalLine(progress) : t('pipeline.goal.none'));
      if (progress) out(t('pipeline.goal.setBy', { by: progress.setBy, at: day(progress.setAt) }));
    });
}
