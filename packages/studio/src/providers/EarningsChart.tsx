// A provider's earnings over time as a step chart (uPlot), loaded only with the provider's page:
// uPlot is small (about 20 kB gzipped, no dependencies) and draws on one canvas, so it stays fast
// with thousands of points. The canvas is hidden from screen readers: the page shows the same
// numbers as a table beside it.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatUnits } from "viem";
import type { EarningPoint } from "./networkData.ts";

const HEIGHT = 240;

/** How far before the first payment the line starts from nothing (seconds), so one payment still reads as a step. */
const LEAD_SECONDS = 60;

/**
 * The series uPlot draws: seconds on x, cumulative LILY on y, from nothing a minute before the
 * first payment, through each payment, and flat on to `now` (what it has earned until now).
 */
export function chartData(points: EarningPoint[], now: number): [number[], number[]] {
  if (points.length === 0) return [[], []];
  const lily = (p: EarningPoint) => Number(formatUnits(BigInt(p.earned), 18));
  const last = points[points.length - 1]!;
  const xs = [points[0]!.time - LEAD_SECONDS, ...points.map((p) => p.time)];
  const ys = [0, ...points.map(lily)];
  if (now > last.time) {
    xs.push(now);
    ys.push(lily(last));
  }
  return [xs, ys];
}

export default function EarningsChart({ points }: { points: EarningPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{}, { label: "LILY earned", size: 60 }],
      series: [{}, { label: "Earned (LILY)", stroke: "#6b2fb3", fill: "rgba(107, 47, 179, 0.12)", width: 2, paths: uPlot.paths.stepped?.({ align: 1 }) }],
    };
    plot.current = new uPlot(opts, [[], []], el);
    // Follow the container's width (a phone turned, a window resized).
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(chartData(points, Math.floor(Date.now() / 1000)));
  }, [points]);

  return <div ref={box} className="earnings-chart" aria-hidden="true" data-testid="earnings-chart" data-points={points.length} />;
}
