import { Option, type Command } from 'commander';
import { parseTrancheSpec } from '../../domain/applications';
import { t } from '../../i18n';
import {
  endDossier,
  handOverDossier,
  pauseDossier,
  recordMeetingResult,
  recordPayment,
  recordPledge,
  resubmitProposal,
  resumeDossier,
  scheduleMeeting,
} from '../../service/relationship';
import type { RelationshipState } from '../../workflows/sponsor-outreach/messages';
import type { CliContext } from '../context';
import { fr, out, stage } from '../output';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const done = (s: RelationshipState) => out(t('relationship.step', { sponsor: s.sponsor.name, stage: stage(s.stage) }) + (s.paused ? ` ${t('relationship.paused')}` : ''));

/** `mecene outreach …` steps of the whole relationship: resubmission, meetings, pledge, payments, pause, handover, end. */
export function registerRelationshipCommands(outreach: Command, ctx: CliContext): void {
  const by = fr() ? 'qui l’indique (adresse)' : 'who records it (email)';
  outreach
    .command('resubmit <mecene>')
    .description(fr() ? 'après des modifications demandées : nouvelle version de la proposition, à nouveau soumise au tuteur' : 'after changes were requested: a new version of the proposal, submitted again to the tutor')
    .option('--ask <euros>', fr() ? 'nouveau montant sollicité' : 'new amount asked')
    .option('--note <texte>', fr() ? 'ce qui a changé' : 'what changed')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await resubmitProposal(await ctx.outreach(), ref, { ask: o.ask, note: o.note, by: o.by })));
  outreach
    .command('meeting <mecene>')
    .description(fr() ? 'fixer un rendez-vous : invitation (.ics) au contact et à l’étudiant·e, rappel la veille' : 'schedule a meeting: invitation (.ics) to the contact and the student, reminder the day before')
    .requiredOption('--at <date>', fr() ? 'date et heure, heure de Paris (2027-01-12 14:30)' : 'date and time, Paris (2027-01-12 14:30)')
    .option('--duration <minutes>', fr() ? 'durée en minutes' : 'duration in minutes', '60')
    .option('--place <lieu>', fr() ? 'lieu' : 'place')
    .option('--video <url>', fr() ? 'lien de visioconférence' : 'video link')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await scheduleMeeting(await ctx.outreach(), ref, { at: o.at, duration: o.duration, place: o.place, video: o.video, by: o.by })));
  outreach
    .command('meeting-result <mecene> <n>')
    .description(fr() ? 'compte rendu du rendez-vous n° n, et la prochaine étape avec sa date' : 'result of meeting #n, and the next step with its date')
    .requiredOption('--summary <texte>', fr() ? 'compte rendu' : 'summary')
    .option('--next-step <texte>', fr() ? 'prochaine étape' : 'next step')
    .option('--due <date>', fr() ? 'prochaine étape pour le' : 'next step due')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, n: string, o) => done(await recordMeetingResult(await ctx.outreach(), ref, { meeting: n, summary: o.summary, nextStep: o.nextStep, due: o.due, by: o.by })));
  outreach
    .command('pledge <mecene>')
    .description(fr() ? 'promesse de don : montant, versements ; la convention de mécénat est générée et envoyée à l’étudiant·e' : 'pledge: amount, instalments; the sponsorship agreement is generated and sent to the student')
    .requiredOption('--amount <euros>', fr() ? 'montant promis' : 'amount pledged')
    .requiredOption('--instalment <date:montant>', fr() ? 'versement attendu, ex. 2027-03-01:1500 (répétable)' : 'expected instalment, e.g. 2027-03-01:1500 (repeatable)', collect, [])
    .addOption(new Option('--nature <nature>', fr() ? 'numéraire, en nature, de compétences' : 'cash, in kind, skills').choices(['cash', 'in_kind', 'skills']).default('cash'))
    .option('--description <texte>', fr() ? 'objet du don (obligatoire en nature ou de compétences)' : 'what is given (required in kind or skills)', '')
    .option('--counterparts <texte>', fr() ? 'contreparties (logo, mentions…)' : 'counterparts (logo, mentions…)', '')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) =>
      done(
        await recordPledge(await ctx.outreach(), ref, {
          amount: o.amount,
          nature: o.nature,
          description: o.description,
          counterparts: o.counterparts,
          instalments: (o.instalment as string[]).map((spec) => {
            const { expected, amount } = parseTrancheSpec(spec);
            return { expected, amount };
          }),
          by: o.by,
        }),
      ),
    );
  outreach
    .command('payment <mecene>')
    .description(fr() ? 'trésorerie : un versement reçu ; le reçu fiscal numéroté (Cerfa n° 16216) part au mécène' : 'treasury: a payment received; the numbered receipt (Cerfa 16216) goes to the sponsor')
    .requiredOption('--amount <euros>', fr() ? 'montant reçu' : 'amount received')
    .option('--on <AAAA-MM-JJ>', fr() ? 'date de réception (défaut : aujourd’hui)' : 'day received (default: today)')
    .option('--instalment <n>', fr() ? 'versement concerné (défaut : le premier non soldé)' : 'instalment (default: the first not fully paid)')
    .addOption(new Option('--method <moyen>', fr() ? 'virement, chèque, espèces, en nature' : 'transfer, cheque, cash, in kind').choices(['transfer', 'cheque', 'cash', 'in_kind']).default('transfer'))
    .requiredOption('--as <adresse>', fr() ? 'adresse du trésorier·e' : 'treasurer email')
    .action(async (ref: string, o) => done(await recordPayment(await ctx.outreach(), ref, { amount: o.amount, on: o.on, instalment: o.instalment, method: o.method, as: o.as })));
  outreach
    .command('pause <mecene>')
    .description(fr() ? 'suspendre le dossier (plus d’envoi ni de rappel jusqu’à la reprise)' : 'pause the dossier (no sends or reminders until resumed)')
    .requiredOption('--reason <motif>', fr() ? 'motif' : 'reason')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await pauseDossier(await ctx.outreach(), ref, { reason: o.reason, by: o.by })));
  outreach
    .command('resume <mecene>')
    .description(fr() ? 'reprendre un dossier suspendu' : 'resume a paused dossier')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await resumeDossier(await ctx.outreach(), ref, { by: o.by })));
  outreach
    .command('handover <mecene>')
    .description(fr() ? 'passation : le dossier change d’étudiant·e responsable (courriels, rappels et Reply-To suivent)' : 'handover: a new owner student (emails, reminders and Reply-To follow)')
    .requiredOption('--to <adresse>', fr() ? 'nouvel·le étudiant·e' : 'new student')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await handOverDossier(await ctx.outreach(), ref, { to: o.to, by: o.by })));
  outreach
    .command('end <mecene>')
    .description(fr() ? 'terminer la relation : perdue (motif) ou retirée par l’association' : 'end the relationship: lost (reason) or withdrawn by the association')
    .addOption(new Option('--outcome <issue>', fr() ? 'issue' : 'outcome').choices(['lost', 'withdrawn']).makeOptionMandatory())
    .requiredOption('--reason <motif>', fr() ? 'motif' : 'reason')
    .requiredOption('--by <adresse>', by)
    .action(async (ref: string, o) => done(await endDossier(await ctx.outreach(), ref, { outcome: o.outcome, reason: o.reason, by: o.by })));
}
