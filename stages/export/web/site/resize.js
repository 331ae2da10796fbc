/*
 * Stretching an RGB image to the model's square input the way mu-pipe predict does:
 * sharp's resize with the lanczos3 kernel, which is libvips' vips_resize (gap 2). A
 * canvas downscale differs from it by about 2 levels per pixel on average, which moves
 * mask borders, so the page resamples in JavaScript instead:
 *
 * - Shrinking an axis: a box average by the integer factor floor(in / out / 2) (output
 *   size rounded up, edge pixels repeated), then a lanczos3 reduce by what is left,
 *   the kernel widened by that factor, sampled at pixel centres, its coefficients
 *   tabulated at 1/64 px and held as 12-bit integers, rounded back to bytes after each
 *   pass; vertical pass first. This reproduces sharp's bytes exactly on the photos the
 *   tests use.
 * - Enlarging an axis (an image smaller than the model input): Catmull-Rom cubic at
 *   pixel centres. libvips enlarges differently; this is close, not exact.
 *
 * Sets `window.MuResize = { stretch(rgb, width, height, size) }`.
 */
"use strict";

(function () {
  const CHANNELS = 3;

  function sinc(x) {
    return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  }

  function lanczos3(x) {
    return x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0;
  }

  function catmullRom(x) {
    const t = Math.abs(x);
    if (t < 1) return 1.5 * t * t * t - 2.5 * t * t + 1;
    if (t < 2) return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2;
    return 0;
  }

  /** One axis of an image ({ data: RGB bytes, width, height }): its length, how many lines run along it, and the strides. */
  function axis(image, horizontal) {
    const row = image.width * CHANNELS;
    return horizontal
      ? { length: image.width, count: image.height, step: CHANNELS, lineStep: row }
      : { length: image.height, count: image.width, step: row, lineStep: CHANNELS };
  }

  /**
   * Writes out[o] = sum_k weights[o][k] * in[positions[o][k]] along one axis for every line
   * and channel, with `finish` turning each sum into a byte.
   */
  function convolve(image, out, horizontal, positions, weights, finish) {
    const from = axis(image, horizontal);
    const to = axis(out, horizontal);
    const src = image.data;
    const dst = out.data;
    for (let o = 0; o < positions.length; o++) {
      const at = positions[o].map((p) => p * from.step);
      const w = weights[o];
      const taps = at.length;
      for (let line = 0; line < from.count; line++) {
        const base = line * from.lineStep;
        const target = line * to.lineStep + o * to.step;
        for (let c = 0; c < CHANNELS; c++) {
          let sum = 0;
          for (let k = 0; k < taps; k++) sum += w[k] * src[base + at[k] + c];
          dst[target + c] = finish(sum);
        }
      }
    }
    return out;
  }

  const clampTo = (length) => (p) => Math.min(Math.max(p, 0), length - 1);

  function blank(image, horizontal, length) {
    const width = horizontal ? length : image.width;
    const height = horizontal ? image.height : length;
    return { data: new Uint8Array(width * height * CHANNELS), width, height };
  }

  /** Box average by an integer factor along one axis (libvips shrinkh/shrinkv, ceil). */
  function boxShrink(image, factor, horizontal) {
    const inLength = axis(image, horizontal).length;
    const length = Math.ceil(inLength / factor);
    const clamp = clampTo(inLength);
    const positions = [];
    const weights = [];
    for (let o = 0; o < length; o++) {
      positions.push(Array.from({ length: factor }, (_, k) => clamp(o * factor + k)));
      weights.push(new Int32Array(factor).fill(1));
    }
    const half = Math.floor(factor / 2);
    const multiplier = Math.floor(2 ** 32 / (256 * factor));
    return convolve(image, blank(image, horizontal, length), horizontal, positions, weights, (sum) => Math.floor(((sum + half) * multiplier) / 2 ** 24));
  }

  /** Shrinks one axis to `length` (libvips reduceh/reducev with lanczos3, gap 2). */
  function reduce(image, length, horizontal) {
    const inLength = axis(image, horizontal).length;
    let residual = inLength / length;
    let extra = length * residual - inLength;
    const whole = Math.max(1, Math.floor(inLength / length / 2));
    if (whole > 1) {
      image = boxShrink(image, whole, horizontal);
      residual /= whole;
      extra /= whole;
    }
    if (residual === 1) return image;
    const inputLength = axis(image, horizontal).length;
    const clamp = clampTo(inputLength);
    const taps = 2 * Math.round(3 * residual) + 1;
    const offset = (1 + extra) / 2 - 1;
    const pad = Math.ceil(taps / 2) - 1;
    const table = [];
    for (let step = 0; step <= 64; step++) {
      const centre = step / 64 + taps / 2 - 1;
      const weights = [];
      let sum = 0;
      for (let i = 0; i < taps; i++) {
        const w = lanczos3((i - centre) / residual);
        weights.push(w);
        sum += w;
      }
      table.push(Int32Array.from(weights, (w) => Math.trunc((w / sum) * 4096)));
    }
    const positions = [];
    const weights = [];
    for (let o = 0; o < length; o++) {
      const at = (o + 0.5) * residual - 0.5 - offset;
      const first = Math.trunc(at) - pad;
      positions.push(Array.from({ length: taps }, (_, i) => clamp(first + i)));
      weights.push(table[((Math.trunc(at * 128) & 127) + 1) >> 1]);
    }
    return convolve(image, blank(image, horizontal, length), horizontal, positions, weights, (sum) => Math.min(255, Math.max(0, (sum + 2048) >> 12)));
  }

  /** Enlarges one axis to `length` (Catmull-Rom at pixel centres). */
  function enlarge(image, length, horizontal) {
    const inputLength = axis(image, horizontal).length;
    const clamp = clampTo(inputLength);
    const scale = length / inputLength;
    const positions = [];
    const weights = [];
    for (let o = 0; o < length; o++) {
      const at = (o + 0.5) / scale - 0.5;
      const base = Math.floor(at);
      const f = at - base;
      positions.push([clamp(base - 1), clamp(base), clamp(base + 1), clamp(base + 2)]);
      weights.push([catmullRom(f + 1), catmullRom(f), catmullRom(1 - f), catmullRom(2 - f)]);
    }
    return convolve(image, blank(image, horizontal, length), horizontal, positions, weights, (sum) => Math.min(255, Math.max(0, Math.round(sum))));
  }

  /** `rgb` (width x height x 3 bytes) stretched to size x size x 3 bytes. */
  function stretch(rgb, width, height, size) {
    let image = { data: rgb, width, height };
    if (height > size) image = reduce(image, size, false);
    if (width > size) image = reduce(image, size, true);
    if (width < size) image = enlarge(image, size, true);
    if (height < size) image = enlarge(image, size, false);
    return image.data;
  }

  window.MuResize = { stretch };
})();
