import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CommanderError, Option, type Command } from 'commander';
import { renderReportPdf, formatPercent, reportDay } from '../../documents/report-pdf';
import { MeceneError } from '../../domain/errors';
import { formatEuros } from '../../domain/money';
import { currentLanguage, t } from '../../i18n';
import { buildReport, parseReportQuery } from '../../service/report';
import { loadAssociation } from '../../templates/association';
import type { CliContext } from '../context';
import { fr, json, out } from '../output';

/**
 * Writes the file whole or not at all: a temporary file next to it, flushed, then renamed over
 * the target (a reader never sees half a PDF, a failure leaves no file behind).
 */
export async function writeFileAtomically(file: string, data: Uint8Array): Promise<void> {
  const target = path.resolve(file);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    const code = (error as { code?: string }).code;
    const known = code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR' ? t(`report.fs.${code}`) : (error as Error).message;
    throw new MeceneError('report.error.write', { file, message: known });
  }
}

/** `mecene report …` commands. */
export function registerReportCommands(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description(fr() ? 'bilan de fin de projet pour le bureau : PDF (--pdf) ou données (--json)' : 'end-of-project report for the board: PDF (--pdf) or data (--json)')
    .option('--from <AAAA-MM-JJ>', fr() ? 'premier jour de la période (par défaut : celle de l’objectif de campagne, sinon les 12 derniers mois)' : 'first day of the period (default: the campaign goal’s, else the last 12 months)')
    .option('--to <AAAA-MM-JJ>', fr() ? 'dernier jour de la période' : 'last day of the period')
    .option('--pdf <fichier>', fr() ? 'écrire le bilan PDF dans ce fichier' : 'write the PDF report to this file')
    .option('--json', fr() ? 'afficher les données du bilan en JSON' : 'print the report’s data as JSON')
    .addOption(new Option('--lang <langue>', fr() ? 'langue du bilan' : 'language of the report').choices(['fr', 'en']))
    .action(async (o: { from?: string; to?: string; pdf?: string; json?: boolean; lang?: 'fr' | 'en' }) => {
      if (!o.pdf && !o.json) throw new CommanderError(2, 'mecene.report.output', t('report.error.chooseOutput'));
      // Validated before anything is opened or written.
      const query = parseReportQuery({ from: o.from, to: o.to, lang: o.lang });
      const association = await loadAssociation(ctx.config.templatesDir);
      const report = await buildReport(await ctx.sql(), { ...query, lang: query.lang ?? currentLanguage(), association });
      if (o.pdf) {
        const { pdf, pages } = await renderReportPdf(report);
        await writeFileAtomically(o.pdf, pdf);
        if (!o.json) {
          const lang = currentLanguage();
          const g = report.goal;
          out(
            t('report.cli.written', {
              from: reportDay(report.period.from, lang),
              to: reportDay(report.period.to, lang),
              file: o.pdf,
              pages,
              received: formatEuros(g.receivedCents, lang),
              goal: g.goalCents !== null && g.percentOfGoal !== null ? t('report.cli.goal', { goal: formatEuros(g.goalCents, lang), percent: formatPercent(g.percentOfGoal, lang) }) : t('report.cli.noGoal'),
            }),
          );
        }
      }
      if (o.json) json(report);
    });
}
