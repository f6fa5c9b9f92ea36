import { Option, type Command } from 'commander';
import { applicationPolicySchema, parseReportSpec, parseTrancheSpec } from '../../domain/applications';
import { formatDay } from '../../domain/dates';
import { MeceneError } from '../../domain/errors';
import { formatEuros } from '../../domain/money';
import { currentLanguage, t } from '../../i18n';
import {
  addFunder,
  applicationStatus,
  completeDraft,
  listApplications,
  markDocumentReady,
  moveDeadline,
  recordDecision,
  recordMoney,
  recordReportSubmitted,
  recordSubmission,
  reviewApplication,
  signOffBudget,
  startApplication,
  withdrawApplication,
} from '../../service/applications';
import { readPolicyFile } from '../../service/outreach';
import type { ApplicationStatus } from '../../workflows/funding-application/messages';
import type { CliContext } from '../context';
import { fr, json, out, stage, table, when } from '../output';

const euros = (cents: number | null | undefined) => (cents === null || cents === undefined ? '—' : formatEuros(cents, currentLanguage()));
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** What changed, in one line, after any step. */
function printStep(status: ApplicationStatus) {
  out(t('application.step', { application: `${status.funder.name} — ${status.programme}`, stage: stage(status.stage) }));
  if (status.next) out(t('application.next', { what: t(`alarm.${status.next.about}.${status.next.kind}` as never, { ref: status.next.ref }), at: when(status.next.at) }));
}

