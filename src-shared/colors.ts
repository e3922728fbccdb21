// Exits are coloured shallow → deep along one ramp (so depth reads at a glance); runs being
// compared get clearly distinct hues. Shared by the app's charts and the study's figure files, so
// that an exit or an attack has the same colour on screen and in a report.
const EXIT_RAMP = ['#4e79a7', '#59a14f', '#9c755f', '#f28e2b', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#bab0ac', '#ff9da7', '#86bcb6', '#8cd17d'];
export const exitColor = (exit: number) => EXIT_RAMP[exit % EXIT_RAMP.length];

const RUN_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
export const runColor = (index: number) => RUN_COLORS[index % RUN_COLORS.length];

const ATTACK_COLORS: Record<string, string> = {
  clean: '#4e79a7', fgsm: '#f28e2b', pgd: '#e15759', pgd20: '#e15759', pgd50: '#b0344a', bim: '#ff9da7', mim: '#9c755f', cw: '#76b7b2', cw100: '#3f8f8a',
  'apgd-ce': '#17becf', 'apgd-t': '#bcbd22', 'fab-t': '#8c564b', square: '#e377c2', aa: '#59a14f',
};
export const attackColor = (attack: string) => ATTACK_COLORS[attack] ?? '#888';
