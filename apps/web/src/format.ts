/** "1:02:03" / "4:05" from seconds. */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function since(iso: string, now = Date.now()): string {
  return clock((now - Date.parse(iso)) / 1000);
}

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
export function viewers(n: number): string {
  return `${compact.format(n)} ${n === 1 ? 'viewer' : 'viewers'}`;
}

const dateFmt = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });
const timeFmt = new Intl.DateTimeFormat('en', { hour: '2-digit', minute: '2-digit' });
export function date(iso: string): string {
  return dateFmt.format(new Date(iso));
}
export function time(iso: string): string {
  return timeFmt.format(new Date(iso));
}
export function dateTime(iso: string): string {
  const d = new Date(iso);
  return `${dateFmt.format(d)} ${timeFmt.format(d)}`;
}

/**
 * An amount in minor units of `currency` (ISO 4217, any case) as money: 499 usd → "$4.99".
 * The minor unit is the currency's own (two decimals for most, none for yen).
 */
export function money(minor: number, currency: string): string {
  const fmt = new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() });
  const digits = fmt.resolvedOptions().maximumFractionDigits ?? 2;
  return fmt.format(minor / 10 ** digits);
}

const monthFmt = new Intl.DateTimeFormat('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
/** "December 2026" from "2026-12". */
export function month(yyyyMm: string): string {
  const [y, m] = yyyyMm.split('-').map(Number);
  if (!y || !m) return yyyyMm;
  return monthFmt.format(new Date(Date.UTC(y, m - 1, 1)));
}
