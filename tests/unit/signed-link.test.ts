import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signValidationLink, verifyValidationLink, type ValidationLinkPayload } from '../../src/domain/signed-link';
import { validationEn, validationFr } from '../../src/i18n/catalog/validation';
import { quoteText } from '../../src/activities/validation';

const SECRET = 'test-secret-0123456789abcdef';
const NOW = Date.parse('2026-12-02T09:00:00Z');
const DOSSIER = '6f1c1d2e-4b5a-4c3d-8e9f-0a1b2c3d4e5f';
const link = (over: Partial<ValidationLinkPayload> = {}) =>
  signValidationLink(SECRET, { d: DOSSIER, v: 2, a: 'approve', e: Math.floor(NOW / 1000) + 3600, j: 'abcdefghijklmnop', ...over });

const [payloadPart, signaturePart] = link().split('.');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('signed validation links', () => {
  it('verifies a valid link and returns its payload', () => {
    const result = verifyValidationLink(SECRET, link({ p: 7 }), NOW);
    expect(result).toEqual({ ok: true, payload: { d: DOSSIER, v: 2, a: 'approve', e: Math.floor(NOW / 1000) + 3600, j: 'abcdefghijklmnop', p: 7 } });
  });

  it('draws a fresh random link id when none is given', () => {
    const a = verifyValidationLink(SECRET, signValidationLink(SECRET, { d: DOSSIER, v: 1, a: 'changes', e: 2_000_000_000 }), NOW);
    const b = verifyValidationLink(SECRET, signValidationLink(SECRET, { d: DOSSIER, v: 1, a: 'changes', e: 2_000_000_000 }), NOW);
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) expect(a.payload.j).not.toBe(b.payload.j);
  });

  it('refuses an altered payload as forged (other version, other action, other dossier, later expiry)', () => {
    const original = decode(payloadPart);
    for (const change of [{ v: 3 }, { a: 'changes' }, { d: '00000000-0000-4000-8000-000000000000' }, { e: original.e + 86_400 }, { j: 'zzzzzzzzzzzzzzzz' }]) {
      const altered = `${encode({ ...original, ...change })}.${signaturePart}`;
      expect(verifyValidationLink(SECRET, altered, NOW)).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('refuses an altered signature as forged, every character of it', () => {
    for (let i = 0; i < signaturePart.length; i++) {
      const c = signaturePart[i] === 'A' ? 'B' : 'A';
      const altered = `${payloadPart}.${signaturePart.slice(0, i)}${c}${signaturePart.slice(i + 1)}`;
      expect(verifyValidationLink(SECRET, altered, NOW), `position ${i}`).toEqual({ ok: false, reason: 'forged' });
    }
  });

  it('refuses a link signed with another secret as forged', () => {
    const other = signValidationLink('another-secret-0123456789', { d: DOSSIER, v: 2, a: 'approve', e: Math.floor(NOW / 1000) + 3600 });
    expect(verifyValidationLink(SECRET, other, NOW)).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses an expired link, from its expiry second on', () => {
    const e = Math.floor(NOW / 1000) + 60;
    expect(verifyValidationLink(SECRET, link({ e }), e * 1000 - 1).ok).toBe(true);
    expect(verifyValidationLink(SECRET, link({ e }), e * 1000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyValidationLink(SECRET, link({ e: Math.floor(NOW / 1000) - 1 }), NOW)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses malformed tokens', () => {
    for (const token of ['', 'abc', `${payloadPart}`, `${payloadPart}.`, `.${signaturePart}`, `${payloadPart}.${signaturePart}x`, `${payloadPart}.${signaturePart}.x`, `${payloadPart}!.${signaturePart}`, 'a'.repeat(5000)]) {
      expect(verifyValidationLink(SECRET, token, NOW), token.slice(0, 40)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a correctly signed payload of the wrong shape as malformed', () => {
    // Only the secret's holder can make one: a guard against our own bugs.
    const sign = (payload: unknown) => {
      const p = encode(payload);
      return `${p}.${createHmac('sha256', SECRET).update(`validation-link:${p}`).digest('base64url')}`;
    };
    expect(verifyValidationLink(SECRET, sign({ d: DOSSIER, v: 0, a: 'approve', e: 2_000_000_000, j: 'abcdefghij' }), NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyValidationLink(SECRET, sign({ d: DOSSIER, v: 1, a: 'delete', e: 2_000_000_000, j: 'abcdefghij' }), NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyValidationLink(SECRET, sign('not an object'), NOW)).toEqual({ ok: false, reason: 'malformed' });
    const notJson = Buffer.from('{nope').toString('base64url');
    expect(verifyValidationLink(SECRET, `${notJson}.${createHmac('sha256', SECRET).update(`validation-link:${notJson}`).digest('base64url')}`, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to sign an invalid payload', () => {
    expect(() => signValidationLink(SECRET, { d: 'not-a-uuid', v: 1, a: 'approve', e: 2_000_000_000 })).toThrow(/invalid validation link payload/);
  });
});

describe('validation messages', () => {
  it('has the same keys and placeholders in French and English', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    expect(Object.keys(validationEn).sort()).toEqual(Object.keys(validationFr).sort());
    for (const key of Object.keys(validationFr) as (keyof typeof validationFr)[]) expect([key, placeholders(validationEn[key])]).toEqual([key, placeholders(validationFr[key])]);
  });

  it('quotes the email shown to the tutor as mail clients do', () => {
    expect(quoteText('Bonjour,\n\nMerci.\n')).toBe('> Bonjour,\n>\n> Merci.');
  });
});
