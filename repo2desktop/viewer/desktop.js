// The desktop page's VNC client: noVNC's RFB core (npm @novnc/novnc, pinned in package.json)
// plus the little this page needs. scripts/build-viewer.bash bundles it into one minified
// module (dist/desktop.js) when the package is built; nothing here is loaded unbundled.
//
// The page (templates/desktop.html.j2, one for every server) carries its settings as JSON
// (<script id="desktop-config">, <script id="desktop-features">). The viewer waits for the
// desktop with session.json?wait=S (held by the Jupyter server and by `up`'s server until the
// desktop is ready or failed; a file beside the page where websockify serves it), shows what
// fails, connects, and after a disconnect asks again before reconnecting. The VNC password
// comes with session.json where the page is behind a login (Jupyter, a private socket), else
// from the URL's fragment (#&password=..., which browsers never send: `up` prints it).
// Around the connection: the toolbar (toolbar.js), the clipboard (clipboard.js), fitting the
// window (resize.js) and, behind Jupyter, file upload (upload.js).
import RFB from "@novnc/novnc";
import { ClipboardSync } from "./clipboard.js";
import { fitToWindow } from "./resize.js";
import { createToolbar } from "./toolbar.js";
import { enableUpload } from "./upload.js";
import { startAudio } from "./audio.js";

const query = new URLSearchParams(window.location.search);
const fragment = new URLSearchParams(window.location.hash.replace(/^#&?/, ""));
const configTag = document.getElementById("desktop-config");
// desktop-features: what the served page adds from desktop.yml (clipboard, max, upload).
const featuresTag = document.getElementById("desktop-features");
const config = configTag ? { ...JSON.parse(configTag.textContent), ...JSON.parse(featuresTag ? featuresTag.textContent : "{}") } : {};
const screen = document.getElementById("screen");
const status = document.getElementById("status");

function option(name, fallback) {
  return config[name] ?? fragment.get(name) ?? query.get(name) ?? fallback;
}

// A path without a leading slash is relative to the server root, as in noVNC's vnc.html;
// the served page gives one relative to itself (any /user/NAME/ prefix stays).
function websocketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const here = window.location.pathname.replace(/[^/]*$/, "");
  let path = config.path ? here + config.path : option("path", here.replace(/^\/+/, "") + "websockify");
  if (!path.startsWith("/")) path = "/" + path;
  return `${scheme}//${window.location.host}${path}`;
}

function say(text) {
  status.textContent = text;
  status.hidden = !text;
}

function showFailure(failed) {
  const box = document.getElementById("failed");
  if (!box) { say(`The desktop could not start: ${failed.program}: ${failed.reason}`); return; }
  say("");
  box.hidden = false;
  document.getElementById("failed-program").textContent = failed.program;
  document.getElementById("failed-reason").textContent = failed.reason;
  document.getElementById("failed-log").textContent = failed.log_tail || "";
}

const resize = option("resize", "scale");
const reconnect = option("reconnect", "1") !== "0";
const delay = Number(option("reconnect_delay", "1000")) || 1000;
// display.geometry: the start size, and the largest size remote resize asks for.
const [maxWidth, maxHeight] = String(option("max", "8192x8192")).split("x").map(Number);
let password = option("password", "");
let current = null; // the RFB connection of the moment (one per connect)

const toolbar = createToolbar(() => current);
const clipboard = new ClipboardSync(option("clipboard", "both"), toolbar.clipboardBox, toolbar.clipboardNote,
                                    Number(option("clipboard_settle_ms", "0")) || 0);
clipboard.watch(screen);
if (config.upload) enableUpload(toolbar, config.upload);
else document.getElementById("r2d-upload-button").hidden = true;

// JupyterHub accepts its login cookie on a script's request only with the XSRF token that
// the page's own response set as the _xsrf cookie (JupyterLab sends it the same way); a
// plain Jupyter server ignores it on GET.
function xsrfHeaders() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("_xsrf="));
  return cookie ? { "X-XSRFToken": decodeURIComponent(cookie.slice("_xsrf=".length)) } : {};
}

// The served page: the desktop's state, waiting server-side until it is ready or failed.
async function desktopState() {
  for (;;) {
    try {
      const response = await fetch("session.json?wait=25", { cache: "no-store", headers: xsrfHeaders() });
      if (response.ok) {
        const state = await response.json();
        if (state.state !== "starting") return state;
      }
    } catch (e) { /* the server restarts or the network hiccups: ask again */ }
    await new Promise((resolve) => window.setTimeout(resolve, 500));
  }
}

async function connect() {
  if (configTag) {
    const state = await desktopState();
    if (state.state === "failed") { showFailure(state.failed); toolbar.state("Failed", "failed"); return; }
    password = state.password || password;
  }
  const rfb = new RFB(screen, websocketUrl(), {
    credentials: password ? { password } : undefined,
    shared: true,
    wsProtocols: ["binary"],
  });
  current = rfb;
  rfb.background = "#2e3440";
  fitToWindow(rfb, resize, maxWidth || 8192, maxHeight || 8192);
  clipboard.attach(rfb);
  toolbar.released();
  // noVNC's own page marks the connection the same way (scripts and tests look for it).
  const connected = (yes) => document.documentElement.classList.toggle("noVNC_connected", yes);
  rfb.addEventListener("connect", () => { say(""); connected(true); toolbar.state("Connected", "connected"); rfb.focus(); });
  rfb.addEventListener("desktopname", (e) => { document.title = e.detail.name; });
  rfb.addEventListener("credentialsrequired", () => {
    // Without a password in the link, ask once (a `repo2desktop up` URL always has one).
    password = password || window.prompt("VNC password") || "";
    rfb.sendCredentials({ password });
  });
  rfb.addEventListener("securityfailure", (e) => {
    say(`The desktop refused the connection: ${e.detail.reason || "authentication failed"}`);
    toolbar.state("Refused", "failed");
  });
  rfb.addEventListener("disconnect", () => {
    connected(false);
    if (!reconnect) { say("Disconnected."); toolbar.state("Disconnected", "failed"); return; }
    say("Disconnected; reconnecting\u2026");
    toolbar.state("Reconnecting");
    window.setTimeout(connect, delay);
  });
  window.desktop = rfb; // for the browser's console and the tests
}

say(configTag ? "Starting the desktop\u2026" : "Connecting\u2026");
connect();
startAudio(config, () => password);
