// The desktop page's VNC client: noVNC's RFB core (npm @novnc/novnc, pinned in package.json)
// plus the little this page needs. scripts/build-viewer.bash bundles it into one minified
// module (dist/desktop.js) when the package is built; nothing here is loaded unbundled.
//
// The page takes noVNC's own vnc.html parameters, so the starting page and nbnovnc-style
// links work unchanged: ?path=WEBSOCKET_PATH&resize=off|scale|remote&reconnect=1
// &reconnect_delay=MS, and the VNC password in the fragment (#&password=...), which
// browsers never send to a server.
import RFB from "@novnc/novnc";

const query = new URLSearchParams(window.location.search);
const fragment = new URLSearchParams(window.location.hash.replace(/^#&?/, ""));
const screen = document.getElementById("screen");
const status = document.getElementById("status");

function option(name, fallback) {
  return fragment.get(name) ?? query.get(name) ?? fallback;
}

// A path without a leading slash is relative to the server root, as in noVNC's vnc.html.
function websocketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const base = window.location.pathname.replace(/[^/]*$/, "");
  let path = option("path", base.replace(/^\/+/, "") + "websockify");
  if (!path.startsWith("/")) path = "/" + path;
  return `${scheme}//${window.location.host}${path}`;
}

function say(text) {
  status.textContent = text;
  status.hidden = !text;
}

const resize = option("resize", "scale");
const reconnect = option("reconnect", "1") !== "0";
const delay = Number(option("reconnect_delay", "1000")) || 1000;
let password = option("password", "");

function connect() {
  const rfb = new RFB(screen, websocketUrl(), {
    credentials: password ? { password } : undefined,
    shared: true,
    wsProtocols: ["binary"],
  });
  rfb.scaleViewport = resize === "scale";
  rfb.resizeSession = resize === "remote";
  rfb.clipViewport = false;
  rfb.background = "#2e3440";
  rfb.addEventListener("connect", () => { say(""); rfb.focus(); });
  rfb.addEventListener("desktopname", (e) => { document.title = e.detail.name; });
  rfb.addEventListener("credentialsrequired", () => {
    // Without a password in the link, ask once (a `repo2desktop up` URL always has one).
    password = password || window.prompt("VNC password") || "";
    rfb.sendCredentials({ password });
  });
  rfb.addEventListener("securityfailure", (e) => {
    say(`The desktop refused the connection: ${e.detail.reason || "authentication failed"}`);
  });
  rfb.addEventListener("disconnect", () => {
    if (!reconnect) { say("Disconnected."); return; }
    say("Disconnected; reconnecting\u2026");
    window.setTimeout(connect, delay);
  });
  window.desktop = rfb; // for the browser's console and the tests
}

say("Connecting\u2026");
connect();
