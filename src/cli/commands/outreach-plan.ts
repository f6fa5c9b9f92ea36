import type { Command } from 'commander';
import type { Config } from '../../config';
import { formatDay } from '../../domain/dates';
import { currentLanguage, t, type MessageKey } from '../../i18n';
import { loadPolicyFile } from '../../service/outreach';
import { parsePlanStart, planSponsorOutreach, type OutreachPlan, type PlannedStep } from '../../service/outreach-plan';
import type { CliContext } from '../context';
import { fr, json, out, table, when } from '../output';

/** A Paris day as people read it: "14 juillet 2027". */
const dayWords = (day: string) => formatDay(`${day}T12:00:00Z`, currentLanguage());

/** "du lundi au vendredi", or "lundi, mercredi, vendredi". */
function daysWords(days: number[]): string {
  const name = (d: number) => t(`sending.weekday.${d}` as MessageKey);
  const contiguous = days.length >= 3 && days.every((d, i) => i === 0 || d === days[i - 1] + 1);
  return contiguous ? t('sending.days.range', { from: name(days[0]), to: name(days[days.length - 1]) }) : t('sending.days.list', { days: days.map(name).join(', ') });
}

function stepWords(step: PlannedStep): string {
  if (step.kind === 'followup') return t('sending.plan.followup', { n: step.n ?? 1 });
  return t(step.kind === 'initial' ? 'sending.plan.initial' : 'sending.plan.escalation');
}

/** Why a send was moved, each reason once: "hors des heures d’envoi (09:00–18:00), week-end, jour férié (Lundi de Pâques)". */
function movedWords(step: PlannedStep, plan: OutreachPlan): string {
  if (!step.moved.length) return t('sending.plan.onTime');
  const reasons = step.moved.map((m) => {
    switch (m.reason) {
      case 'holiday':
        return t('sending.reason.holiday', { name: m.holiday ?? dayWords(m.day) });
      case 'blackout':
        return t('sending.reason.blackout', { day: m.blackout ? `${dayWords(m.blackout.from)} – ${dayWords(m.blackout.to)}` : dayWords(m.day) });
      case 'closed_day':
        return t('sending.reason.closed_day', { day: t(`sending.weekday.${new Date(`${m.day}T12:00:00Z`).getUTCDay() || 7}` as MessageKey) });
      case 'outside_hours':
        return t('sending.reason.outside_hours', { opens: plan.rules.opens, closes: plan.rules.closes });
      default:
        return t('sending.reason.weekend');
    }
  });
  return t('sending.plan.moved', { reasons: [...new Set(reasons)].join(', ') });
}

/** `mecene outreach plan <sponsor>`: every email and alert the process would produce, and when; nothing starts. */
export function registerOutreachPlan(outreach: Command, ctx: CliContext, config: Config): void {
  outreach
    .command('plan <mecene>')
    .description(
      fr()
        ? 'aperçu, avant tout lancement : chaque courriel et alerte, quand ils sont dus et quand ils partent (fenêtre d’envoi, jours fériés)'
        : 'preview before anything starts: each email and alert, when due and when sent (send window, public holidays)',
    )
    .option('--policy <fichier>', fr() ? 'politique de relance (JSON ou YAML), comme pour outreach start' : 'follow-up policy (JSON or YAML), as for outreach start')
    .option('--from <date>', fr() ? 'début de la démarche, heure de Paris : AAAA-MM-JJ ou « AAAA-MM-JJ HH:MM » (par défaut maintenant)' : 'start of the outreach, Paris time: YYYY-MM-DD or "YYYY-MM-DD HH:MM" (default now)')
    .option('--json', 'JSON')
    .action(async (sponsor: string, o: { policy?: string; from?: string; json?: boolean }) => {
      // Validated before anything is opened.
      const from = o.from === undefined ? undefined : parsePlanStart(o.from);
      const policy = o.policy ? await loadPolicyFile(o.policy) : undefined;
      const plan = await planSponsorOutreach(await ctx.sql(), { sponsor, from, policy }, config.sending, currentLanguage());
      if (o.json) return json(plan);
      out(t('sending.plan.title', { sponsor: plan.sponsor.name, contact: plan.contact ? `${plan.contact.name} <${plan.contact.email}>` : t('sending.plan.noContact') }));
      out();
      table(
        [t('sending.plan.colStep'), t('sending.plan.colDue'), t('sending.plan.colSend'), t('sending.plan.colNote')],
        plan.steps.map((s) => [stepWords(s), when(s.dueAt), when(s.sendAt), movedWords(s, plan)]),
      );
      out();
      const blackouts = plan.rules.blackouts.map((b) => (b.from === b.to ? dayWords(b.from) : `${dayWords(b.from)} – ${dayWords(b.to)}`));
      out(
        t('sending.plan.window', {
          days: daysWords(plan.rules.weekdays),
          opens: plan.rules.opens,
          closes: plan.rules.closes,
          blackouts: blackouts.length ? t('sending.plan.blackouts', { periods: blackouts.join(', ') }) : '',
        }),
      );
      out(t('sending.plan.caps', { daily: plan.caps.daily, domain: plan.caps.domain }));
      out(t('sending.plan.notStarted', { sponsor: plan.sponsor.slug }));
    });
}
