/**
 * Meeting invitations as iCalendar (RFC 5545) files, the `.ics` attached to the invitation
 * email sent to a sponsor's contact and the student. Times are written in Paris wall-clock time
 * with a VTIMEZONE for Europe/Paris, so calendars show the meeting at the time agreed even when
 * it falls on the other side of a daylight-saving change.
 */

import { parisParts } from '../workflows/shared/send-window';

export interface IcsPerson {
  name: string;
  email: string;
}

export interface MeetingInvitation {
  /** The meeting's id: the event's UID is derived from it, so updates replace the same event. */
  meetingId: string;
  /** Domain of the UID (the association's mail domain). */
  uidDomain: string;
  /** 0 for the first invitation; increased by one for each update or cancellation. */
  sequence: number;
  start: Date;
  end: Date;
  summary: string;
  description?: string;
  /** A place: street address, room. */
  location?: string;
  /** A video call link (written as URL, and as LOCATION when there is no place). */
  videoUrl?: string;
  organizer: IcsPerson;
  attendees: IcsPerson[];
  /** When the invitation was made (DTSTAMP); passed in so the same meeting gives the same bytes. */
  stamp: Date;
  /** A cancellation (METHOD:CANCEL) instead of a request. */
  cancelled?: boolean;
  /** PRODID; default `-//Mécène//Rendez-vous//FR`. */
  productId?: string;
}

const CRLF = '\r\n';

/** The Europe/Paris rules since 1996 (EU): last Sunday of March 02:00 → +02, last Sunday of October 03:00 → +01. */
export const PARIS_VTIMEZONE = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Paris',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

/** Escapes a TEXT value: backslash, semicolon, comma and line breaks (RFC 5545 §3.3.11). */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** A parameter value (CN): quoted, without the double quotes and control characters it cannot hold. */
function paramValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/["\u0000-\u001f\u007f]/g, '')}"`;
}

/**
 * Folds a content line at 75 octets (RFC 5545 §3.1): continuation lines start with one space,
 * which counts in their 75; a UTF-8 character is never split across lines.
 */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  let limit = 75;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      out.push(current);
      current = ' ';
      octets = 1;
      limit = 75;
    }
    current += char;
    octets += size;
  }
  out.push(current);
  return out.join(CRLF);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** UTC form, `20270315T133000Z`. */
export function utcStamp(date: Date): string {
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
}

/** Paris wall-clock form for `DTSTART;TZID=Europe/Paris:`, `20270315T143000`. */
export function parisLocalStamp(date: Date): string {
  const p = parisParts(date.getTime());
  return `${p.day.replaceAll('-', '')}T${pad(p.hour)}${pad(p.minute)}${pad(p.second)}`;
}

/** The `.ics` file of a meeting invitation (or its cancellation), CRLF line endings, folded. */
export function meetingInvitationIcs(m: MeetingInvitation): string {
  if (!(m.end.getTime() > m.start.getTime())) throw new Error('meeting end must be after its start');
  if (!Number.isInteger(m.sequence) || m.sequence < 0) throw new Error('sequence must be a non-negative integer');
  const method = m.cancelled ? 'CANCEL' : 'REQUEST';
  const location = m.location ?? m.videoUrl;
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${m.productId ?? '-//Mécène//Rendez-vous//FR'}`,
    'CALSCALE:GREGORIAN',
    `METHOD:${method}`,
    ...PARIS_VTIMEZONE,
    'BEGIN:VEVENT',
    `UID:meeting-${m.meetingId}@${m.uidDomain}`,
    `SEQUENCE:${m.sequence}`,
    `DTSTAMP:${utcStamp(m.stamp)}`,
    `DTSTART;TZID=Europe/Paris:${parisLocalStamp(m.start)}`,
    `DTEND;TZID=Europe/Paris:${parisLocalStamp(m.end)}`,
    `SUMMARY:${escapeText(m.summary)}`,
    ...(location ? [`LOCATION:${escapeText(location)}`] : []),
    ...(m.videoUrl ? [`URL:${m.videoUrl}`] : []),
    ...(m.description ? [`DESCRIPTION:${escapeText(m.description)}`] : []),
    `ORGANIZER;CN=${paramValue(m.organizer.name)}:mailto:${m.organizer.email}`,
    ...m.attendees.map(
      (a) => `ATTENDEE;CN=${paramValue(a.name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${a.email}`,
    ),
    `STATUS:${m.cancelled ? 'CANCELLED' : 'CONFIRMED'}`,
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(foldLine).join(CRLF) + CRLF;
}
