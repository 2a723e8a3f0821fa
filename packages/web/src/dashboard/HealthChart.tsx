import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { chartColumns, type HealthSeries } from '../lib/health.js';

const COLORS = { bps: '#4c9aff', rtt: '#f5a524', loss: '#ff6369' };

/**
 * Bitrate (Mbit/s, left axis), RTT (ms, right axis) and loss (%) for the last minutes. Each
 * series has its own line style as well as its colour, and the numbers are also in text beside
 * the chart.
 */
export function HealthChart({
  series,
  version,
  label,
}: {
  series: HealthSeries | undefined;
  version: number;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 150,
      legend: { show: true, live: false },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        mbps: { range: (_u, _min, mx) => [0, Math.max(1, mx * 1.2)] },
        ms: { range: (_u, _min, mx) => [0, Math.max(50, mx * 1.2)] },
        pct: { range: (_u, _min, mx) => [0, Math.max(5, mx * 1.2)] },
      },
      series: [
        {},
        {
          label: 'Mbit/s',
          scale: 'mbps',
          stroke: COLORS.bps,
          width: 2,
          fill: 'rgba(76,154,255,0.12)',
        },
        { label: 'RTT ms', scale: 'ms', stroke: COLORS.rtt, width: 1.5, dash: [6, 3] },
        { label: 'loss %', scale: 'pct', stroke: COLORS.loss, width: 1.5, dash: [2, 3] },
      ],
      axes: [
        {
          stroke: '#9aa4b2',
          grid: { stroke: 'rgba(255,255,255,0.06)' },
          ticks: { stroke: 'rgba(255,255,255,0.1)' },
        },
        { scale: 'mbps', stroke: '#9aa4b2', grid: { stroke: 'rgba(255,255,255,0.06)' }, size: 40 },
        {
          scale: 'ms',
          // uPlot's Side is an ambient const enum, unreadable under isolatedModules: 1 is Right.
          // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment, @typescript-eslint/no-unnecessary-type-assertion
          side: 1 as uPlot.Axis.Side,
          stroke: '#9aa4b2',
          grid: { show: false },
          size: 44,
        },
      ],
    };
    const p = new uPlot(opts, chartColumns([]), el);
    plot.current = p;
    const ro = new ResizeObserver(() => {
      p.setSize({ width: Math.max(240, el.clientWidth), height: 150 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, []);

  const points = series?.points() ?? [];
  useEffect(() => {
    plot.current?.setData(chartColumns(points));
  }, [version, series]);

  return <div class="chart" ref={box} role="img" aria-label={label} data-points={points.length} />;
}
