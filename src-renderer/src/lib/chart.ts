// chart.js with only the pieces the app draws (tree-shaken), animations off so that live updates
// and screenshots show the current data at once.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, BarController, BarElement, Legend, Tooltip, Title, Filler);
Chart.defaults.animation = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.font.size = 11;
Chart.defaults.color = '#3b4252';
Chart.defaults.maintainAspectRatio = false;

export { Chart };

export interface Series {
  label: string;
  points: Array<{ x: number; y: number }>;
  color: string;
  dashed?: boolean;
}

export interface BarGroup {
  label: string;
  values: Array<number | null>;
  color: string;
}
