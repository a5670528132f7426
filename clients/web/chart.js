/* global getComputedStyle */
// A time chart of the fused posteriors drawn on a canvas: one line per emotion over the last `spanS` seconds of
// session time. Plain 2D canvas; redrawn once per result.

export const COLORS = ['#8c8c8c', '#5aa9e6', '#f2b705', '#3f51b5', '#d7263d', '#8e44ad', '#2e8b57', '#ff7f0e'];

export class ProbChart {
  constructor(canvas, labels, spanS = 30) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.labels = labels;
    this.spanS = spanS;
    this.points = []; // { tS, probs }
  }

  reset() {
    this.points = [];
    this.draw();
  }

  push(tS, probs) {
    this.points.push({ tS, probs });
    const cutoff = tS - this.spanS;
    while (this.points.length > 2 && this.points[0].tS < cutoff) this.points.shift();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    const pad = { l: 34, r: 8, t: 8, b: 22 };
    const style = getComputedStyle(canvas);
    const fg = style.color || '#333';
    ctx.clearRect(0, 0, w, h);
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeStyle = 'rgba(128,128,128,0.35)';
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + ((h - pad.t - pad.b) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.l, y);
      ctx.lineTo(w - pad.r, y);
      ctx.stroke();
      ctx.fillText((1 - i / 4).toFixed(2), 2, y + 4);
    }
    if (this.points.length === 0) return;
    const tEnd = this.points[this.points.length - 1].tS;
    const tStart = Math.max(0, tEnd - this.spanS);
    const x = (t) => pad.l + ((w - pad.l - pad.r) * (t - tStart)) / Math.max(1e-6, tEnd - tStart || this.spanS);
    const y = (p) => pad.t + (h - pad.t - pad.b) * (1 - p);
    ctx.fillText(`${tStart.toFixed(1)} s`, pad.l, h - 6);
    ctx.fillText(`${tEnd.toFixed(1)} s`, w - pad.r - 40, h - 6);
    ctx.lineWidth = 2;
    for (let k = 0; k < this.labels.length; k++) {
      ctx.strokeStyle = COLORS[k % COLORS.length];
      ctx.beginPath();
      this.points.forEach((pt, i) => {
        const px = x(pt.tS);
        const py = y(pt.probs[k]);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      });
      if (this.points.length === 1) ctx.arc(x(tEnd), y(this.points[0].probs[k]), 2, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
}
