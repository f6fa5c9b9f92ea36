import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config';
import { MeceneError } from '../domain/errors';
import { formatEuros } from '../domain/money';
import { currentLanguage, t } from '../i18n';
import { describeError } from '../i18n/errors';
import { addPerson, listPeople } from '../service/people';
import { dossiersCsv } from '../service/pipeline';
import { closeOutreach, listOutreach, loadPolicyFile, outreachStatus, recordReply, restartFollowUps, startOutreach } from '../service/outreach';
import { CsvRejectedError, addSponsor, type RejectedRow, importSponsorsCsv, listSponsors, requireSponsor } from '../service/sponsors';
import { MAIL_TEMPLATE_NAMES, loadMailTemplates, sampleVariables, type MailTemplateName } from '../templates/mail';
import { loadAssociation } from '../templates/association';
import type { OutreachStatus, RelationshipState } from '../workflows/sponsor-outreach/messages';
import { registerApplicationCommands } from './commands/applications';
import { registerDigestCommands } from './commands/digest';
import { registerOutreachPlan } from './commands/outreach-plan';
import { registerRelationshipCommands } from './commands/relationship';
import { registerPipelineCommands } from './commands/pipeline';
import { registerReportCommands } from './commands/report';
import { CliContext } from './context';
import { fr, json, out, stage, table, when } from './output';



/** One rejected CSV row, with every field that is wrong. */
const rejectedRow = (r: RejectedRow) => `  ${t('row.rejected', { line: r.line, details: r.issues.map((i) => `${i.field} : ${i.problem}`).join(' ; ') })}`;

function printLive(live: OutreachStatus) {
  if (live.next) {
    const action = live.next.action === 'followup' ? t('action.followup', { n: live.next.n ?? 1 }) : t('action.escalation');
    out(t('outreach.status.next', { action, at: when(live.next.at) }));
  } else if (!live.closed && !live.reply) out(t('outreach.status.nextNone'));
}

/** What the whole relationship adds to a dossier's status: pause, call-back date, meetings, pledge. */
function printRelationship(r: RelationshipState) {
  const lang = currentLanguage();
  if (r.paused) out(t('relationship.status.paused', { reason: r.paused.reason, at: when(r.paused.at) }));
  if (r.callbackAt) out(t('relationship.status.callback', { at: when(r.callbackAt) }));
  for (const m of r.meetings) out(t('relationship.status.meeting', { n: m.id, at: when(m.at), where: m.place ?? m.videoUrl ?? '', result: m.result ? ` — ${m.result.summary}` : '' }));
  if (r.nextStepDue) out(t('relationship.status.nextStep', { at: when(r.nextStepDue) }));
  if (r.pledge) {
    const received = r.pledge.instalments.reduce((s, i) => s + i.receivedCents, 0);
    out(t('relationship.status.pledge', { amount: formatEuros(r.pledge.amountCents, lang), received: formatEuros(received, lang), receipts: r.receipts }));
  }
}

