/**
 * Go's time.Time for confd's `datetime` (time.Now): String(), Format(layout) with Go's reference
 * layout ("Mon Jan 2 15:04:05 MST 2006"), and the common accessors, callable from templates as
 * methods (`{{datetime.Format "2006-01-02"}}`, `{{datetime.Year}}`).
 */
import { GoError } from './errors.js';
import { T, type GoMethod } from './types.js';
import { GO_TYPE, GoNumber, goMethod, intOf } from './values.js';

/** A fixed zone: Go's time.FixedZone(name, offsetSeconds). UTC is {name: "UTC", offset: 0}. */
export interface GoZone {
  name: string;
  offsetSeconds: number;
}

export const UTC: GoZone = { name: 'UTC', offsetSeconds: 0 };

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const MONTH_TYPE = T.named('time.Month', T.int, {
  String: goMethod([], 'string', (m: GoNumber) => {
    const n = Number(m.value);
    return n >= 1 && n <= 12 ? MONTHS[n - 1]! : `%!Month(${n})`;
  }),
});
export const WEEKDAY_TYPE = T.named('time.Weekday', T.int, {
  String: goMethod([], 'string', (d: GoNumber) => {
    const n = Number(d.value);
    return n >= 0 && n <= 6 ? DAYS[n]! : `%!Weekday(${n})`;
  }),
});
export const DURATION_TYPE = T.named('time.Duration', T.int64);

// std chunk codes
const enum Std {
  None,
  LongMonth,
  Month,
  NumMonth,
  ZeroMonth,
  LongWeekDay,
  WeekDay,
  Day,
  UnderDay,
  ZeroDay,
  UnderYearDay,
  ZeroYearDay,
  Hour,
  Hour12,
  ZeroHour12,
  Minute,
  ZeroMinute,
  Second,
  ZeroSecond,
  LongYear,
  Year,
  PM,
  pm,
  TZ,
  ISO8601TZ,
  ISO8601SecondsTZ,
  ISO8601ShortTZ,
  ISO8601ColonTZ,
  ISO8601ColonSecondsTZ,
  NumTZ,
  NumSecondsTz,
  NumShortTZ,
  NumColonTZ,
  NumColonSecondsTZ,
  FracSecond0,
  FracSecond9,
}

interface Chunk {
  prefix: string;
  std: Std;
  suffix: string;
  /** fractional seconds: digit count and separator */
  digits?: number;
  sep?: string;
}

const STD0X = [Std.ZeroMonth, Std.ZeroDay, Std.ZeroHour12, Std.ZeroMinute, Std.ZeroSecond, Std.Year];

