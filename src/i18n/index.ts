import { z } from 'zod';
import { messages, type MessageKey } from './messages';

export type Lang = 'fr' | 'en';
export type { MessageKey };

let current: Lang = 'fr';
z.config(z.locales.fr());

/** Sets the language of every text a person reads in this process (CLI, API errors, zod messages). */
export function setLanguage(lang: Lang): void {
  current = lang;
  z.config(lang === 'fr' ? z.locales.fr() : z.locales.en());
}

export function currentLanguage(): Lang {
  return current;
}

/** Translates a message key, filling `{name}` placeholders. */
export function t(key: MessageKey, params: Record<string, string | number> = {}, lang: Lang = current): string {
  const template: string = messages[lang][key] ?? messages.fr[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}
