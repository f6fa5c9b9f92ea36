import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAssociation } from '../../src/templates/association';
import { MAIL_TEMPLATE_NAMES, TemplateError, loadMailTemplates, sampleVariables } from '../../src/templates/mail';

const TEMPLATES = path.resolve('templates');

describe('email templates', () => {
  it('renders every template in French and English with its sample variables', async () => {
    const library = await loadMailTemplates(TEMPLATES);
    for (const name of MAIL_TEMPLATE_NAMES) {
      for (const lang of ['fr', 'en'] as const) {
        const mail = library.render(name, lang, sampleVariables(name, lang));
        expect(mail.subject, `${name}/${lang}`).not.toMatch(/\n|\{\{/);
        expect(mail.text).not.toContain('{{');
        expect(mail.html).toContain('<p>');
      }
    }
  });

  it('escapes HTML in the HTML part only', async () => {
    const library = await loadMailTemplates(TEMPLATES);
    const vars = sampleVariables('initial', 'fr');
    const mail = library.render('initial', 'fr', { ...vars, sponsor: { ...vars.sponsor, name: 'A & <B>' } });
    expect(mail.html).toContain('A &amp; &lt;B&gt;');
    expect(mail.text).toContain('A & <B>');
    expect(mail.subject).toContain('A & <B>');
  });

  it('puts the opt-out sentence and link in every outreach email (CNIL)', async () => {
    const library = await loadMailTemplates(TEMPLATES);
    for (const name of ['initial', 'followup'] as const) {
      const mail = library.render(name, 'fr', sampleVariables(name, 'fr'));
      expect(mail.text).toContain('Pour ne plus recevoir de courriels de notre part : http://127.0.0.1:3600/opt-out/exemple');
      expect(mail.html).toContain('href="http://127.0.0.1:3600/opt-out/exemple"');
    }
  });

  it('refuses missing or unknown variables before anything is sent', async () => {
    const library = await loadMailTemplates(TEMPLATES);
    const vars = sampleVariables('initial', 'fr') as Record<string, unknown>;
    expect(() => library.render('initial', 'fr', { ...vars, optOutUrl: undefined } as never)).toThrow(TemplateError);
    expect(() => library.render('initial', 'fr', { ...vars, surprise: 1 } as never)).toThrow(/surprise/);
  });

  it('fails at load time on a misspelt variable or a syntax error, naming the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mecene-tpl-'));
    await cp(TEMPLATES, dir, { recursive: true });
    await writeFile(path.join(dir, 'mail/followup/en/text.hbs'), 'Hello {{#each}}');
    await expect(loadMailTemplates(dir)).rejects.toThrow(/followup.*en.*text\.hbs/);
    await cp(TEMPLATES, dir, { recursive: true });
    await writeFile(path.join(dir, 'mail/initial/fr/subject.hbs'), 'Pour {{sponsr.name}}');
    await expect(loadMailTemplates(dir)).rejects.toThrow(/initial\/fr\/subject\.hbs : variable\(s\) inconnue\(s\) \/ unknown variable\(s\) \{\{sponsr\.name\}\}/);
    await cp(TEMPLATES, dir, { recursive: true });
    await writeFile(path.join(dir, 'mail/escalation/en/text.hbs'), '{{#each sent}}{{this.dat}}{{/each}}');
    await expect(loadMailTemplates(dir)).rejects.toThrow(/\{\{this\.dat\}\}/);
    await cp(TEMPLATES, dir, { recursive: true });
    await writeFile(path.join(dir, 'mail/partials/fr/optout-text.hbs'), '{{optOutLink}}');
    await expect(loadMailTemplates(dir)).rejects.toThrow(/optOutLink/);
  });

  it('loads and validates the association profile', async () => {
    const profile = await loadAssociation(TEMPLATES);
    expect(profile.project.fr.title).toBe('Rencontres du service public 2027');
    expect(profile.budget.length).toBeGreaterThan(0);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mecene-asso-'));
    await writeFile(path.join(dir, 'association.yaml'), 'name: X\naddress: []\nemail: nope\n');
    await expect(loadAssociation(dir)).rejects.toThrow(/association\.yaml.*email/s);
  });
});
