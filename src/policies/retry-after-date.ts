// The date form of Retry-After, read as urllib3 reads it (docs/api.md section 6):
// with the lenient RFC 5322 date parser of Python's e-mail package
// (`email.utils.parsedate_tz` then `mktime_tz`), not only RFC 9110's three
// HTTP-date formats. So a missing weekday or zone, two-digit years, the North
// American zone names (EST, PDT ...), "." between time fields and day/month
// in either order are accepted; an unknown zone counts as UTC; out-of-range
// fields carry over ("32 Jun" is 2 Jul, "24:00:00" the next day) as a
// calendar sum does.
//
// It does no I/O and knows no clock: callers subtract "now" themselves.

const MONTH_NAMES = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

const DAY_NAMES = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

/** Named zones as hours*100 + minutes east of UTC (RFC 822's, less the military ones but Z). */
const ZONES: Record<string, number> = {
  UT: 0,
  UTC: 0,
  GMT: 0,
  Z: 0,
  AST: -400,
  ADT: -300,
  EST: -500,
  EDT: -400,
  CST: -600,
  CDT: -500,
  MST: -700,
  MDT: -600,
  PST: -800,
  PDT: -700,
};

// The white space Python's str.split() splits on.
const SPACES_RE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

// An integer as Python's int() reads one: a sign, digits, "_" between digits.
const INT_RE = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

function toInt(text: string): number | null {
  return INT_RE.test(text) ? Number(text.replaceAll('_', '')) : null;
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** Seconds east of UTC for a zone field; unknown, empty and "-0000" zones are UTC. */
function zoneOffset(zone: string): number {
  const tz = zone.toUpperCase();
  let value = ZONES[tz];
  if (value === undefined) value = toInt(tz) ?? 0;
  if (value === 0) return 0;
  const sign = value < 0 ? -1 : 1;
  const abs = Math.abs(value);
  // "+0530" is 5 h 30 min; the minutes are not range-checked ("+0099" is 99 min).
  return sign * (Math.floor(abs / 100) * 3600 + (abs % 100) * 60);
}

interface DateFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  offset: number;
}

/** Splits a date into its fields as parsedate_tz does, or null when it cannot. */
function dateFields(value: string): DateFields | null {
  let data = value.split(SPACES_RE).filter((part) => part !== '');
  if (data.length === 0) return null;
  // A weekday, with or without its comma, is skipped; "Mon,03" keeps "03".
  if (data[0]!.endsWith(',') || DAY_NAMES.has(data[0]!.toLowerCase())) data.shift();
  else {
    const comma = data[0]!.lastIndexOf(',');
    if (comma >= 0) data[0] = data[0]!.slice(comma + 1);
  }
  if (data.length === 3) {
    // RFC 850: "03-Jun-19 11:30:12 GMT".
    const parts = data[0]!.split('-');
    if (parts.length === 3) data = [...parts, ...data.slice(1)];
  }
  if (data.length === 4) {
    // "11:30:12+0100": the zone glued to the time; else no zone at all.
    const s = data[3]!;
    let at = s.indexOf('+');
    if (at === -1) at = s.indexOf('-');
    if (at > 0) data.splice(3, 1, s.slice(0, at), s.slice(at));
    else data.push('');
  }
  if (data.length < 5) return null;
  let [dd, mm, yy, tm, tz] = data.slice(0, 5) as [string, string, string, string, string];
  if (!(dd && mm && yy)) return null;
  // Day and month may come in either order ("Jun 03 2019").
  mm = mm.toLowerCase();
  if (!MONTH_NAMES.includes(mm)) {
    [dd, mm] = [mm, dd.toLowerCase()];
    if (!MONTH_NAMES.includes(mm)) return null;
  }
  const month = (MONTH_NAMES.indexOf(mm) % 12) + 1;
  if (dd.endsWith(',')) dd = dd.slice(0, -1);
  // asctime puts the year after the time.
  if (yy.indexOf(':') > 0) [yy, tm] = [tm, yy];
  if (yy.endsWith(',')) {
    yy = yy.slice(0, -1);
    if (yy === '') return null;
  }
  if (!isDigit(yy[0])) [yy, tz] = [tz, yy];
  if (tm.endsWith(',')) tm = tm.slice(0, -1);
  let clock = tm.split(':');
  if (clock.length === 1 && tm.includes('.')) clock = tm.split('.');
  if (clock.length === 2) clock.push('0');
  if (clock.length !== 3) return null;
  const numbers = [yy, dd, ...clock].map(toInt);
  if (numbers.some((n) => n === null)) return null;
  const [year, day, hour, minute, second] = numbers as [number, number, number, number, number];
  return {
    // Two-digit years as POSIX reads them: 69-99 are 1969-1999, 00-68 are 2000-2068.
    year: year < 100 ? year + (year > 68 ? 1900 : 2000) : year,
    month,
    day,
    hour,
    minute,
    second,
    offset: zoneOffset(tz),
  };
}

/**
 * Epoch ms of a Retry-After date, or null when it is not one. Years outside
 * 1-9999 are null too (Python's calendar refuses them).
 */
export function parseRetryAfterDate(value: string): number | null {
  const f = dateFields(value);
  if (f === null || f.year < 1 || f.year > 9999) return null;
  // The first of the month, then the rest as plain arithmetic, so "32 Jun" carries into July.
  const first = new Date(Date.UTC(2000, f.month - 1, 1));
  first.setUTCFullYear(f.year);
  const seconds = (f.day - 1) * 86_400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset;
  const epoch = first.getTime() + seconds * 1000;
  return Number.isFinite(epoch) ? epoch : null;
}