export function buildProgram(config: Config, ctx: CliContext): Command {
  const program = new Command('mecene')
    .description(fr() ? 'Mécène : démarches auprès des mécènes, de la proposition au reçu.' : 'Mécène: sponsor outreach, from proposal to receipt.')
    .helpOption('-h, --help', fr() ? 'afficher l’aide' : 'show help')
    .helpCommand(fr() ? 'help [commande]' : 'help [command]', fr() ? 'afficher l’aide d’une commande' : 'show help for a command')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: () => {} }) // errors are translated and printed by run()
    .exitOverride();

  // people
  const people = program.command('people').description(fr() ? 'étudiants, tuteurs, trésorier' : 'students, tutors, treasurer');
  people
    .command('add')
    .description(fr() ? 'enregistrer une personne' : 'register a person')
    .addOption(new Option('--role <role>', fr() ? 'rôle' : 'role').choices(['student', 'tutor', 'treasurer']).makeOptionMandatory())
    .requiredOption('--name <nom>', fr() ? 'nom complet' : 'full name')
    .requiredOption('--email <adresse>', fr() ? 'adresse électronique' : 'email address')
    .action(async (o) => {
      const person = await addPerson(await ctx.sql(), { role: o.role, name: o.name, email: o.email });
      out(t('people.added', { role: t(`role.${person.role}`), name: person.name, email: person.email, id: person.id }));
    });
  people
    .command('list')
    .description(fr() ? 'lister les personnes' : 'list people')
    .option('--json', 'JSON')
    .action(async (o) => {
      const rows = await listPeople(await ctx.sql());
      if (o.json) return json(rows);
      if (!rows.length) return out(t('people.none'));
      table(fr() ? ['n°', 'rôle', 'nom', 'courriel'] : ['#', 'role', 'name', 'email'], rows.map((p) => [String(p.id), t(`role.${p.role}`), p.name, p.email]));
    });

  // sponsors
  const sponsors = program.command('sponsors').description(fr() ? 'mécènes et leurs contacts' : 'sponsors and their contacts');
  sponsors
    .command('add')
    .description(fr() ? 'enregistrer un mécène et son contact' : 'register a sponsor and its contact')
    .requiredOption('--name <nom>', fr() ? 'nom de l’organisation' : 'organisation name')
    .option('--slug <identifiant>', fr() ? 'identifiant court (déduit du nom par défaut)' : 'short identifier (derived from the name)')
    .addOption(new Option('--kind <type>', fr() ? 'type' : 'kind').choices(['company', 'foundation', 'public_funder', 'association', 'other']).default('company'))
    .option('--category <catégorie>', fr() ? 'secteur, catégorie' : 'sector, category')
    .option('--website <url>', fr() ? 'site web' : 'website')
    .option('--notes <texte>', 'notes')
    .requiredOption('--contact-name <nom>', fr() ? 'nom du contact' : 'contact name')
    .requiredOption('--contact-email <adresse>', fr() ? 'adresse du contact' : 'contact email')
    .option('--contact-role <fonction>', fr() ? 'fonction du contact' : 'contact role')
    .requiredOption('--source <origine>', fr() ? 'origine de l’adresse (CNIL), ex. « salon 2026 »' : 'where the address comes from (CNIL)')
    .action(async (o) => {
      const s = await addSponsor(await ctx.sql(), {
        name: o.name, slug: o.slug, kind: o.kind, category: o.category, website: o.website, notes: o.notes,
        contactName: o.contactName, contactEmail: o.contactEmail, contactRole: o.contactRole, source: o.source,
      });
      out(t('sponsors.added', { name: s.name, slug: s.slug }));
    });
  sponsors
    .command('import <fichier>')
    .description(fr() ? 'importer des mécènes depuis un CSV (séparateur ; ou ,)' : 'import sponsors from a CSV (; or , separator)')
    .option('--skip-invalid', fr() ? 'importer les lignes valides et ignorer les autres' : 'import valid rows, skip the others')
    .option('--json', 'JSON')
    .action(async (file: string, o) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        throw new MeceneError('error.fileNotFound', { file });
      }
      try {
        const report = await importSponsorsCsv(await ctx.sql(), text, { file, skipInvalid: o.skipInvalid });
        if (o.json) return json(report);
        out(t('sponsors.imported', { count: report.imported.length, file }));
        if (report.rejected.length) {
          out(t('sponsors.skipped', { count: report.rejected.length }));
          for (const r of report.rejected) out(rejectedRow(r));
        }
      } catch (error) {
        if (error instanceof CsvRejectedError) {
          if (o.json) process.stderr.write(JSON.stringify({ rejected: error.rejected }, null, 2) + '\n');
          else {
            process.stderr.write(t('sponsors.rejectedHeader') + '\n');
            for (const r of error.rejected) process.stderr.write(rejectedRow(r) + '\n');
          }
        }
        throw error;
      }
    });
  sponsors
    .command('list')
    .description(fr() ? 'lister les mécènes' : 'list sponsors')
    .option('--json', 'JSON')
    .action(async (o) => {
      const rows = await listSponsors(await ctx.sql());
      if (o.json) return json(rows);
      if (!rows.length) return out(t('sponsors.none'));
      table(
        fr() ? ['identifiant', 'nom', 'type', 'contact'] : ['identifier', 'name', 'kind', 'contact'],
        rows.map((s) => [s.slug, s.name, s.kind, s.contacts.map((c) => `${c.name} <${c.email}>${c.optedOut ? ' ⊘' : ''}`).join(', ')]),
      );
    });
  sponsors
    .command('show <mecene>')
    .description(fr() ? 'afficher un mécène' : 'show a sponsor')
    .option('--json', 'JSON')
    .action(async (ref: string, o) => {
      const s = await requireSponsor(await ctx.sql(), ref);
      if (o.json) return json(s);
      out(`${s.name} (${s.slug}) — ${s.kind}${s.category ? `, ${s.category}` : ''}`);
      if (s.website) out(s.website);
      for (const c of s.contacts) out(`  ${c.name} <${c.email}>${c.role ? `, ${c.role}` : ''} — source : ${c.source}${c.optedOut ? ' — opposition' : ''}`);
    });

  // outreach
  const outreach = program.command('outreach').description(fr() ? 'démarches auprès des mécènes' : 'sponsor outreach');
  outreach
    .command('start <mecene>')
    .description(fr() ? 'lancer la démarche : proposition PDF, courriel, relances' : 'start the outreach: proposal PDF, email, follow-ups')
    .requiredOption('--student <adresse>', fr() ? 'étudiant·e responsable' : 'owner student')
    .requiredOption('--tutor <adresse>', fr() ? 'tuteur·rice du dossier' : 'tutor')
    .requiredOption('--ask <euros>', fr() ? 'montant sollicité en euros' : 'amount asked in euros')
    .option('--policy <fichier>', fr() ? 'politique de relance (JSON ou YAML)' : 'follow-up policy (JSON or YAML)')
    .addOption(new Option('--lang <langue>', fr() ? 'langue des courriels et du PDF' : 'language of emails and PDF').choices(['fr', 'en']).default('fr'))
    .option('--contact <adresse>', fr() ? 'contact à écrire (répétable : plusieurs contacts de la même organisation ; par défaut le premier)' : 'contact to write to (repeatable; default: the first)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (sponsor: string, o) => {
      const policy = o.policy ? await loadPolicyFile(o.policy) : undefined;
      const contacts: string[] | undefined = o.contact;
      const started = await startOutreach(await ctx.outreach(), { sponsor, student: o.student, tutor: o.tutor, ask: o.ask, lang: o.lang, ...(contacts?.length ? { contacts } : {}), policy });
      out(t('outreach.started', { sponsor: started.sponsor.name, workflowId: started.workflowId, dossierId: started.dossierId }));
    });
  outreach
    .command('status <mecene>')
    .description(fr() ? 'où en est la démarche' : 'where the outreach stands')
    .option('--json', 'JSON')
    .action(async (ref: string, o) => {
      const view = await outreachStatus(await ctx.outreach(), ref);
      if (o.json) return json(view);
      const d = view.dossier;
      out(d ? `${view.sponsor.name} — ${formatEuros(d.amountAskedCents, currentLanguage())} — ${d.student.name} / ${d.tutor.name}` : view.sponsor.name);
      out(t('outreach.status.stage', { stage: stage(view.live?.stage ?? d?.stage ?? 'preparing') }));
      if (view.emails.length) {
        out(t('outreach.status.sent'));
        for (const e of view.emails) out(`  ${when(e.sentAt)}  ${t(`kind.${e.kind}` as never)} → ${e.to} « ${e.subject} » [${t(`emailStatus.${e.status}` as never)}]`);
      }
      const reply = view.live?.reply;
      if (reply) out(t('outreach.status.reply', { outcome: t(`outcome.${reply.outcome}`), at: when(reply.at), note: reply.note ? ` — ${reply.note}` : '' }));
      if (view.live) printLive(view.live);
      if (view.relationship) printRelationship(view.relationship);
      if (d?.closedAt) out(`${fr() ? 'Clôturé le' : 'Closed on'} ${when(d.closedAt)} : ${d.closeReason ?? ''}`);
      if (view.events.length) {
        out(t('outreach.status.timeline'));
        for (const e of view.events) out(`  ${when(e.at)}  ${t(`event.${e.kind}` as never)}`);
      }
    });
  outreach
    .command('list')
    .description(fr() ? 'lister les démarches en cours' : 'list running outreach')
    .option('--all', fr() ? 'inclure les démarches terminées' : 'include ended ones')
    .option('--json', 'JSON')
    .option('--csv', fr() ? 'tous les dossiers en CSV pour un tableur (UTF-8, ;)' : 'every dossier as CSV for a spreadsheet (UTF-8, ;)')
    .action(async (o) => {
      if (o.csv) return void process.stdout.write(await dossiersCsv(await ctx.sql()));
      const rows = await listOutreach(await ctx.sql(), { all: o.all });
      if (o.json) return json(rows);
      if (!rows.length) return out(t('outreach.none'));
      table(
        fr() ? ['mécène', 'étape', 'montant', 'étudiant·e', 'prochaine action', 'le'] : ['sponsor', 'stage', 'amount', 'student', 'next action', 'on'],
        rows.map((d) => [d.sponsor.slug, stage(d.stage), formatEuros(d.amountAskedCents, currentLanguage()), d.student.name, d.nextAction ? t(`kind.${d.nextAction === 'followup' ? 'followup' : 'escalation'}`) : '—', when(d.nextActionAt)]),
      );
    });
  outreach
    .command('reply <mecene>')
    .description(fr() ? 'enregistrer la réponse du mécène (arrête les relances)' : 'record the sponsor’s reply (stops follow-ups)')
    .addOption(new Option('--outcome <issue>', fr() ? 'issue de la réponse' : 'outcome').choices(['interested', 'meeting', 'declined', 'callback', 'out_of_office']).makeOptionMandatory())
    .option('--note <texte>', fr() ? 'note' : 'note', '')
    .addOption(new Option('--reason <motif>', fr() ? 'refus : pourquoi' : 'declined: why').choices(['budget', 'timing', 'not_our_focus', 'other']))
    .option('--closing-email', fr() ? 'refus : envoyer un courriel de clôture courtois' : 'declined: send a polite closing email')
    .option('--until <date>', fr() ? 'à recontacter / absent : jusqu’à quand (2027-01-15)' : 'call back / out of office: until when')
    .option('--from <adresse>', fr() ? 'quel contact a répondu' : 'which contact answered')
    .option('--by <adresse>', fr() ? 'qui enregistre' : 'who records it')
    .action(async (ref: string, o) => {
      const raw = { outcome: o.outcome, note: o.note, by: o.by, ...(o.reason ? { reason: o.reason } : {}), ...(o.closingEmail ? { closingEmail: true } : {}), ...(o.until ? { until: o.until } : {}), ...(o.from ? { from: o.from } : {}) };
      const status = await recordReply(await ctx.outreach(), ref, raw);
      out(t('outreach.replyRecorded', { sponsor: status.sponsor.name, outcome: t(`outcome.${o.outcome as 'interested'}`), stage: stage(status.stage) }));
    });
  outreach
    .command('close <mecene>')
    .description(fr() ? 'clôturer la démarche' : 'close the outreach')
    .requiredOption('--reason <motif>', fr() ? 'motif' : 'reason')
    .option('--by <adresse>', fr() ? 'qui clôture' : 'who closes it')
    .action(async (ref: string, o) => {
      const status = await closeOutreach(await ctx.outreach(), ref, { reason: o.reason, by: o.by });
      out(t('outreach.closed', { sponsor: status.sponsor.name, reason: o.reason }));
    });
  outreach
    .command('restart <mecene>')
    .description(fr() ? 'après une alerte : relancer une nouvelle série de relances' : 'after an alert: start a new round of follow-ups')
    .option('--by <adresse>', fr() ? 'qui relance' : 'who restarts')
    .action(async (ref: string, o) => {
      const status = await restartFollowUps(await ctx.outreach(), ref, { by: o.by });
      out(t('outreach.restarted', { sponsor: status.sponsor.name, next: when(status.next?.at) }));
    });

  registerOutreachPlan(outreach, ctx, config);
  registerRelationshipCommands(outreach, ctx);

  // mail (local catcher)
  const mail = program.command('mail').description(fr() ? 'courriels reçus par le collecteur local' : 'emails received by the local catcher');
  mail
    .command('list', { isDefault: true })
    .description(fr() ? 'lister les courriels' : 'list emails')
    .option('--json', 'JSON')
    .action(async (o) => {
      const rows = await (await ctx.mailStore()).list();
      if (o.json) return json(rows);
      if (!rows.length) return out(t('mail.none'));
      table(fr() ? ['id', 'reçu le', 'à', 'objet', 'PJ'] : ['id', 'received', 'to', 'subject', 'att.'], rows.map((m) => [m.id, when(m.date), m.to.join(', '), m.subject, String(m.attachments.length)]));
    });
  mail
    .command('show <id>')
    .description(fr() ? 'afficher un courriel' : 'show an email')
    .option('--json', 'JSON')
    .option('--save-attachments <dossier>', fr() ? 'enregistrer les pièces jointes dans ce dossier' : 'save attachments into this folder')
    .action(async (id: string, o) => {
      const store = await ctx.mailStore();
      const m = await store.get(id);
      if (!m) throw new MeceneError('error.mailNotFound', { id }, 404);
      if (o.json) return json(m);
      out(`${fr() ? 'De' : 'From'} : ${m.from}`);
      out(`${fr() ? 'À' : 'To'} : ${m.to.join(', ')}`);
      if (m.replyTo) out(`Reply-To : ${m.replyTo}`);
      out(`${fr() ? 'Objet' : 'Subject'} : ${m.subject}`);
      out(`Message-ID : ${m.messageId ?? ''}`);
      if (m.inReplyTo) out(`In-Reply-To : ${m.inReplyTo}`);
      out(`${fr() ? 'Reçu le' : 'Received'} : ${when(m.date)}`);
      out();
      out(m.text.trimEnd());
      if (m.attachments.length) {
        out();
        out(t('mail.attachments'));
        for (const a of m.attachments) out(`  [${a.index}] ${a.filename} (${a.contentType}, ${a.size} o)`);
      }
      if (o.saveAttachments) {
        await mkdir(o.saveAttachments, { recursive: true });
        for (const a of m.attachments) {
          const content = await store.attachment(m.id, a.index);
          const file = path.join(o.saveAttachments, path.basename(a.filename));
          await writeFile(file, content!.content);
          out(t('mail.savedAttachment', { file }));
        }
      }
    });

  // templates
  const templates = program.command('templates').description(fr() ? 'modèles de courriels et fiche de l’association' : 'email templates and association profile');
  templates
    .command('check')
    .description(fr() ? 'vérifier tous les modèles' : 'check every template')
    .action(async () => {
      const library = await loadMailTemplates(config.templatesDir);
      await loadAssociation(config.templatesDir);
      for (const name of MAIL_TEMPLATE_NAMES) for (const lang of ['fr', 'en'] as const) library.render(name, lang, sampleVariables(name, lang));
      out(fr() ? `Modèles valides (${MAIL_TEMPLATE_NAMES.join(', ')} ; fr, en) et association.yaml valide.` : `Templates valid (${MAIL_TEMPLATE_NAMES.join(', ')}; fr, en) and association.yaml valid.`);
    });
  templates
    .command('preview <modele>')
    .description(fr() ? `aperçu d’un modèle avec des données d’exemple (${MAIL_TEMPLATE_NAMES.join(', ')})` : `preview a template with sample data (${MAIL_TEMPLATE_NAMES.join(', ')})`)
    .addOption(new Option('--lang <langue>', fr() ? 'langue' : 'language').choices(['fr', 'en']).default('fr'))
    .addOption(new Option('--format <format>', 'text | html').choices(['text', 'html']).default('text'))
    .action(async (name: string, o) => {
      if (!MAIL_TEMPLATE_NAMES.includes(name as MailTemplateName)) {
        throw new MeceneError('error.badOption', { message: `${name} ∉ ${MAIL_TEMPLATE_NAMES.join(', ')}` });
      }
      const library = await loadMailTemplates(config.templatesDir);
      const rendered = library.render(name as MailTemplateName, o.lang, sampleVariables(name as MailTemplateName, o.lang));
      out(`${fr() ? 'Objet' : 'Subject'} : ${rendered.subject}`);
      out();
      out(o.format === 'html' ? rendered.html : rendered.text);
    });

  registerApplicationCommands(program, ctx);
  registerPipelineCommands(program, ctx);
  registerDigestCommands(program, ctx);
  registerReportCommands(program, ctx);
  return program;
}

