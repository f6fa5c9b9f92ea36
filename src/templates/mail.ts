import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { z } from 'zod';
import type { Lang } from '../domain/money';

/**
 * Email templates are data students and tutors edit (templates/mail/<name>/<lang>/*.hbs):
 * no logic beyond `each`, every variable declared here and checked before rendering, and
 * Handlebars in strict mode so a misspelt variable fails loudly instead of sending a blank.
 */
const person = z.strictObject({ name: z.string().min(1), email: z.email() });
const common = {
  association: z.strictObject({ name: z.string().min(1), website: z.string(), email: z.email() }),
  sponsor: z.strictObject({ name: z.string().min(1), slug: z.string().min(1) }),
  contact: person,
  student: person,
  tutor: person,
  project: z.strictObject({ title: z.string().min(1), summary: z.string().min(1) }),
  amountAsked: z.string().min(1),
};

export const mailVariables = {
  initial: z.strictObject({ ...common, optOutUrl: z.url() }),
  followup: z.strictObject({ ...common, optOutUrl: z.url(), n: z.number().int().positive(), firstSubject: z.string().min(1), firstSentOn: z.string().min(1) }),
  closing: z.strictObject({ ...common, optOutUrl: z.url(), firstSubject: z.string().min(1) }),
  escalation: z.strictObject({
    ...common,
    dossierUrl: z.url(),
    sent: z.array(z.strictObject({ date: z.string(), label: z.string(), subject: z.string() })),
  }),
  ...applicationMailVariables(),
  ...digestMailVariables(),
  ...validationMailVariables(),
  ...relationshipMailVariables(),
  ...receiptMailVariables(),
} as const;

/** Reminders, escalations and review comments of funding applications. */
function applicationMailVariables() {
  const application = z.strictObject({
    funder: z.string().min(1),
    programme: z.string().min(1),
    amountRequested: z.string().min(1),
    deadline: z.string().min(1),
    url: z.url(),
  });
  const base = { application, student: person, tutor: person, actions: z.array(z.string().min(1)) };
  return {
    'application-reminder': z.strictObject({ ...base, recipient: z.string().min(1), task: z.string().min(1), dueOn: z.string().min(1) }),
    'application-escalation': z.strictObject({ ...base, recipient: z.string().min(1), task: z.string().min(1), dueOn: z.string().min(1), owner: person }),
    'application-changes': z.strictObject({ ...base, reviewer: z.string().min(1), comment: z.string().min(1) }),
    'application-approval': z.strictObject({
      application,
      student: person,
      tutor: person,
      recipient: z.string().min(1),
      task: z.string().min(1),
      links: z.array(z.strictObject({ label: z.string().min(1), url: z.url() })).min(1),
      expiresOn: z.string().min(1),
    }),
  };
}

/** The digest of tutors and of the treasurer: every value formatted by src/digest/present.ts. */
function digestMailVariables() {
  const text = z.string();
  const header = {
    association: common.association,
    recipient: person,
    period: z.strictObject({ day: text, since: text, horizonEnd: text, stalledDays: text, horizonDays: text }),
    summary: text.min(1),
  };
  const received = z.strictObject({ date: text, item: text, student: text, amount: text });
  const expected = z.strictObject({ date: text, status: text, item: text, student: text, amount: text });
  return {
    'digest-tutor': z.strictObject({
      ...header,
      awaiting: z.array(z.strictObject({ item: text, student: text, since: text, due: text, deadline: text })),
      escalated: z.array(z.strictObject({ item: text, student: text, since: text })),
      stalled: z.array(z.strictObject({ item: text, student: text, stage: text, lastActivity: text, idle: text })),
      deadlines: z.array(z.strictObject({ date: text, status: text, label: text, item: text, student: text })),
      meetings: z.array(z.strictObject({ item: text, student: text, since: text, note: text })),
      moneyIn: z.array(received),
      moneyInTotal: text,
      moneyExpected: z.array(expected),
      moneyExpectedTotal: text,
    }),
    'digest-treasurer': z.strictObject({
      ...header,
      moneyIn: z.array(received),
      moneyInTotal: text,
      moneyExpected: z.array(expected),
      moneyExpectedTotal: text,
      overdue: z.array(expected),
      overdueTotal: text,
      signoffs: z.array(z.strictObject({ item: text, student: text, tutor: text, amount: text, due: text, deadline: text })),
      goal: z.array(z.strictObject({ label: text, period: text, amount: text, received: text, percent: text, remaining: text, expected: text })),
    }),
  };
}