const startsWithLowerCase = (s: string): boolean => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z';
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** time.nextStdChunk. */
function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const at = (s: string): boolean => layout.startsWith(s, i);
    const ret = (std: Std, len: number, extra: Partial<Chunk> = {}): Chunk => ({
      prefix: layout.slice(0, i),
      std,
      suffix: layout.slice(i + len),
      ...extra,
    });
    switch (c) {
      case 'J':
        if (at('Jan')) {
          if (at('January')) return ret(Std.LongMonth, 7);
          if (!startsWithLowerCase(layout.slice(i + 3))) return ret(Std.Month, 3);
        }
        break;
      case 'M':
        if (at('Mon')) {
          if (at('Monday')) return ret(Std.LongWeekDay, 6);
          if (!startsWithLowerCase(layout.slice(i + 3))) return ret(Std.WeekDay, 3);
        }
        if (at('MST')) return ret(Std.TZ, 3);
        break;
      case '0':
        if (i + 1 < layout.length && layout[i + 1]! >= '1' && layout[i + 1]! <= '6') {
          return ret(STD0X[layout.charCodeAt(i + 1) - 49]!, 2);
        }
        if (at('002')) return ret(Std.ZeroYearDay, 3);
        break;
      case '1':
        if (at('15')) return ret(Std.Hour, 2);
        return ret(Std.NumMonth, 1);
      case '2':
        if (at('2006')) return ret(Std.LongYear, 4);
        return ret(Std.Day, 1);
      case '_':
        if (at('_2')) {
          if (at('_2006')) return { prefix: layout.slice(0, i + 1), std: Std.LongYear, suffix: layout.slice(i + 5) };
          return ret(Std.UnderDay, 2);
        }
        if (at('__2')) return ret(Std.UnderYearDay, 3);
        break;
      case '3':
        return ret(Std.Hour12, 1);
      case '4':
        return ret(Std.Minute, 1);
      case '5':
        return ret(Std.Second, 1);
      case 'P':
        if (at('PM')) return ret(Std.PM, 2);
        break;
      case 'p':
        if (at('pm')) return ret(Std.pm, 2);
        break;
      case '-':
        if (at('-070000')) return ret(Std.NumSecondsTz, 7);
        if (at('-07:00:00')) return ret(Std.NumColonSecondsTZ, 9);
        if (at('-0700')) return ret(Std.NumTZ, 5);
        if (at('-07:00')) return ret(Std.NumColonTZ, 6);
        if (at('-07')) return ret(Std.NumShortTZ, 3);
        break;
      case 'Z':
        if (at('Z070000')) return ret(Std.ISO8601SecondsTZ, 7);
        if (at('Z07:00:00')) return ret(Std.ISO8601ColonSecondsTZ, 9);
        if (at('Z0700')) return ret(Std.ISO8601TZ, 5);
        if (at('Z07:00')) return ret(Std.ISO8601ColonTZ, 6);
        if (at('Z07')) return ret(Std.ISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.length && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return {
              prefix: layout.slice(0, i),
              std: ch === '0' ? Std.FracSecond0 : Std.FracSecond9,
              suffix: layout.slice(j),
              digits: j - (i + 1),
              sep: c,
            };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: Std.None, suffix: '' };
}

function appendInt(x: number, width: number): string {
  const neg = x < 0;
  let s = String(Math.abs(x));
  if (s.length < width) s = '0'.repeat(width - s.length) + s;
  return neg ? '-' + s : s;
}

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SEC = 1_000_000_000n;

/** time.Time with a fixed zone; `nanos` is nanoseconds since the Unix epoch. */
export class GoTime {
  constructor(
    readonly nanos: bigint,
    readonly zone: GoZone = UTC,
  ) {}

  static fromDate(d: Date, zone: GoZone = UTC): GoTime {
    return new GoTime(BigInt(d.getTime()) * NANOS_PER_MS, zone);
  }

