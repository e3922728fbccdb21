// Number and time formatting shared by the views.
import { attackName } from '../../../src-shared/evaluation';
export const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(digits)}%`);

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function compact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n * 100) / 100);
}

export const date = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
};

/**
 * An attack as papers write it, from a stored evaluation (names from src-shared/evaluation.ts):
 * `pgd` (the per-epoch PGD-10) and `pgd20` are both "PGD-<steps>", `cw` is "CW∞-<steps>"; ε in
 * /255 follows every attack but clean.
 */
export function attackLabel(attack: string, steps: number, eps: number): string {
  if (attack === 'clean') return 'clean';
  return `${attackName(attack, steps)} · ε ${eps}/255`;
}
