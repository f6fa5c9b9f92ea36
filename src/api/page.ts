import type { FastifyReply } from 'fastify';
import type { Lang } from '../i18n';

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A small HTML page for people who follow a link from an email (opt-out, validation): one
 * column, system font, no script, the language in `<html lang>`. `title` is plain text; `body`
 * is HTML whose variable parts the caller escaped.
 */
export function page(reply: FastifyReply, status: number, lang: Lang, title: string, body: string) {
  return reply
    .status(status)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
        `<title>${escapeHtml(title)}</title></head>` +
        `<body style="font-family:sans-serif;max-width:40em;margin:3em auto">${body}</body></html>`,
    );
}
