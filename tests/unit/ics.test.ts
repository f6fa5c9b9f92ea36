import { describe, expect, it } from 'vitest';
import { escapeText, foldLine, meetingInvitationIcs, parisLocalStamp, type MeetingInvitation } from '../../src/domain/ics';

/** A minimal RFC 5545 reader: unfolds, splits name;params:value, unescapes TEXT. */
function parse(ics: string) {
  const unfolded = ics.replace(/\r\n[ \t]/g, '');
  return unfolded
    .split('\r\n')
    .filter(Boolean)
    .map((line) => {
      // The value starts at the first colon outside a quoted parameter value.
      let quoted = false;
      let i = 0;
      for (; i < line.length; i++) {
        if (line[i] === '"') quoted = !quoted;
        else if (line[i] === ':' && !quoted) break;
      }
      const [name, ...params] = line.slice(0, i).split(';');
      return { name, params: Object.fromEntries(params.map((p) => p.split('=') as [string, string])), value: line.slice(i + 1) };
    });
}
const unescape = (v: string) => v.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
const prop = (ics: string, name: string) => parse(ics).filter((p) => p.name === name);
/** A property of the VEVENT (the VTIMEZONE has its own DTSTART). */
const eventProp = (ics: string, name: string) => {
  const all = parse(ics);
  return all.slice(all.findIndex((p) => p.name === 'BEGIN' && p.value === 'VEVENT')).filter((p) => p.name === name);
};

const base: MeetingInvitation = {
  meetingId: '6f1c1d2e-1',
  uidDomain: 'asso.test',
  sequence: 0,
  start: new Date('2026-12-15T13:30:00Z'),
  end: new Date('2026-12-15T14:30:00Z'),
  summary: 'Rendez-vous Fondation Société Générale – Association des Professionnels du Service Public',
  description: 'Rencontre entre Hélène Dupré (Fondation, « Société ») et Camille Martin ; ordre du jour : budget\\contreparties\nDeuxième ligne',
  location: '29 boulevard Haussmann, 75009 Paris; salle 4',
  organizer: { name: 'Association des Professionnels du Service Public', email: 'contact@asso.test' },
  attendees: [
    { name: 'Hélène Dupré', email: 'helene@fondation.test' },
    { name: 'Camille "Cam" Martin', email: 'camille@etu.test' },
  ],
  stamp: new Date('2026-12-01T10:00:00Z'),
};

