// A small SVG scatter chart (no dependencies): log or linear x, linear y, labelled points,
// and an optional shaded target region.

export interface Point {
  label: string;
  x: number;
  y: number;
  /** 'main' filled circle, 'alt' hollow diamond (e.g. an end-to-end measurement) */
  series?: 'main' | 'alt';
  /** label placement relative to the point */
  anchor?: 'right' | 'left' | 'above' | 'below';
}

export interface ScatterSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  points: Point[];
  logX?: boolean;
  logY?: boolean;
  /** shaded region x <= xMax and y <= yMax */
  target?: { xMax: number; yMax: number; label: string };
  legend?: { main: string; alt?: string };
  /** a curve drawn through its points in x order (e.g. the optimal frontier), labelled at its end */
  line?: { label: string; points: Array<{ x: number; y: number }> };
}

const W = 760;
const H = 470;
const M = { left: 70, right: 30, top: 64, bottom: 62 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number, count: number): number {
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

export function scatterSvg(spec: ScatterSpec): string {
  const xs = spec.points.map((p) => p.x).concat(spec.target ? [spec.target.xMax] : []);
  const ys = spec.points.map((p) => p.y).concat(spec.target ? [spec.target.yMax] : []);
  // the curve is drawn where the points are; it does not widen the axes
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;

  // x axis
  let xTicks: number[];
  let xMin: number;
  let xMax: number;
  let sx: (x: number) => number;
  if (spec.logX) {
    xMin = 10 ** Math.floor(Math.log10(Math.min(...xs) * 0.8));
    xMax = 10 ** Math.ceil(Math.log10(Math.max(...xs) * 1.25));
    xTicks = [];
    for (let d = xMin; d <= xMax * 1.0001; d *= 10) for (const m of [1, 2, 5]) if (d * m <= xMax * 1.0001) xTicks.push(d * m);
    const l0 = Math.log10(xMin);
    const l1 = Math.log10(xMax);
    sx = (x) => M.left + ((Math.log10(x) - l0) / (l1 - l0)) * pw;
  } else {
    xMin = 0;
    const step = niceStep(Math.max(...xs) * 1.1, 6);
    xMax = Math.ceil((Math.max(...xs) * 1.1) / step) * step;
    xTicks = [];
    for (let v = 0; v <= xMax + 1e-9; v += step) xTicks.push(v);
    sx = (x) => M.left + ((x - xMin) / (xMax - xMin)) * pw;
  }
  // y axis: from 0, or log decades
  const yTicks: number[] = [];
  let sy: (y: number) => number;
  if (spec.logY) {
    const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys) * 0.8));
    const yTop = 10 ** Math.ceil(Math.log10(Math.max(...ys) * 1.25));
    for (let d = yMin; d <= yTop * 1.0001; d *= 10) for (const m of [1, 2, 5]) if (d * m <= yTop * 1.0001) yTicks.push(Number((d * m).toPrecision(3)));
    const l0 = Math.log10(yMin);
    const l1 = Math.log10(yTop);
    sy = (y) => M.top + ph - ((Math.log10(y) - l0) / (l1 - l0)) * ph;
  } else {
    const yStep = niceStep(Math.max(...ys) * 1.15, 6);
    const yMax = Math.ceil((Math.max(...ys) * 1.15) / yStep) * yStep;
    for (let v = 0; v <= yMax + 1e-9; v += yStep) yTicks.push(Number(v.toFixed(6)));
    sy = (y) => M.top + ph - (y / yMax) * ph;
  }
  const yAxisMax = yTicks[yTicks.length - 1];

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${W / 2}" y="44" text-anchor="middle" font-size="12" fill="#555">${esc(spec.subtitle)}</text>`);

  if (spec.target) {
    const x1 = sx(Math.min(spec.target.xMax, xMax));
    const y1 = sy(Math.min(spec.target.yMax, yAxisMax));
    out.push(`<rect x="${M.left}" y="${y1}" width="${x1 - M.left}" height="${M.top + ph - y1}" fill="#2e7d32" fill-opacity="0.10" stroke="#2e7d32" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${M.left + 6}" y="${M.top + ph - 8}" fill="#2e7d32" font-size="11">${esc(spec.target.label)}</text>`);
  }

  // grid and ticks
  for (const t of xTicks) {
    const x = sx(t);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle" fill="#333">${t >= 1 ? t : t.toFixed(1)}</text>`);
  }
  for (const t of yTicks) {
    const y = sy(t);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 8}" y="${y + 4}" text-anchor="end" fill="#333">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 18}" text-anchor="middle" font-size="13">${esc(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(20 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">${esc(spec.yLabel)}</text>`);

  if (spec.line && spec.line.points.length > 1) {
    const x0 = Math.min(...xs) * 0.8;
    const x1 = Math.max(...xs) * 1.25;
    const y0 = Math.min(...ys) * 0.8;
    const y1 = Math.max(...ys) * 1.25;
    const pts = spec.line.points.filter((p) => p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      out.push(`<polyline points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="#2e7d32" stroke-width="2"/>`);
      // labelled below its low end, away from the points clustered near its top
      const end = pts[pts.length - 1];
      out.push(`<text x="${sx(end.x)}" y="${sy(end.y) + 16}" text-anchor="end" fill="#2e7d32" font-size="11">${esc(spec.line.label)}</text>`);
    }
  }

  for (const p of spec.points) {
    const x = sx(p.x);
    const y = sy(p.y);
    if (p.series === 'alt') {
      out.push(`<path d="M ${x} ${y - 7} L ${x + 7} ${y} L ${x} ${y + 7} L ${x - 7} ${y} Z" fill="none" stroke="#c62828" stroke-width="2"/>`);
    } else {
      out.push(`<circle cx="${x}" cy="${y}" r="5.5" fill="#1f4e99"/>`);
    }
    const a = p.anchor ?? 'right';
    const lx = a === 'right' ? x + 10 : a === 'left' ? x - 10 : x;
    const ly = a === 'above' ? y - 11 : a === 'below' ? y + 20 : y + 4;
    const ta = a === 'right' ? 'start' : a === 'left' ? 'end' : 'middle';
    out.push(`<text x="${lx}" y="${ly}" text-anchor="${ta}" fill="${p.series === 'alt' ? '#c62828' : '#1a1a1a'}">${esc(p.label)}</text>`);
  }

  if (spec.legend) {
    const lx = M.left + pw - 230;
    const ly = M.top + 14;
    out.push(`<rect x="${lx - 8}" y="${ly - 12}" width="236" height="${spec.legend.alt ? 44 : 24}" fill="#fff" stroke="#ccc"/>`);
    out.push(`<circle cx="${lx + 4}" cy="${ly - 1}" r="5" fill="#1f4e99"/><text x="${lx + 16}" y="${ly + 3}">${esc(spec.legend.main)}</text>`);
    if (spec.legend.alt) {
      const y2 = ly + 20;
      out.push(`<path d="M ${lx + 4} ${y2 - 7} L ${lx + 11} ${y2} L ${lx + 4} ${y2 + 7} L ${lx - 3} ${y2} Z" fill="none" stroke="#c62828" stroke-width="2"/><text x="${lx + 16}" y="${y2 + 4}">${esc(spec.legend.alt)}</text>`);
    }
  }
  out.push('</svg>');
  return out.join('\n');
}