/** `mecene funders …` and `mecene applications …`: applications to public funders and foundations. */
export function registerApplicationCommands(program: Command, ctx: CliContext): void {
  const funders = program.command('funders').description(fr() ? 'financeurs (collectivités, fondations) auxquels on candidate' : 'funders (public bodies, foundations) applied to');
  funders
    .command('add')
    .description(fr() ? 'enregistrer un financeur' : 'register a funder')
    .requiredOption('--name <nom>', fr() ? 'nom du financeur' : 'funder name')
    .addOption(new Option('--kind <type>', fr() ? 'type' : 'kind').choices(['public_funder', 'foundation', 'company', 'association', 'other']).default('public_funder'))
    .option('--website <url>', fr() ? 'site web' : 'website')
    .action(async (o) => {
      const f = await addFunder(await ctx.sql(), { name: o.name, kind: o.kind, website: o.website });
      out(t('funders.added', { name: f.name, slug: f.slug }));
    });

  const applications = program.command('applications').description(fr() ? 'candidatures aux appels à projets et subventions' : 'grant applications');
  applications
    .command('start')
    .description(fr() ? 'lancer le suivi d’une candidature (jalons calculés depuis la date limite)' : 'start following an application (milestones worked back from the deadline)')
    .requiredOption('--funder <financeur>', fr() ? 'identifiant ou nom du financeur' : 'funder identifier or name')
    .requiredOption('--programme <nom>', fr() ? 'programme ou appel à projets' : 'programme or call')
    .requiredOption('--ask <montant>', fr() ? 'montant demandé en euros' : 'amount requested in euros')
    .requiredOption('--deadline <date>', fr() ? 'date limite de dépôt, heure de Paris (2027-03-15 12:00)' : 'submission deadline, Paris time (2027-03-15 12:00)')
    .option('--decision <date>', fr() ? 'date de décision attendue (défaut : date limite + 90 jours)' : 'expected decision date (default: deadline + 90 days)')
    .requiredOption('--student <adresse>', fr() ? 'étudiant·e responsable' : 'owner student')
    .requiredOption('--tutor <adresse>', fr() ? 'tuteur·rice' : 'tutor')
    .option('--document <pièce>', fr() ? 'pièce exigée (répétable)' : 'required document (repeatable)', collect, [])
    .option('--policy <fichier>', fr() ? 'jalons et relances (YAML/JSON)' : 'milestones and reminders (YAML/JSON)')
    .addOption(new Option('--lang <langue>', fr() ? 'langue des courriels' : 'email language').choices(['fr', 'en']).default('fr'))
    .option('--json', 'JSON')
    .action(async (o) => {
      const policy = o.policy ? await readPolicyFile(o.policy, applicationPolicySchema) : undefined;
      const started = await startApplication(await ctx.outreach(), {
        funder: o.funder, programme: o.programme, ask: o.ask, deadline: o.deadline, decisionExpected: o.decision,
        student: o.student, tutor: o.tutor, documents: o.document, lang: o.lang, ...(policy ? { policy } : {}),
      });
      if (o.json) return json(started);
      out(t('application.started', { funder: started.funder.name, ref: started.ref }));
      for (const m of started.milestones) out(`  ${when(m.dueAt)}  ${t(`milestone.${m.key}` as never)}`);
    });
  applications
    .command('list')
    .description(fr() ? 'lister les candidatures en cours' : 'list open applications')
    .option('--all', fr() ? 'inclure les candidatures terminées' : 'include ended ones')
    .option('--json', 'JSON')
    .action(async (o) => {
      const rows = await listApplications(await ctx.sql(), { all: o.all });
      if (o.json) return json(rows);
      if (!rows.length) return out(t('application.none'));
      table(
        fr() ? ['réf.', 'financeur', 'programme', 'étape', 'demandé', 'accordé', 'reçu', 'date limite'] : ['ref', 'funder', 'programme', 'stage', 'requested', 'awarded', 'received', 'deadline'],
        rows.map((a) => [a.ref, a.funder.name, a.programme, stage(a.stage), euros(a.amountRequestedCents), euros(a.amountAwardedCents), euros(a.receivedCents), when(a.deadline)]),
      );
    });
  applications
    .command('show <ref>')
    .description(fr() ? 'afficher une candidature : jalons, pièces, tranches, rapports, historique' : 'show an application: milestones, documents, tranches, reports, timeline')
    .option('--json', 'JSON')
    .action(async (ref: string, o) => {
      const view = await applicationStatus(await ctx.outreach(), ref);
      if (o.json) return json(view);
      const a = view.application;
      const lang = currentLanguage();
      out(`${a.funder.name} — ${a.programme} [${a.ref}]`);
      out(t('application.show.summary', { stage: stage(a.stage), asked: euros(a.amountRequestedCents), awarded: euros(a.amountAwardedCents), received: euros(a.receivedCents) }));
      out(t('application.show.people', { student: a.student.name, tutor: a.tutor.name }));
      out(t('application.show.dates', { deadline: when(a.deadline), decision: formatDay(a.decisionExpectedOn, lang) }));
      if (a.outcomeReason) out(t('application.show.reason', { reason: a.outcomeReason }));
      out(t('application.show.milestones'));
      for (const m of view.milestones) out(`  ${m.reachedAt ? '✓' : '·'} ${when(m.dueAt)}  ${t(`milestone.${m.key}` as never)}${m.reachedAt ? ` — ${when(m.reachedAt)} (${m.reachedBy})` : ''}`);
      if (view.documents.length) {
        out(t('application.show.documents'));
        for (const d of view.documents) out(`  ${d.readyAt ? '✓' : '·'} ${d.name}`);
      }
      if (view.tranches.length) {
        out(t('application.show.tranches'));
        for (const x of view.tranches) out(`  ${x.n}. ${formatDay(x.expectedOn, lang)}  ${euros(x.amountCents)}  (${t('application.show.received', { amount: euros(x.receivedCents) })})`);
      }
      if (view.reports.length) {
        out(t('application.show.reports'));
        for (const r of view.reports) out(`  ${r.submittedAt ? '✓' : '·'} ${r.n}. ${t(`report.${r.kind}` as never)} — ${formatDay(r.dueOn, lang)}`);
      }
      if (view.upcoming.length) {
        out(t('application.show.upcoming'));
        for (const u of view.upcoming.slice(0, 6)) out(`  ${when(u.at)}  ${t(`alarm.${u.about}.${u.kind}` as never, { ref: u.ref })} → ${t(`role.${u.to}`)}`);
      }
      out(t('application.show.timeline'));
      for (const e of view.events) out(`  ${when(e.at)}  ${t(`appevent.${e.kind}` as never)}`);
    });

  const by = fr() ? 'qui l’indique (adresse)' : 'who records it (email)';
  applications
    .command('document <ref> <piece>')
    .description(fr() ? 'cocher une pièce exigée comme prête' : 'tick a required document as ready')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, document: string, o) => printStep(await markDocumentReady(await ctx.outreach(), ref, { document, by: o.by })));
  applications
    .command('draft-done <ref>')
    .description(fr() ? 'brouillon terminé : la candidature part en relecture' : 'draft complete: the application goes to review')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => printStep(await completeDraft(await ctx.outreach(), ref, { by: o.by })));
  applications
    .command('review <ref>')
    .description(fr() ? 'relecture du tuteur : valider, ou demander des modifications' : 'tutor review: approve, or ask for changes')
    .option('--approve', fr() ? 'valider' : 'approve')
    .option('--changes <commentaire>', fr() ? 'demander des modifications (commentaire envoyé à l’étudiant·e)' : 'ask for changes (comment emailed to the student)')
    .requiredOption('--as <adresse>', fr() ? 'adresse du tuteur·rice' : 'tutor email')
    .action(async (ref: string, o) => {
      if (Boolean(o.approve) === Boolean(o.changes)) throw new MeceneError('error.badOption', { message: fr() ? 'choisissez --approve ou --changes "…"' : 'choose --approve or --changes "…"' });
      const input = o.approve ? { decision: 'approve', by: o.as } : { decision: 'changes', comment: o.changes, by: o.as };
      printStep(await reviewApplication(await ctx.outreach(), ref, input));
    });
  applications
    .command('sign-off <ref>')
    .description(fr() ? 'visa du trésorier sur le budget' : 'treasurer sign-off on the budget')
    .requiredOption('--as <adresse>', fr() ? 'adresse du trésorier·e' : 'treasurer email')
    .action(async (ref: string, o) => printStep(await signOffBudget(await ctx.outreach(), ref, { by: o.as })));
  applications
    .command('submit <ref>')
    .description(fr() ? 'candidature déposée auprès du financeur' : 'application submitted to the funder')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => printStep(await recordSubmission(await ctx.outreach(), ref, { by: o.by })));
  applications
    .command('deadline <ref>')
    .description(fr() ? 'le financeur a repoussé la date limite (ou la date de décision) : les jalons suivent' : 'the funder moved the deadline (or decision date): milestones follow')
    .option('--to <date>', fr() ? 'nouvelle date limite' : 'new deadline')
    .option('--decision <date>', fr() ? 'nouvelle date de décision attendue' : 'new expected decision date')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => printStep(await moveDeadline(await ctx.outreach(), ref, { deadline: o.to, decisionExpected: o.decision, by: o.by })));
  applications
    .command('decision <ref>')
    .description(fr() ? 'décision du financeur : accordée (tranches, rapports) ou refusée (motif)' : 'funder’s decision: awarded (tranches, reports) or refused (reason)')
    .option('--awarded <montant>', fr() ? 'montant accordé en euros' : 'amount awarded in euros')
    .option('--tranche <date:montant>', fr() ? 'versement attendu, ex. 2027-04-01:6000 (répétable)' : 'expected payment, e.g. 2027-04-01:6000 (repeatable)', collect, [])
    .option('--report <type:date>', fr() ? 'rapport dû, ex. interim:2027-09-30, final:2028-01-31 (répétable)' : 'report due, e.g. interim:2027-09-30 (repeatable)', collect, [])
    .option('--refused <motif>', fr() ? 'refusée, avec le motif' : 'refused, with the reason')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => {
      const deps = await ctx.outreach();
      if (o.refused !== undefined && o.awarded === undefined) return printStep(await recordDecision(deps, ref, { outcome: 'refused', reason: o.refused, by: o.by }));
      if (o.awarded === undefined || o.refused !== undefined) {
        throw new MeceneError('error.badOption', { message: fr() ? 'choisissez --awarded <montant> (avec --tranche) ou --refused "<motif>"' : 'choose --awarded <amount> (with --tranche) or --refused "<reason>"' });
      }
      const tranches = (o.tranche as string[]).map(parseTrancheSpec);
      printStep(await recordDecision(deps, ref, { outcome: 'awarded', amount: o.awarded, tranches, reports: (o.report as string[]).map(parseReportSpec), by: o.by }));
    });
  applications
    .command('receive <ref>')
    .description(fr() ? 'trésorerie : un versement reçu du financeur' : 'treasury: a payment received from the funder')
    .requiredOption('--amount <montant>', fr() ? 'montant reçu en euros' : 'amount received in euros')
    .option('--tranche <n>', fr() ? 'tranche (défaut : la première non soldée)' : 'tranche (default: the first not fully received)')
    .option('--on <AAAA-MM-JJ>', fr() ? 'date de réception (défaut : aujourd’hui)' : 'day received (default: today)')
    .option('--note <texte>', fr() ? 'référence du virement' : 'transfer reference')
    .requiredOption('--as <adresse>', fr() ? 'adresse du trésorier·e' : 'treasurer email')
    .action(async (ref: string, o) => printStep(await recordMoney(await ctx.outreach(), ref, { amount: o.amount, tranche: o.tranche, on: o.on, note: o.note, as: o.as })));
  applications
    .command('report-submitted <ref> <n>')
    .description(fr() ? 'rapport n° n rendu au financeur' : 'report #n submitted to the funder')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, n: string, o) => printStep(await recordReportSubmitted(await ctx.outreach(), ref, { report: n, by: o.by })));
  applications
    .command('withdraw <ref>')
    .description(fr() ? 'retirer la candidature' : 'withdraw the application')
    .requiredOption('--reason <motif>', fr() ? 'motif' : 'reason')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => printStep(await withdrawApplication(await ctx.outreach(), ref, { reason: o.reason, by: o.by })));
}
