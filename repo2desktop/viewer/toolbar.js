// The desktop page's toolbar: plain HTML and CSS put into the page, no framework. Hidden behind
// a small handle at the top until wanted. It holds the clipboard box, the keys browsers keep
// for themselves (Ctrl-Alt-Del, Esc, Tab, held Ctrl/Alt), a text field for text that arrives
// without key presses (input methods, compose, on-screen keyboards), file upload, fullscreen
// and the connection's state. The buttons act on whichever connection is current (rfb()).
const HTML = `
<style>
  #r2d-toolbar { position: fixed; top: 0; left: 50%; transform: translateX(-50%); z-index: 10;
    width: max-content; max-width: 96vw; font: 13px/1.4 system-ui, sans-serif; color: #eceff4;
    text-align: center; }
  /* display: flex below would otherwise show what the hidden attribute hides */
  #r2d-toolbar [hidden], #r2d-drop[hidden] { display: none !important; }
  #r2d-handle { display: block; margin: 0 auto; width: 56px; height: 14px; padding: 0; border: 0;
    border-radius: 0 0 6px 6px; background: rgba(59, 66, 82, .55); color: #d8dee9; font-size: 10px;
    line-height: 14px; cursor: pointer; }
  #r2d-handle:hover, #r2d-handle:focus-visible { background: #4c566a; }
  #r2d-bar, .r2d-panel { background: rgba(46, 52, 64, .94); border-radius: 0 0 6px 6px;
    box-shadow: 0 2px 8px rgba(0, 0, 0, .4); padding: 4px 6px; }
  #r2d-bar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; justify-content: center; }
  #r2d-toolbar button:not(#r2d-handle), #r2d-type { font: inherit; color: inherit; background: #3b4252;
    border: 1px solid #4c566a; border-radius: 4px; padding: 2px 8px; cursor: pointer; }
  #r2d-toolbar button[aria-pressed="true"] { background: #5e81ac; }
  #r2d-type { width: 9em; cursor: text; }
  #r2d-state::before { content: "\\25CF "; color: #ebcb8b; }
  #r2d-state.connected::before { color: #a3be8c; }
  #r2d-state.failed::before { color: #bf616a; }
  .r2d-panel { margin-top: 2px; text-align: left; max-width: 90vw; }
  #r2d-clipboard { width: min(36em, 86vw); height: 6em; font: 12px/1.4 ui-monospace, monospace;
    background: #3b4252; color: #eceff4; border: 1px solid #4c566a; }
  .r2d-panel p { margin: 4px 0 0; color: #d8dee9; }
  #r2d-drop { position: fixed; inset: 0; z-index: 9; display: flex; align-items: center;
    justify-content: center; background: rgba(46, 52, 64, .7); border: 3px dashed #88c0d0;
    font: 20px system-ui, sans-serif; color: #eceff4; pointer-events: none; }
</style>
<div id="r2d-toolbar">
  <div id="r2d-bar" role="toolbar" aria-label="Desktop toolbar" hidden>
    <span id="r2d-state" role="status">Connecting</span>
    <button type="button" id="r2d-clipboard-button" aria-pressed="false" title="Text copied in the desktop, and text to paste into it">Clipboard</button>
    <button type="button" data-key="ctrl-alt-del" title="Send Ctrl-Alt-Del">Ctrl-Alt-Del</button>
    <button type="button" data-key="esc" title="Send Esc">Esc</button>
    <button type="button" data-key="tab" title="Send Tab">Tab</button>
    <button type="button" data-hold="ctrl" aria-pressed="false" title="Hold Ctrl until pressed again">Ctrl</button>
    <button type="button" data-hold="alt" aria-pressed="false" title="Hold Alt until pressed again">Alt</button>
    <input id="r2d-type" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
      placeholder="Type text here" title="Text typed here (accents, input methods, an on-screen keyboard) goes to the desktop">
    <button type="button" id="r2d-upload-button" title="Copy files from this computer into ~/Desktop">Upload files</button>
    <input id="r2d-files" type="file" multiple hidden>
    <button type="button" id="r2d-fullscreen" title="Fullscreen (Esc leaves it)">Fullscreen</button>
  </div>
  <div id="r2d-clipboard-panel" class="r2d-panel" hidden>
    <textarea id="r2d-clipboard" aria-label="Clipboard" placeholder="Text copied in the desktop appears here; text put here can be pasted in the desktop."></textarea>
    <p id="r2d-clipboard-note"></p>
  </div>
  <div id="r2d-upload-panel" class="r2d-panel" hidden>
    <p id="r2d-upload-status" role="status"></p>
    <p>Files go to ~/Desktop. To download files, use Jupyter's file browser.</p>
  </div>
  <button type="button" id="r2d-handle" aria-expanded="false" aria-controls="r2d-bar" title="Show the toolbar">&#9662;</button>
</div>
<div id="r2d-drop" hidden>Drop files to copy them into ~/Desktop</div>`;