describe('meeting invitation (.ics)', () => {
  it('is a REQUEST with a Paris VTIMEZONE, the event and its people', () => {
    const ics = meetingInvitationIcs(base);
    const names = parse(ics).map((p) => p.name);
    expect(names.slice(0, 5)).toEqual(['BEGIN', 'VERSION', 'PRODID', 'CALSCALE', 'METHOD']);
    expect(prop(ics, 'METHOD')[0].value).toBe('REQUEST');
    expect(prop(ics, 'VERSION')[0].value).toBe('2.0');
    expect(prop(ics, 'PRODID')[0].value).toBe('-//Mécène//Rendez-vous//FR');
    expect(prop(ics, 'BEGIN').map((p) => p.value)).toEqual(['VCALENDAR', 'VTIMEZONE', 'DAYLIGHT', 'STANDARD', 'VEVENT']);
    expect(prop(ics, 'TZID')[0].value).toBe('Europe/Paris');
    expect(prop(ics, 'RRULE').map((p) => p.value)).toEqual(['FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU', 'FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU']);
    expect(prop(ics, 'TZOFFSETTO').map((p) => p.value)).toEqual(['+0200', '+0100']);
    expect(prop(ics, 'UID')[0].value).toBe('meeting-6f1c1d2e-1@asso.test');
    expect(prop(ics, 'SEQUENCE')[0].value).toBe('0');
    expect(prop(ics, 'DTSTAMP')[0].value).toBe('20261201T100000Z');
    expect(eventProp(ics, 'DTSTART')[0]).toEqual({ name: 'DTSTART', params: { TZID: 'Europe/Paris' }, value: '20261215T143000' });
    expect(eventProp(ics, 'DTEND')[0]).toEqual({ name: 'DTEND', params: { TZID: 'Europe/Paris' }, value: '20261215T153000' });
    expect(unescape(prop(ics, 'SUMMARY')[0].value)).toBe(base.summary);
    expect(unescape(prop(ics, 'DESCRIPTION')[0].value)).toBe(base.description);
    expect(unescape(prop(ics, 'LOCATION')[0].value)).toBe(base.location);
    expect(prop(ics, 'URL')).toEqual([]);
    const organizer = prop(ics, 'ORGANIZER')[0];
    expect(organizer.value).toBe('mailto:contact@asso.test');
    expect(organizer.params.CN).toBe('"Association des Professionnels du Service Public"');
    const attendees = prop(ics, 'ATTENDEE');
    expect(attendees.map((a) => a.value)).toEqual(['mailto:helene@fondation.test', 'mailto:camille@etu.test']);
    expect(attendees.map((a) => a.params.CN)).toEqual(['"Hélène Dupré"', '"Camille Cam Martin"']); // no quote inside a quoted value
    for (const a of attendees) expect(a.params).toMatchObject({ RSVP: 'TRUE', PARTSTAT: 'NEEDS-ACTION', ROLE: 'REQ-PARTICIPANT' });
    expect(prop(ics, 'STATUS')[0].value).toBe('CONFIRMED');
    expect(names.at(-1)).toBe('END');
  });

  it('uses CRLF line endings only, and folds every line at 75 octets without splitting a character', () => {
    const ics = meetingInvitationIcs({ ...base, description: 'Éléphant ' + 'àéèêëîïôöùûüç€😀 '.repeat(20) });
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = ics.split('\r\n').slice(0, -1);
    for (const line of lines) {
      expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
      expect(line).not.toContain('\uFFFD');
      expect(Buffer.from(line, 'utf8').toString('utf8')).toBe(line);
    }
    expect(lines.filter((l) => l.startsWith(' ')).length).toBeGreaterThan(5);
    expect(unescape(prop(ics, 'DESCRIPTION')[0].value)).toBe('Éléphant ' + 'àéèêëîïôöùûüç€😀 '.repeat(20));
  });

  it('folds exactly: 75 octets on the first line, 1 space + 74 on the next', () => {
    const folded = foldLine('X'.repeat(200));
    const lines = folded.split('\r\n');
    expect(lines.map((l) => l.length)).toEqual([75, 75, 52]); // 200 = 75 + 74 + 51 characters of content
    expect(lines.slice(1).every((l) => l.startsWith(' '))).toBe(true);
    expect(foldLine('short')).toBe('short');
    // A 2-octet character that would straddle the limit moves to the next line whole.
    const accents = foldLine('ab' + 'é'.repeat(40));
    expect(accents.split('\r\n').map((l) => Buffer.byteLength(l))).toEqual([74, 9]);
    expect(accents.replace(/\r\n /g, '')).toBe('ab' + 'é'.repeat(40));
  });

  it('escapes backslash, semicolon, comma and line breaks', () => {
    expect(escapeText('a,b;c\\d\ne\r\nf')).toBe('a\\,b\\;c\\\\d\\ne\\nf');
    expect(unescape(escapeText('a,b;c\\d\ne'))).toBe('a,b;c\\d\ne');
  });

  it('writes Paris wall-clock times on both sides of each daylight-saving change', () => {
    // Winter (UTC+1), summer (UTC+2), and the days of the changes themselves.
    expect(parisLocalStamp(new Date('2027-01-12T09:00:00Z'))).toBe('20270112T100000');
    expect(parisLocalStamp(new Date('2027-07-01T12:30:00Z'))).toBe('20270701T143000');
    expect(parisLocalStamp(new Date('2027-03-28T00:59:00Z'))).toBe('20270328T015900'); // just before 02:00 → 03:00
    expect(parisLocalStamp(new Date('2027-03-28T01:00:00Z'))).toBe('20270328T030000');
    expect(parisLocalStamp(new Date('2027-03-28T08:00:00Z'))).toBe('20270328T100000');
    expect(parisLocalStamp(new Date('2026-10-25T00:30:00Z'))).toBe('20261025T023000'); // first 02:30 (summer)
    expect(parisLocalStamp(new Date('2026-10-25T09:00:00Z'))).toBe('20261025T100000');
    const ics = meetingInvitationIcs({ ...base, start: new Date('2027-03-26T13:00:00Z'), end: new Date('2027-03-29T12:00:00Z') });
    // A meeting across the change: 14:00 Friday in winter, 14:00 Monday in summer.
    expect(eventProp(ics, 'DTSTART')[0].value).toBe('20270326T140000');
    expect(eventProp(ics, 'DTEND')[0].value).toBe('20270329T140000');
  });

  it('keeps the UID across updates (SEQUENCE grows), and cancels with METHOD:CANCEL', () => {
    const first = meetingInvitationIcs(base);
    const moved = meetingInvitationIcs({ ...base, sequence: 1, start: new Date('2026-12-16T13:30:00Z'), end: new Date('2026-12-16T14:30:00Z') });
    const cancelled = meetingInvitationIcs({ ...base, sequence: 2, cancelled: true });
    expect(prop(moved, 'UID')[0].value).toBe(prop(first, 'UID')[0].value);
    expect(prop(moved, 'SEQUENCE')[0].value).toBe('1');
    expect(prop(cancelled, 'METHOD')[0].value).toBe('CANCEL');
    expect(prop(cancelled, 'STATUS')[0].value).toBe('CANCELLED');
    expect(prop(meetingInvitationIcs({ ...base, meetingId: 'other-2' }), 'UID')[0].value).not.toBe(prop(first, 'UID')[0].value);
  });

  it('gives the same bytes for the same meeting', () => {
    expect(meetingInvitationIcs(base)).toBe(meetingInvitationIcs({ ...base }));
  });

  it('puts a video link in URL, and in LOCATION when there is no place', () => {
    const video = meetingInvitationIcs({ ...base, location: undefined, videoUrl: 'https://visio.example.org/rdv-42?pwd=a,b' });
    expect(prop(video, 'URL')[0].value).toBe('https://visio.example.org/rdv-42?pwd=a,b');
    expect(unescape(prop(video, 'LOCATION')[0].value)).toBe('https://visio.example.org/rdv-42?pwd=a,b');
    const both = meetingInvitationIcs({ ...base, videoUrl: 'https://visio.example.org/x' });
    expect(unescape(prop(both, 'LOCATION')[0].value)).toBe(base.location);
  });

  it('refuses a meeting that ends before it starts', () => {
    expect(() => meetingInvitationIcs({ ...base, end: base.start })).toThrow(/end must be after/);
  });
});
