/*
 * The exported sclera finder: plain browser JavaScript over the TF.js UMD bundles
 * (globals `tf`, and `MU_MODEL` from model.js). No module scripts and no fetch of the
 * site's own files, so the page works opened from disk (file://) as well as from any
 * static host.
 *
 * Each photo is processed as `mu-pipe predict` does: stretched to the model's square
 * input, scaled as mu-model.json says, predicted, the probability map resized back to
 * the photo's size (bilinear, half-pixel centres, 8-bit levels) and cut at the threshold
 * (level / 255 >= threshold). A model whose threshold was chosen with flip test-time
 * augmentation (mu-model.json `tta: "flip"`) gets it here too: the map is the mean of
 * the photo's map and the mirrored map of the mirrored photo, as in mu-pipe predict.
 */
"use strict";

(function () {
  const model = window.MU_MODEL;
  const metadata = model.metadata;
  const size = metadata.inputSize;
  const threshold = metadata.threshold;
  const flipTta = metadata.tta === "flip";
  const $ = (id) => document.getElementById(id);

  const state = { net: null, camera: null };

  function setStatus(text, isError) {
    const status = $("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  // ---- backend: WebGL, else WASM (or the one ?backend= names) ----

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`cannot load ${src}`));
      document.head.appendChild(script);
    });
  }

  /** Where the WASM binaries come from: beside the page over http(s); embedded (wasm-binaries.js) on file://, which fetch cannot read. */
  async function configureWasm() {
    // Threads need cross-origin isolation, which neither file:// nor a plain static host gives.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    if (location.protocol !== "file:") {
      tf.wasm.setWasmPaths(new URL("./", location.href).href);
      return;
    }
    await loadScript("wasm-binaries.js");
    const binaries = window.MU_WASM_BINARIES;
    const url = (base64) => `data:application/wasm;base64,${base64}`;
    tf.wasm.setWasmPaths(
      {
        "tfjs-backend-wasm.wasm": url(binaries["tfjs-backend-wasm.wasm"]),
        "tfjs-backend-wasm-simd.wasm": url(binaries["tfjs-backend-wasm-simd.wasm"]),
        // Never chosen: threads are switched off above.
        "tfjs-backend-wasm-threaded-simd.wasm": url(binaries["tfjs-backend-wasm-simd.wasm"]),
      },
      true,
    );
  }

  async function chooseBackend() {
    const asked = new URLSearchParams(location.search).get("backend");
    const candidates = asked === "webgl" || asked === "wasm" || asked === "cpu" ? [asked] : ["webgl", "wasm"];
    for (const name of candidates) {
      try {
        if (name === "wasm") await configureWasm();
        if (await tf.setBackend(name)) {
          await tf.ready();
          return name;
        }
      } catch (error) {
        console.warn(`backend ${name} failed: ${error && error.message ? error.message : error}`);
      }
    }
    throw new Error(`no TF.js backend could start (tried ${candidates.join(", ")})`);
  }

  // ---- the model ----

  function base64Bytes(base64) {
    const text = atob(base64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  async function loadModel() {
    const weightData = base64Bytes(model.weightData).buffer;
    return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: model.weightSpecs, weightData }));
  }

  // ---- the same steps as mu-pipe predict ----

  /** The source's pixels at its own size, as RGB bytes (the canvas draws it 1:1, no resampling). */
  function rgbOf(source, width, height) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, width, height);
    const rgba = context.getImageData(0, 0, width, height).data;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgb[i] = rgba[j];
      rgb[i + 1] = rgba[j + 1];
      rgb[i + 2] = rgba[j + 2];
    }
    return rgb;
  }

  /** Probabilities (size x size, row-major) for size x size RGB bytes. */
  async function probabilities(pixels) {
    const output = tf.tidy(() => {
      const rgb = tf.tensor3d(pixels, [size, size, 3], "float32");
      const scaled = metadata.inputScaling === "unit" ? tf.div(rgb, 255) : tf.sub(tf.div(rgb, 127.5), 1);
      const batch = flipTta ? tf.stack([scaled, tf.reverse(scaled, 1)]) : tf.expandDims(scaled, 0);
      const predicted = state.net.predict(batch);
      const maps = Array.isArray(predicted) ? predicted[0] : predicted;
      if (!flipTta) return maps;
      // [2, size, size, 1]: the photo's map and the mirrored photo's, mirrored back.
      const [plain, mirrored] = tf.unstack(maps, 0);
      return tf.div(tf.add(plain, tf.reverse(mirrored, 1)), 2);
    });
    try {
      return await output.data();
    } finally {
      output.dispose();
    }
  }

  function probabilityLevel(p) {
    if (!(p > 0)) return 0;
    if (p >= 1) return 255;
    return Math.round(p * 255);
  }

  function samplePositions(from, to) {
    const low = new Int32Array(to);
    const high = new Int32Array(to);
    const weight = new Float64Array(to);
    const scale = from / to;
    for (let i = 0; i < to; i++) {
      const at = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), from - 1);
      const l = Math.floor(at);
      low[i] = l;
      high[i] = Math.min(l + 1, from - 1);
      weight[i] = at - l;
    }
    return { low, high, weight };
  }

  /** The size x size map resized to width x height (bilinear, half-pixel centres) and cut at the threshold: 255 sclera, 0 not. */
  function maskAt(map, width, height) {
    const xs = samplePositions(size, width);
    const ys = samplePositions(size, height);
    const table = new Uint8Array(256);
    for (let k = 0; k < 256; k++) table[k] = k / 255 >= threshold ? 255 : 0;
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      const top = ys.low[y] * size;
      const bottom = ys.high[y] * size;
      const wy = ys.weight[y];
      for (let x = 0; x < width; x++) {
        const left = xs.low[x];
        const right = xs.high[x];
        const wx = xs.weight[x];
        const upper = map[top + left] + (map[top + right] - map[top + left]) * wx;
        const lower = map[bottom + left] + (map[bottom + right] - map[bottom + left]) * wx;
        mask[y * width + x] = table[probabilityLevel(upper + (lower - upper) * wy)];
      }
    }
    return mask;
  }

  async function segment(source, width, height) {
    // Stretched as sharp's lanczos3 does (resize.js): a canvas downscale moves mask borders.
    const map = await probabilities(window.MuResize.stretch(rgbOf(source, width, height), width, height, size));
    return maskAt(map, width, height);
  }

  // ---- drawing ----

  function drawOverlay(canvas, source, mask, width, height) {
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    context.drawImage(source, 0, 0, width, height);
    const image = context.getImageData(0, 0, width, height);
    const pixels = image.data;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0) continue;
      const p = i * 4;
      pixels[p] = (pixels[p] + 0) >> 1;
      pixels[p + 1] = (pixels[p + 1] + 255) >> 1;
      pixels[p + 2] = (pixels[p + 2] + 160) >> 1;
    }
    context.putImageData(image, 0, 0);
  }

  function drawMask(canvas, mask, width, height) {
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, height);
    for (let i = 0; i < mask.length; i++) {
      const p = i * 4;
      image.data[p] = image.data[p + 1] = image.data[p + 2] = mask[i];
      image.data[p + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    for (const child of children || []) node.append(child);
    return node;
  }

  // ---- photos ----

  function maskName(fileName) {
    return `${fileName.replace(/\.[^./]+$/, "")}-mask.png`;
  }

  async function showPhoto(file) {
    const item = element("li", { class: "result" }, [element("h2", {}, [file.name])]);
    $("results").append(item);
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const { width, height } = bitmap;
      const mask = await segment(bitmap, width, height);
      const overlay = element("canvas", { class: "overlay", "aria-label": `${file.name} with the sclera overlaid` });
      const maskCanvas = element("canvas", { class: "mask", "aria-label": `sclera mask of ${file.name}` });
      drawOverlay(overlay, bitmap, mask, width, height);
      drawMask(maskCanvas, mask, width, height);
      bitmap.close();
      let sclera = 0;
      for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) sclera++;
      const blob = await new Promise((resolve) => maskCanvas.toBlob(resolve, "image/png"));
      const link = element("a", { class: "download", download: maskName(file.name), href: URL.createObjectURL(blob) }, ["Download mask (PNG)"]);
      item.dataset.width = String(width);
      item.dataset.height = String(height);
      item.dataset.scleraPixels = String(sclera);
      item.append(
        element("div", { class: "pair" }, [
          element("figure", {}, [overlay, element("figcaption", {}, ["Sclera overlaid"])]),
          element("figure", {}, [maskCanvas, element("figcaption", {}, ["Mask"])]),
        ]),
        element("p", { class: "meta" }, [`${width}×${height} px, sclera ${((100 * sclera) / mask.length).toFixed(1)}% of the photo`]),
        link,
      );
      item.dataset.done = "true";
    } catch (error) {
      item.classList.add("failed");
      item.append(element("p", { class: "meta" }, [`Cannot read this photo: ${error && error.message ? error.message : error}`]));
      item.dataset.done = "failed";
    }
  }

  async function showPhotos(files) {
    for (const file of files) if (file.type === "" || file.type.startsWith("image/")) await showPhoto(file);
  }

  function wirePhotos() {
    const input = $("files");
    input.disabled = false;
    input.addEventListener("change", () => {
      showPhotos(Array.from(input.files || [])).finally(() => (input.value = ""));
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      showPhotos(Array.from(event.dataTransfer ? event.dataTransfer.files : []));
    });
  }

  // ---- camera ----

  async function startCamera() {
    const video = $("camera-video");
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
    video.srcObject = stream;
    await video.play();
    const camera = { stream, running: true, times: [], frames: 0 };
    state.camera = camera;
    $("camera-start").disabled = true;
    $("camera-stop").disabled = false;
    const view = $("camera-view");
    while (camera.running) {
      const width = video.videoWidth;
      const height = video.videoHeight;
      if (width > 0 && height > 0) {
        const started = performance.now();
        const mask = await segment(video, width, height);
        drawOverlay(view, video, mask, width, height);
        const took = performance.now() - started;
        camera.frames++;
        // The first frame also compiles the backend's kernels: leave it out once there are others.
        if (camera.frames === 2) camera.times.length = 0;
        camera.times.push(took);
        if (camera.times.length > 20) camera.times.shift();
        let sclera = 0;
        for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) sclera++;
        view.dataset.frames = String(camera.frames);
        view.dataset.scleraPixels = String(sclera);
        const average = camera.times.reduce((a, b) => a + b, 0) / camera.times.length;
        $("camera-speed").textContent = `${Math.round(average)} ms per frame`;
        $("camera-speed").dataset.ms = average.toFixed(1);
      }
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  }

  function stopCamera() {
    const camera = state.camera;
    if (!camera) return;
    camera.running = false;
    for (const track of camera.stream.getTracks()) track.stop();
    state.camera = null;
    $("camera-start").disabled = false;
    $("camera-stop").disabled = true;
  }

  function wireModes() {
    const show = (mode) => {
      $("photos").hidden = mode !== "photos";
      $("camera").hidden = mode !== "camera";
      $("mode-photos").setAttribute("aria-pressed", String(mode === "photos"));
      $("mode-camera").setAttribute("aria-pressed", String(mode === "camera"));
      if (mode !== "camera") stopCamera();
    };
    $("mode-photos").addEventListener("click", () => show("photos"));
    $("mode-camera").addEventListener("click", () => show("camera"));
    const start = $("camera-start");
    start.disabled = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    start.addEventListener("click", () => {
      startCamera().catch((error) => {
        stopCamera();
        setStatus(`Camera unavailable: ${error && error.message ? error.message : error}`, true);
      });
    });
    $("camera-stop").addEventListener("click", stopCamera);
  }

  // ---- start ----

  async function start() {
    $("threshold").textContent = String(threshold);
    $("input-size").textContent = `${size}×${size}, ${metadata.inputScaling} scaling`;
    $("tta").textContent = flipTta ? "flip (mean with the mirrored photo)" : "none";
    const backend = await chooseBackend();
    $("backend").textContent = backend;
    document.body.dataset.backend = backend;
    state.net = await loadModel();
    wirePhotos();
    wireModes();
    document.body.dataset.ready = "true";
    setStatus("Ready: drop or choose eye photos, or start the camera.");
  }

  start().catch((error) => {
    document.body.dataset.ready = "failed";
    setStatus(`Cannot start: ${error && error.message ? error.message : error}`, true);
  });
})();