export type MailTemplateName = keyof typeof mailVariables;
export type MailVariables<N extends MailTemplateName> = z.infer<(typeof mailVariables)[N]>;
export const MAIL_TEMPLATE_NAMES = Object.keys(mailVariables) as MailTemplateName[];
const LANGS: Lang[] = ['fr', 'en'];
const PARTS = ['subject', 'html', 'text'] as const;

export class TemplateError extends Error {
  constructor(readonly template: string, readonly lang: Lang, message: string) {
    super(`Modèle « ${template} » (${lang}) : ${message}`);
    this.name = 'TemplateError';
  }
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export interface MailTemplates {
  render<N extends MailTemplateName>(name: N, lang: Lang, variables: MailVariables<N>): RenderedMail;
}

type Compiled = Record<(typeof PARTS)[number], HandlebarsTemplateDelegate>;
type Node = { type: string; [key: string]: any };

/**
 * The variables a template uses that its declared variables do not have (a misspelling),
 * found by walking the template with the sample variables as the shape; `each` blocks
 * check their items against the first sample item.
 */
function unknownVariables(program: Node, scope: unknown, partials: Record<string, Node>): string[] {
  const found: string[] = [];
  const resolve = (path: Node, here: unknown): unknown => {
    let value: any = here;
    for (const part of path.parts as string[]) value = value == null ? undefined : value[part];
    return value;
  };
  const check = (expr: Node | undefined, here: unknown) => {
    if (expr?.type === 'PathExpression' && (expr.parts as string[]).length && resolve(expr, here) === undefined) found.push(expr.original);
  };
  const visit = (node: Node | undefined, here: unknown) => {
    for (const stmt of (node?.body ?? []) as Node[]) {
      if (stmt.type === 'MustacheStatement') {
        if (stmt.params.length) stmt.params.forEach((p: Node) => check(p, here));
        else check(stmt.path, here);
      } else if (stmt.type === 'BlockStatement') {
        stmt.params.forEach((p: Node) => check(p, here));
        const helper = stmt.path.original;
        const inner = helper === 'each' ? ((resolve(stmt.params[0], here) as unknown[] | undefined)?.[0] ?? {}) : helper === 'with' ? resolve(stmt.params[0], here) : here;
        visit(stmt.program, inner);
        visit(stmt.inverse, here);
      } else if (stmt.type === 'PartialStatement') {
        visit(partials[stmt.name.original], here);
      }
    }
  };
  visit(program, scope);
  return [...new Set(found)];
}

/** Loads and compiles every template once; a missing file or a syntax error fails here, at start. */
export async function loadMailTemplates(templatesDir: string): Promise<MailTemplates> {
  const root = path.join(templatesDir, 'mail');
  const engines = new Map<Lang, typeof Handlebars>();
  const compiled = new Map<string, Compiled>();
  for (const lang of LANGS) {
    const hb = Handlebars.create();
    const partialsDir = path.join(root, 'partials', lang);
    const partialAsts: Record<string, Node> = {};
    for (const file of await readdir(partialsDir).catch(() => [] as string[])) {
      if (!file.endsWith('.hbs')) continue;
      const source = await readFile(path.join(partialsDir, file), 'utf8');
      try {
        partialAsts[file.slice(0, -4)] = Handlebars.parse(source) as unknown as Node;
      } catch (error) {
        throw new TemplateError(`partials/${file}`, lang, (error as Error).message);
      }
      hb.registerPartial(file.slice(0, -4), source);
    }
    engines.set(lang, hb);
    for (const name of MAIL_TEMPLATE_NAMES) {
      const parts = {} as Compiled;
      for (const part of PARTS) {
        const file = path.join(root, name, lang, `${part}.hbs`);
        let source: string;
        try {
          source = await readFile(file, 'utf8');
        } catch {
          throw new TemplateError(name, lang, `fichier manquant / missing file ${file}`);
        }
        let ast: Node;
        try {
          ast = Handlebars.parse(source) as unknown as Node;
          parts[part] = hb.compile(source, { strict: true, noEscape: part !== 'html' });
        } catch (error) {
          throw new TemplateError(name, lang, `${file}: ${(error as Error).message}`);
        }
        const unknown = unknownVariables(ast, sampleVariables(name, lang), partialAsts);
        if (unknown.length) {
          const known = Object.keys(mailVariables[name].shape).join(', ');
          throw new TemplateError(name, lang, `${file} : variable(s) inconnue(s) / unknown variable(s) ${unknown.map((v) => `{{${v}}}`).join(', ')} ; disponibles / available: ${known}`);
        }
      }
      compiled.set(`${name}/${lang}`, parts);
    }
  }
  return {
    render(name, lang, variables) {
      const parsed = mailVariables[name].safeParse(variables);
      if (!parsed.success) {
        throw new TemplateError(name, lang, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      }
      const parts = compiled.get(`${name}/${lang}`)!;
      try {
        return {
          subject: parts.subject(parsed.data).replace(/\s+/g, ' ').trim(),
          html: parts.html(parsed.data),
          text: parts.text(parsed.data),
        };
      } catch (error) {
        throw new TemplateError(name, lang, (error as Error).message);
      }
    },
  };
}

/** Example variables: for `mecene templates preview` and the template tests. */
export function sampleVariables<N extends MailTemplateName>(name: N, lang: Lang): MailVariables<N> {
  const base = {
    association: { name: 'Association des Professionnels du Service Public', website: 'https://apsp-asso.fr', email: 'contact@apsp-asso.fr' },
    sponsor: { name: 'Fondation Société Générale', slug: 'fondation-societe-generale' },
    contact: { name: 'Hélène Dupré', email: 'helene.dupre@example.org' },
    student: { name: 'Camille Martin', email: 'camille.martin@example.org' },
    tutor: { name: 'Jérôme Leroy', email: 'jerome.leroy@example.org' },
    project: { title: 'Rencontres du service public 2027', summary: 'Deux journées de conférences et d’ateliers.' },
    amountAsked: lang === 'fr' ? '2 500,00 €' : '€2,500.00',
  };
  const optOutUrl = 'http://127.0.0.1:3600/opt-out/exemple';
  const samples = {
    initial: { ...base, optOutUrl },
    followup: { ...base, optOutUrl, n: 1, firstSubject: 'Rencontres du service public 2027 : proposition de partenariat', firstSentOn: lang === 'fr' ? '2 décembre 2026' : '2 December 2026' },
    closing: { ...base, optOutUrl, firstSubject: 'Rencontres du service public 2027 : proposition de partenariat' },
    escalation: {
      ...base,
      dossierUrl: 'http://127.0.0.1:3600/api/outreach/fondation-societe-generale',
      sent: [
        { date: lang === 'fr' ? '2 décembre 2026 à 10:00' : '2 December 2026 at 10:00', label: lang === 'fr' ? 'premier courriel' : 'first email', subject: 'Rencontres du service public 2027 : proposition de partenariat' },
        { date: lang === 'fr' ? '9 décembre 2026 à 10:00' : '9 December 2026 at 10:00', label: lang === 'fr' ? 'relance' : 'follow-up', subject: 'Re: Rencontres du service public 2027 : proposition de partenariat' },
      ],
    },
  };
  const application = {
    application: {
      funder: 'Région Île-de-France',
      programme: 'Appel à projets « Jeunesse engagée » 2027',
      amountRequested: lang === 'fr' ? '15 000,00 €' : '€15,000.00',
      deadline: lang === 'fr' ? '15 mars 2027 à 12:00' : '15 March 2027 at 12:00',
      url: 'http://127.0.0.1:3600/api/applications/3f2a9c1e',
    },
    student: base.student,
    tutor: base.tutor,
    actions: ['npm run mecene -- applications draft-done 3f2a9c1e --by camille.martin@example.org'],
  };
  const task = lang === 'fr' ? 'terminer le brouillon de la candidature' : 'complete the draft of the application';
  const dueOn = lang === 'fr' ? '22 février 2027 à 12:00' : '22 February 2027 at 12:00';
  const withApplications: Record<MailTemplateName, unknown> = {
    ...samples,
    'application-reminder': { ...application, recipient: base.student.name, task, dueOn },
    'application-escalation': { ...application, recipient: base.tutor.name, task, dueOn, owner: base.student },
    'application-approval': {
      application: application.application,
      student: base.student,
      tutor: base.tutor,
      recipient: base.tutor.name,
      task: lang === 'fr' ? 'relire la candidature et la valider (ou demander des modifications)' : 'review the application and approve it (or ask for changes)',
      links: [{ label: lang === 'fr' ? 'Approuver' : 'Approve', url: 'http://127.0.0.1:3600/approval/exemple' }],
      expiresOn: lang === 'fr' ? '22 février 2027 à 12:00' : '22 February 2027 at 12:00',
    },
    'application-changes': { ...application, reviewer: base.tutor.name, comment: lang === 'fr' ? 'Le budget doit détailler les frais de déplacement.' : 'The budget must detail travel costs.' },
    ...digestSamples(lang, base),
    ...validationSamples(lang, base),
    ...relationshipSamples(lang, base),
    ...receiptSamples(lang, base),
  };
  return withApplications[name] as MailVariables<N>;
}

/** Sample digests: one line in every list, so the load-time check sees every variable. */
function digestSamples(lang: Lang, base: { association: MailVariables<'initial'>['association']; student: { name: string }; tutor: { name: string; email: string } }) {
  const fr = lang === 'fr';
  const header = {
    association: base.association,
    recipient: base.tutor,
    period: fr
      ? { day: '7 décembre 2026', since: '23 novembre 2026', horizonEnd: '21 décembre 2026', stalledDays: '14', horizonDays: '14' }
      : { day: '7 December 2026', since: '23 November 2026', horizonEnd: '21 December 2026', stalledDays: '14', horizonDays: '14' },
  };
  const student = base.student.name;
  const application = 'Région Île-de-France, Appel à projets « Jeunesse engagée » 2027';
  const sponsor = fr ? 'Fondation Société Générale, mécénat' : 'Fondation Société Générale, sponsorship';
  const tranche = fr ? `${application}, tranche 1` : `${application}, instalment 1`;
  const amount = fr ? '5 000,00 €' : '€5,000.00';
  const day = (d: number) => (fr ? `${d} décembre 2026` : `${d} December 2026`);
  return {
    'digest-tutor': {
      ...header,
      summary: fr ? '1 à valider, 1 en alerte, 1 échéance(s)' : '1 to validate, 1 escalated, 1 deadline(s)',
      awaiting: [{ item: application, student, since: day(3), due: day(10), deadline: day(24) }],
      escalated: [{ item: sponsor, student, since: day(1) }],
      stalled: [{ item: sponsor, student, stage: fr ? 'intéressé' : 'interested', lastActivity: day(2), idle: fr ? '20 j sans nouvelle' : '20 d without news' }],
      deadlines: [{ date: day(10), status: fr ? 'dans 3 j' : 'in 3 d', label: fr ? 'relecture du tuteur' : 'tutor review', item: application, student }],
      meetings: [{ item: sponsor, student, since: day(4), note: fr ? ' : « Rappeler en janvier »' : ': "Call back in January"' }],
      moneyIn: [{ date: day(1), item: tranche, student, amount }],
      moneyInTotal: amount,
      moneyExpected: [{ date: day(15), status: fr ? 'dans 8 j' : 'in 8 d', item: tranche, student, amount }],
      moneyExpectedTotal: amount,
    },
    'digest-treasurer': {
      ...header,
      recipient: { name: 'Nadia Benali', email: 'nadia.benali@example.org' },
      summary: fr ? `${amount} reçus, objectif atteint à 40 %` : `${amount} received, goal 40% reached`,
      moneyIn: [{ date: day(1), item: tranche, student, amount }],
      moneyInTotal: amount,
      moneyExpected: [{ date: day(15), status: fr ? 'dans 8 j' : 'in 8 d', item: tranche, student, amount }],
      moneyExpectedTotal: amount,
      overdue: [{ date: day(2), status: fr ? 'en retard de 5 j' : '5 d late', item: tranche, student, amount }],
      overdueTotal: amount,
      signoffs: [{ item: application, student, tutor: base.tutor.name, amount: fr ? '15 000,00 €' : '€15,000.00', due: day(17), deadline: day(24) }],
      goal: [{ label: fr ? 'Campagne 2026-2027' : '2026-2027 campaign', period: fr ? 'du 1 septembre 2026 au 30 juin 2027' : 'from 1 September 2026 to 30 June 2027', amount: fr ? '50 000,00 €' : '€50,000.00', received: fr ? '20 000,00 €' : '€20,000.00', percent: '40', remaining: fr ? '30 000,00 €' : '€30,000.00', expected: amount }],
    },
  };
}

/** Tutor validation of a sponsor proposal (the request with its signed links, reminders, changes requested) and meeting invitations. */
function validationMailVariables() {
  const text = z.string().min(1);
  const dossier = { association: common.association, sponsor: common.sponsor, student: person, tutor: person, amountAsked: common.amountAsked, version: z.number().int().positive() };
  const links = { approveUrl: z.url(), changesUrl: z.url(), expiresAt: text };
  return {
    'validation-request': z.strictObject({
      ...dossier,
      contact: person,
      recipient: person,
      email: z.strictObject({ to: z.email(), subject: text, text, quoted: text }),
      proposalUrl: z.url(),
      ...links,
    }),
    'validation-reminder': z.strictObject({
      ...dossier,
      recipient: person,
      situation: text,
      email: z.strictObject({ to: z.email(), subject: text }),
      proposalUrl: z.url(),
      /** The signed links, for tutors only (an empty list for students and treasurers). */
      links: z.array(z.strictObject(links)),
    }),
    'proposal-changes': z.strictObject({ ...dossier, reviewer: text, comment: text, actions: z.array(text), dossierUrl: z.url() }),
    /** To the sponsor's contact and the student, with the .ics attached (src/domain/ics.ts). */
    'meeting-invitation': z.strictObject({ ...common, optOutUrl: z.url(), meeting: z.strictObject({ when: text, duration: text, where: text }) }),
  };
}

/** Sample validation emails (one item in every list, so the load-time check sees every variable). */
function validationSamples(lang: Lang, base: Omit<MailVariables<'initial'>, 'optOutUrl'>) {
  const fr = lang === 'fr';
  const dossier = { association: base.association, sponsor: base.sponsor, student: base.student, tutor: base.tutor, amountAsked: base.amountAsked, version: 2 };
  const subject = fr ? 'Rencontres du service public 2027 : proposition de partenariat pour Fondation Société Générale' : 'Rencontres du service public 2027: partnership proposal for Fondation Société Générale';
  const body = fr ? 'Bonjour Hélène Dupré,\n\nJe suis Camille Martin…' : 'Dear Hélène Dupré,\n\nI am Camille Martin…';
  const link = (a: string) => `http://127.0.0.1:3600/validation/${a}.exemple`;
  const links = { approveUrl: link('approve'), changesUrl: link('changes'), expiresAt: fr ? '9 décembre 2026 à 10:00' : '9 December 2026 at 10:00' };
  const proposalUrl = 'http://127.0.0.1:3600/api/documents/6f1c1d2e-0000-4000-8000-000000000000';
  return {
    'validation-request': {
      ...dossier,
      contact: base.contact,
      recipient: base.tutor,
      email: { to: base.contact.email, subject, text: body, quoted: body.split('\n').map((l) => `> ${l}`.trimEnd()).join('\n') },
      proposalUrl,
      ...links,
    },
    'validation-reminder': {
      ...dossier,
      recipient: base.tutor,
      situation: fr ? 'La proposition pour Fondation Société Générale attend votre validation depuis le 2 décembre 2026.' : 'The proposal for Fondation Société Générale has been awaiting your validation since 2 December 2026.',
      email: { to: base.contact.email, subject },
      proposalUrl,
      links: [links],
    },
    'proposal-changes': {
      ...dossier,
      reviewer: base.tutor.name,
      comment: fr ? 'Précisez les contreparties proposées et ramenez le montant à 2 000 €.' : 'Detail the counterparts offered and lower the amount to €2,000.',
      actions: ['npm run mecene -- outreach status fondation-societe-generale'],
      dossierUrl: 'http://127.0.0.1:3600/api/outreach/fondation-societe-generale',
    },
    'meeting-invitation': {
      ...base,
      optOutUrl: 'http://127.0.0.1:3600/opt-out/exemple',
      meeting: fr
        ? { when: 'mardi 16 mars 2027 à 14:30', duration: '60 minutes', where: 'Visioconférence : https://visio.example.org/rdv-42' }
        : { when: 'Tuesday 16 March 2027 at 14:30', duration: '60 minutes', where: 'Video call: https://visio.example.org/rdv-42' },
    },
  };
}

/** Reminders and escalations on a dossier, and meeting invitations (the whole relationship). */
function relationshipMailVariables() {
  const notice = {
    recipient: z.string().min(1),
    sponsor: z.string().min(1),
    student: person,
    tutor: person,
    task: z.string().min(1),
    dueOn: z.string().min(1),
    actions: z.array(z.string().min(1)),
    dossierUrl: z.url(),
  };
  return {
    'dossier-reminder': z.strictObject(notice),
    'dossier-escalation': z.strictObject({ ...notice, owner: person }),
  };
}

function relationshipSamples(lang: Lang, base: Pick<MailVariables<'initial'>, 'association' | 'sponsor' | 'contact' | 'student' | 'tutor'>) {
  const fr = lang === 'fr';
  const notice = {
    recipient: base.student.name,
    sponsor: base.sponsor.name,
    student: base.student,
    tutor: base.tutor,
    task: fr ? 'enregistrer le compte rendu du rendez-vous avec Fondation Société Générale' : 'record the result of the meeting with Fondation Société Générale',
    dueOn: fr ? '12 janvier 2027 à 18:00' : '12 January 2027 at 18:00',
    actions: ['npm run mecene -- outreach meeting-result fondation-societe-generale 1 --summary "…" --by camille.martin@example.org'],
    dossierUrl: 'http://127.0.0.1:3600/api/outreach/fondation-societe-generale',
  };
  return {
    'dossier-reminder': notice,
    'dossier-escalation': { ...notice, recipient: base.tutor.name, owner: base.student },
  };
}

/** The tax receipt of a sponsor payment, emailed to the contact with thanks (every value formatted by src/activities/money.ts). */
function receiptMailVariables() {
  const text = z.string().min(1);
  return {
    receipt: z.strictObject({
      association: common.association,
      sponsor: common.sponsor,
      contact: person,
      student: person,
      project: common.project,
      receipt: z.strictObject({ number: text, amount: text, amountInWords: text, receivedOn: text, nature: text }),
      signatory: z.strictObject({ name: text, title: text }),
      optOutUrl: z.url(),
    }),
  };
}

function receiptSamples(lang: Lang, base: Omit<MailVariables<'initial'>, 'optOutUrl'>) {
  const fr = lang === 'fr';
  return {
    receipt: {
      association: base.association,
      sponsor: base.sponsor,
      contact: base.contact,
      student: base.student,
      project: base.project,
      receipt: {
        number: '2027-0001',
        amount: fr ? '2 500,00 €' : '€2,500.00',
        amountInWords: 'deux mille cinq cents euros',
        receivedOn: fr ? '3 mars 2027' : '3 March 2027',
        nature: fr ? 'numéraire' : 'cash',
      },
      signatory: { name: 'Claire Moreau', title: 'Trésorière' },
      optOutUrl: 'http://127.0.0.1:3600/opt-out/exemple',
    },
  };
}
