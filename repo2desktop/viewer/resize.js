// Fit the desktop to the window (desktop.yml novnc.resize):
// - scale: the desktop keeps its size and is drawn scaled to the window;
// - remote: the desktop itself takes the window's size in *device* pixels (a HiDPI screen gets a
//   sharp desktop, drawn at 1/devicePixelRatio), at most display.geometry (the start size is the
//   upper bound; a larger window scales it up). Servers without remote resize (TightVNC) scale;
// - off: neither (1:1, cut at the window's edge).
//
// noVNC 1.7 asks the server for the CSS size of its container; the device pixel ratio and the
// bound are applied by answering its size question (_screenSize, private, pinned by the
// package-lock) while it prepares a resize request, and only then.
export function fitToWindow(rfb, mode, maxWidth, maxHeight) {
  rfb.clipViewport = false;
  rfb.scaleViewport = mode === "scale" || mode === "remote";
  if (mode !== "remote") return;
  const request = rfb._requestRemoteResize;
  rfb._requestRemoteResize = function () {
    this._screenSize = () => wantedSize(this._screen, maxWidth, maxHeight);
    try {
      request.call(this);
    } finally {
      delete this._screenSize;
    }
  };
  // A new device pixel ratio (another screen, browser zoom) needs a new size too.
  const watchRatio = () => {
    window.matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener("change", () => {
      rfb._requestRemoteResize();
      watchRatio();
    }, { once: true });
  };
  watchRatio();
  rfb.resizeSession = true;
}

export function wantedSize(element, maxWidth, maxHeight) {
  const box = element.getBoundingClientRect();
  const ratio = window.devicePixelRatio || 1;
  let w = box.width * ratio;
  let h = box.height * ratio;
  const shrink = Math.min(1, maxWidth / w || 1, maxHeight / h || 1);
  w = Math.max(1, Math.floor(w * shrink));
  h = Math.max(1, Math.floor(h * shrink));
  return { w, h };
}