  private civil(): { year: number; month: number; day: number; yday: number; weekday: number; hour: number; min: number; sec: number; nsec: number } {
    const secs = this.nanos / NANOS_PER_SEC - (this.nanos < 0n && this.nanos % NANOS_PER_SEC !== 0n ? 1n : 0n);
    let nsec = Number(this.nanos - secs * NANOS_PER_SEC);
    const local = Number(secs) + this.zone.offsetSeconds;
    const d = new Date(local * 1000);
    const year = d.getUTCFullYear();
    const start = Date.UTC(year, 0, 1);
    const yday = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - start) / 86400000) + 1;
    if (nsec < 0) nsec += 1e9;
    return {
      year,
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      yday,
      weekday: d.getUTCDay(),
      hour: d.getUTCHours(),
      min: d.getUTCMinutes(),
      sec: d.getUTCSeconds(),
      nsec,
    };
  }

  /** time.Time.Format. */
  format(layout: string): string {
    const c = this.civil();
    const offset = this.zone.offsetSeconds;
    let out = '';
    while (layout !== '') {
      const ch = nextStdChunk(layout);
      out += ch.prefix;
      if (ch.std === Std.None) break;
      layout = ch.suffix;
      switch (ch.std) {
        case Std.Year:
          out += appendInt(Math.abs(c.year) % 100, 2);
          break;
        case Std.LongYear:
          out += appendInt(c.year, 4);
          break;
        case Std.Month:
          out += MONTHS[c.month - 1]!.slice(0, 3);
          break;
        case Std.LongMonth:
          out += MONTHS[c.month - 1]!;
          break;
        case Std.NumMonth:
          out += appendInt(c.month, 0);
          break;
        case Std.ZeroMonth:
          out += appendInt(c.month, 2);
          break;
        case Std.WeekDay:
          out += DAYS[c.weekday]!.slice(0, 3);
          break;
        case Std.LongWeekDay:
          out += DAYS[c.weekday]!;
          break;
        case Std.Day:
          out += appendInt(c.day, 0);
          break;
        case Std.UnderDay:
          out += (c.day < 10 ? ' ' : '') + appendInt(c.day, 0);
          break;
        case Std.ZeroDay:
          out += appendInt(c.day, 2);
          break;
        case Std.UnderYearDay:
          out += (c.yday < 100 ? (c.yday < 10 ? '  ' : ' ') : '') + appendInt(c.yday, 0);
          break;
        case Std.ZeroYearDay:
          out += appendInt(c.yday, 3);
          break;
        case Std.Hour:
          out += appendInt(c.hour, 2);
          break;
        case Std.Hour12:
          out += appendInt(c.hour % 12 === 0 ? 12 : c.hour % 12, 0);
          break;
        case Std.ZeroHour12:
          out += appendInt(c.hour % 12 === 0 ? 12 : c.hour % 12, 2);
          break;
        case Std.Minute:
          out += appendInt(c.min, 0);
          break;
        case Std.ZeroMinute:
          out += appendInt(c.min, 2);
          break;
        case Std.Second:
          out += appendInt(c.sec, 0);
          break;
        case Std.ZeroSecond:
          out += appendInt(c.sec, 2);
          break;
        case Std.PM:
          out += c.hour >= 12 ? 'PM' : 'AM';
          break;
        case Std.pm:
          out += c.hour >= 12 ? 'pm' : 'am';
          break;
        case Std.TZ:
          if (this.zone.name !== '') {
            out += this.zone.name;
          } else {
            let zone = Math.trunc(offset / 60);
            out += zone < 0 ? '-' : '+';
            zone = Math.abs(zone);
            out += appendInt(Math.trunc(zone / 60), 2) + appendInt(zone % 60, 2);
          }
          break;
        case Std.FracSecond0:
        case Std.FracSecond9: {
          const trim = ch.std === Std.FracSecond9;
          const n = ch.digits!;
          if (trim && (n === 0 || c.nsec === 0)) break;
          let frac = appendInt(c.nsec, 9);
          if (n < 9) frac = frac.slice(0, n);
          let s = ch.sep! + frac;
          if (trim) {
            s = s.replace(/0+$/, '');
            if (s === ch.sep) s = '';
          }
          out += s;
          break;
        }
        default: {
          // numeric zones
          const iso = [Std.ISO8601TZ, Std.ISO8601ColonTZ, Std.ISO8601SecondsTZ, Std.ISO8601ShortTZ, Std.ISO8601ColonSecondsTZ].includes(ch.std);
          if (offset === 0 && iso) {
            out += 'Z';
            break;
          }
          let zone = Math.trunc(offset / 60);
          let absoffset = offset;
          if (zone < 0) {
            out += '-';
            zone = -zone;
            absoffset = -absoffset;
          } else {
            out += '+';
          }
          out += appendInt(Math.trunc(zone / 60), 2);
          const colon = [Std.ISO8601ColonTZ, Std.NumColonTZ, Std.ISO8601ColonSecondsTZ, Std.NumColonSecondsTZ].includes(ch.std);
          if (colon) out += ':';
          if (ch.std !== Std.NumShortTZ && ch.std !== Std.ISO8601ShortTZ) out += appendInt(zone % 60, 2);
          if ([Std.ISO8601SecondsTZ, Std.NumSecondsTz, Std.NumColonSecondsTZ, Std.ISO8601ColonSecondsTZ].includes(ch.std)) {
            if (ch.std === Std.NumColonSecondsTZ || ch.std === Std.ISO8601ColonSecondsTZ) out += ':';
            out += appendInt(absoffset % 60, 2);
          }
        }
      }
    }
    return out;
  }

  /** time.Time.String without the monotonic clock reading (an injected clock has none). */
  toString(): string {
    return this.format('2006-01-02 15:04:05.999999999 -0700 MST');
  }

  civilFields(): ReturnType<GoTime['civil']> {
    return this.civil();
  }
}