const KEYS = { // X keysyms, as noVNC's keysym table names them
  Control_L: 0xffe3, Alt_L: 0xffe9, Delete: 0xffff, Escape: 0xff1b, Tab: 0xff09,
  Return: 0xff0d, BackSpace: 0xff08, Left: 0xff51, Up: 0xff52, Right: 0xff53, Down: 0xff54,
};
const FIELD_KEYS = { Enter: "Return", Backspace: "BackSpace", Tab: "Tab", Escape: "Escape",
  Delete: "Delete", ArrowLeft: "Left", ArrowUp: "Up", ArrowRight: "Right", ArrowDown: "Down" };

// The keysym of one character: Latin-1 keysyms equal their code points, every other character
// has its Unicode keysym (0x01000000 + code point), which X servers map to a free key.
export function keysymOf(character) {
  const code = character.codePointAt(0);
  if (character === "\n") return KEYS.Return;
  if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)) return code;
  return 0x01000000 + code;
}

export function createToolbar(rfb) {
  document.body.insertAdjacentHTML("beforeend", HTML);
  const $ = (id) => document.getElementById(id);
  const bar = $("r2d-bar");
  const handle = $("r2d-handle");
  const held = { ctrl: false, alt: false };
  const refocus = () => { const current = rfb(); if (current) current.focus(); };

  handle.addEventListener("click", () => {
    bar.hidden = !bar.hidden;
    handle.setAttribute("aria-expanded", String(!bar.hidden));
    if (bar.hidden) { $("r2d-clipboard-panel").hidden = true; $("r2d-clipboard-button").setAttribute("aria-pressed", "false"); }
  });
  $("r2d-clipboard-button").addEventListener("click", (e) => {
    const panel = $("r2d-clipboard-panel");
    panel.hidden = !panel.hidden;
    e.currentTarget.setAttribute("aria-pressed", String(!panel.hidden));
  });

  const tap = (name) => { const current = rfb(); if (current) current.sendKey(KEYS[name], null); };
  bar.querySelectorAll("[data-key]").forEach((button) => button.addEventListener("click", () => {
    const current = rfb();
    if (!current) return;
    if (button.dataset.key === "ctrl-alt-del") current.sendCtrlAltDel();
    else tap(button.dataset.key === "esc" ? "Escape" : "Tab");
    refocus();
  }));
  bar.querySelectorAll("[data-hold]").forEach((button) => button.addEventListener("click", () => {
    const name = button.dataset.hold;
    const current = rfb();
    if (!current) return;
    held[name] = !held[name];
    current.sendKey(name === "ctrl" ? KEYS.Control_L : KEYS.Alt_L, null, held[name]);
    button.setAttribute("aria-pressed", String(held[name]));
    refocus();
  }));

  // Text that arrives without key presses: each inserted character is sent as its keysym.
  const field = $("r2d-type");
  const typeText = (text) => {
    const current = rfb();
    if (current) for (const ch of text) current.sendKey(keysymOf(ch), null);
  };
  field.addEventListener("input", (e) => {
    if (e.isComposing) return; // an input method is still composing: compositionend sends it
    if (e.data) typeText(e.data);
    field.value = "";
  });
  field.addEventListener("compositionend", (e) => { if (e.data) typeText(e.data); field.value = ""; });
  field.addEventListener("keydown", (e) => {
    const name = FIELD_KEYS[e.key];
    if (!name || e.isComposing || (name === "BackSpace" && field.value)) return;
    e.preventDefault();
    tap(name);
  });

  $("r2d-fullscreen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
    refocus();
  });
  $("r2d-upload-button").addEventListener("click", () => $("r2d-files").click());

  return {
    clipboardBox: $("r2d-clipboard"),
    clipboardNote: (text) => { $("r2d-clipboard-note").textContent = text; },
    filesInput: $("r2d-files"),
    dropZone: $("r2d-drop"),
    uploadStatus: (text) => { $("r2d-upload-panel").hidden = !text; $("r2d-upload-status").textContent = text; },
    state: (text, kind) => { const s = $("r2d-state"); s.textContent = text; s.className = kind || ""; },
    // A new connection starts with nothing held.
    released: () => bar.querySelectorAll("[data-hold]").forEach((b) => { held[b.dataset.hold] = false; b.setAttribute("aria-pressed", "false"); }),
  };
}
