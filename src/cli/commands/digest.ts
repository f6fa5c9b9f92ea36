import { Option, type Command } from 'commander';
import { formatDay } from '../../domain/dates';
import { MeceneError } from '../../domain/errors';
import { currentLanguage, t, type MessageKey } from '../../i18n';
import { describeDigestSchedule, previewDigest, sendDigestNow } from '../../service/digest';
import { loadAssociation } from '../../templates/association';
import { loadMailTemplates } from '../../templates/mail';
import type { CliContext } from '../context';
import { fr, json, out, when } from '../output';

const weekday = (day: string) => t(`digest.weekday.${day}` as MessageKey);

/** `mecene digest …` commands. */
export function registerDigestCommands(program: Command, ctx: CliContext): void {
  const digest = program
    .command('digest')
    .description(fr() ? 'le point de la quinzaine des tuteurs et du trésorier : aperçu, planification, envoi immédiat' : 'the fortnightly digest of tutors and the treasurer: preview, schedule, send now')
    // Options of `digest` itself stay before its subcommands, so `digest schedule --json` is the subcommand's.
    .enablePositionalOptions()
    .option('--preview', fr() ? 'afficher le point sans l’envoyer' : 'show the digest without sending it')
    .option('--tutor <adresse>', fr() ? 'le point de ce tuteur ou de cette tutrice' : 'this tutor’s digest')
    .option('--treasurer <adresse>', fr() ? 'le point du trésorier ou de la trésorière' : 'the treasurer’s digest')
    .addOption(new Option('--format <format>', 'text | html').choices(['text', 'html']).default('text'))
    .addOption(new Option('--lang <langue>', fr() ? 'langue du point (par défaut MECENE_LANG)' : 'language of the digest (default MECENE_LANG)').choices(['fr', 'en']))
    .option('--date <AAAA-MM-JJ>', fr() ? 'le point de ce jour-là, à l’heure prévue (par défaut : maintenant)' : 'the digest of that day, at the scheduled time (default: now)')
    .option('--json', 'JSON')
    .action(async (o) => {
      if (!o.preview) throw new MeceneError('error.digest.noAction', {}, 400);
      if (!o.tutor && !o.treasurer) throw new MeceneError('error.digest.noRecipient', {}, 400);
      if (o.tutor && o.treasurer) throw new MeceneError('error.digest.twoRecipients', {}, 400);
      const sql = await ctx.sql();
      const [templates, association] = await Promise.all([loadMailTemplates(ctx.config.templatesDir), loadAssociation(ctx.config.templatesDir)]);
      const preview = await previewDigest(
        sql,
        { tutor: o.tutor, treasurer: o.treasurer, lang: o.lang ?? ctx.config.lang, date: o.date },
        ctx.config.digest,
        { templates, association },
      );
      if (o.json) return json(preview);
      out(t('digest.preview.header', { day: formatDay(preview.day, currentLanguage()), name: preview.recipient.name, email: preview.recipient.email, role: t(`digest.role.${preview.role}`) }));
      if (preview.empty) out(t('digest.preview.empty'));
      out(t('digest.preview.subject', { subject: preview.subject }));
      out();
      out((o.format === 'html' ? preview.html : preview.text).trimEnd());
    });

  digest
    .command('schedule')
    .description(fr() ? 'la planification du point et ses prochains envois' : 'the digest’s schedule and its next sends')
    .option('--json', 'JSON')
    .action(async (o) => {
      const view = await describeDigestSchedule(await ctx.outreach());
      if (o.json) return json(view);
      const state = view.paused ? t('digest.schedule.paused', { note: view.note ? ` (${view.note})` : '' }) : t('digest.schedule.active');
      out(t('digest.schedule.title', { id: view.scheduleId, state }));
      const c = view.cadence;
      out(
        c.everyWeeks === 1
          ? t('digest.schedule.cadenceWeekly', { weekday: weekday(c.weekday), time: c.time })
          : t('digest.schedule.cadence', { weekday: weekday(c.weekday), time: c.time, every: c.everyWeeks, firstDay: formatDay(c.firstDay, currentLanguage()) }),
      );
      const upcoming = view.upcoming.filter((u) => u.onWeek);
      if (view.paused || !upcoming.length) out(t('digest.schedule.nextNone'));
      else {
        out(t('digest.schedule.next'));
        for (const u of upcoming) out(`  ${weekday(c.weekday)} ${when(u.at)}`);
      }
      if (!view.recent.length) out(t('digest.schedule.recentNone'));
      else {
        out(t('digest.schedule.recent'));
        for (const r of view.recent) out(`  ${when(r.takenAt)}  ${r.workflowId}`);
      }
      out(t('digest.schedule.catchup', { hours: Math.round(view.catchupWindowMs / 3_600_000) }));
    });

  digest
    .command('send-now')
    .description(fr() ? 'envoyer le point maintenant, même une semaine sans point' : 'send the digest now, even on an off week')
    .option('--json', 'JSON')
    .action(async (o) => {
      const sent = await sendDigestNow(await ctx.outreach());
      if (o.json) return json(sent);
      if (sent.status === 'skipped_overlap') return out(t('digest.sendNow.skippedOverlap'));
      out(t('digest.sendNow.started', { workflowId: sent.workflowId }));
      if (sent.status === 'running') return out(t('digest.sendNow.waiting', { workflowId: sent.workflowId }));
      const r = sent.result;
      const sentCount = r.deliveries.filter((d) => d.status === 'sent').length;
      out(t('digest.sendNow.done', { day: formatDay(r.day, currentLanguage()), sent: sentCount, empty: r.deliveries.length - sentCount, failed: r.failed.length }));
      for (const d of r.deliveries) {
        const role = t(`digest.role.${d.role}`);
        out(d.status === 'sent' ? t('digest.sendNow.sent', { to: d.to, role, subject: d.subject }) : t('digest.sendNow.empty', { to: d.to, role }));
      }
      for (const f of r.failed) out(t('digest.sendNow.failed', { to: f.to, role: t(`digest.role.${f.role}`), error: f.error }));
    });
}