const int64 = (n: bigint): GoNumber => new GoNumber(T.int64, n);

function addDate(t: GoTime, years: number, months: number, days: number): GoTime {
  const c = t.civilFields();
  const ms = Date.UTC(c.year + years, c.month - 1 + months, c.day + days, c.hour, c.min, c.sec);
  const secs = BigInt(Math.floor(ms / 1000)) - BigInt(t.zone.offsetSeconds);
  return new GoTime(secs * NANOS_PER_SEC + BigInt(c.nsec), t.zone);
}

const methods: Record<string, GoMethod> = {
  String: goMethod([], 'string', (t: GoTime) => t.toString()),
  Format: goMethod(['string'], 'string', (t: GoTime, layout: string) => t.format(layout)),
  Unix: goMethod([], T.int64, (t: GoTime) => int64(t.nanos / NANOS_PER_SEC - (t.nanos < 0n && t.nanos % NANOS_PER_SEC !== 0n ? 1n : 0n))),
  UnixMilli: goMethod([], T.int64, (t: GoTime) => int64(t.nanos / NANOS_PER_MS)),
  UnixNano: goMethod([], T.int64, (t: GoTime) => int64(t.nanos)),
  Year: goMethod([], 'int', (t: GoTime) => t.civilFields().year),
  Month: goMethod([], MONTH_TYPE, (t: GoTime) => new GoNumber(MONTH_TYPE, t.civilFields().month)),
  Day: goMethod([], 'int', (t: GoTime) => t.civilFields().day),
  Hour: goMethod([], 'int', (t: GoTime) => t.civilFields().hour),
  Minute: goMethod([], 'int', (t: GoTime) => t.civilFields().min),
  Second: goMethod([], 'int', (t: GoTime) => t.civilFields().sec),
  Nanosecond: goMethod([], 'int', (t: GoTime) => t.civilFields().nsec),
  YearDay: goMethod([], 'int', (t: GoTime) => t.civilFields().yday),
  Weekday: goMethod([], WEEKDAY_TYPE, (t: GoTime) => new GoNumber(WEEKDAY_TYPE, t.civilFields().weekday)),
  UTC: goMethod([], 'any', (t: GoTime) => new GoTime(t.nanos, UTC)),
  Local: goMethod([], 'any', (t: GoTime) => t),
  IsZero: goMethod([], 'bool', (t: GoTime) => t.nanos === -62135596800n * NANOS_PER_SEC),
  AddDate: goMethod(['int', 'int', 'int'], 'any', (t: GoTime, y: number, m: number, d: number) => addDate(t, y, m, d)),
  Add: goMethod([DURATION_TYPE], 'any', (t: GoTime, d: unknown) => new GoTime(t.nanos + intOf(d), t.zone)),
  Before: goMethod(['any'], 'bool', (t: GoTime, u: unknown) => t.nanos < asTime(u).nanos),
  After: goMethod(['any'], 'bool', (t: GoTime, u: unknown) => t.nanos > asTime(u).nanos),
  Equal: goMethod(['any'], 'bool', (t: GoTime, u: unknown) => t.nanos === asTime(u).nanos),
};

function asTime(u: unknown): GoTime {
  if (u instanceof GoTime) return u;
  throw new GoError('expected a time.Time');
}

export const TIME_TYPE = T.struct('time.Time', [], methods);
Object.defineProperty(GoTime, GO_TYPE, { value: TIME_TYPE });
