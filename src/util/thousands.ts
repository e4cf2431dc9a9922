/**
 * An integer with comma thousands separators (`115,269,452`), as toLocaleString('en-US') writes
 * it. Not toLocaleString itself: its first call loads ICU's locale data, about 60 ms of a
 * one-second `fdk convert`.
 */
export function thousands(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const digits = String(Math.abs(Math.round(n)));
  return (n < 0 && Math.round(n) !== 0 ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