/** Commander's own errors (unknown option, missing value…), said in the user's language. */
function commanderMessage(error: CommanderError): string {
  const m = error.message.replace(/^error: /, '');
  if (!fr()) return t('error.badOption', { message: m });
  const rules: [RegExp, (...g: string[]) => string][] = [
    [/required option '(.+)' not specified/, (o) => `option obligatoire manquante : ${o}`],
    [/option '(.+)' argument missing/, (o) => `valeur manquante pour ${o}`],
    [/unknown option '(.+)'/, (o) => `option inconnue : ${o}`],
    [/missing required argument '(.+)'/, (a) => `argument manquant : ${a}`],
    [/unknown command '(.+)'/, (c) => `commande inconnue : ${c} (voir mecene --help)`],
    [/too many arguments.*/, () => 'trop d’arguments'],
    [/option '(.+)' argument '(.+)' is invalid\. Allowed choices are (.+)\./, (o, v, c) => `valeur « ${v} » invalide pour ${o} ; choix possibles : ${c}`],
  ];
  for (const [re, say] of rules) {
    const g = re.exec(m);
    if (g) return t('error.badOption', { message: say(...g.slice(1)) });
  }
  return t('error.badOption', { message: m });
}

export async function run(argv: string[]): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write((error instanceof ConfigError ? error.message : String(error)) + '\n');
    return 2;
  }
  const ctx = new CliContext(config);
  const program = buildProgram(config, ctx);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version') return 0;
      process.stderr.write(commanderMessage(error) + '\n');
      return 2;
    }
    process.stderr.write(describeError(error).message + '\n');
    return 1;
  } finally {
    await ctx.close().catch(() => {});
  }
}

process.exitCode = await run(process.argv);
