// Copy and paste between the browser and the desktop, without a panel where the browser allows
// it: text the desktop copies goes to the browser's clipboard (async Clipboard API, secure
// contexts only: https, or http on localhost), and the browser's clipboard is read when the page
// gets the focus back, when the desktop is clicked, and on Ctrl-V (Shift-Ctrl-V) in the desktop,
// which waits for that text to be there before the keys go out. Where the browser refuses, the toolbar's clipboard box
// does the same by hand. MODE is desktop.yml's `clipboard:` (both, to-browser, to-desktop, off);
// the VNC server enforces it too where it can (TigerVNC's -SendCutText/-AcceptCutText).
export class ClipboardSync {
  // SETTLE_MS: how long the desktop needs before a paste sees new text (TightVNC: autocutsel
  // copies its cut buffer into the selections every 250 ms; TigerVNC: 0).
  constructor(mode, box, note, settleMs = 0) {
    this.settleMs = settleMs;
    this.sentAt = 0; // when text last went to the desktop (Date.now())
    this.toBrowser = mode === "both" || mode === "to-browser";
    this.toDesktop = mode === "both" || mode === "to-desktop";
    this.box = box; // the toolbar's <textarea>
    this.note = note; // (text) => shown under the box
    this.rfb = null;
    this.lastSent = null; // what the desktop has from us, or sent us: never echoed back
    this.pendingWrite = null; // desktop text the browser refused while the page had no focus
    this.api = window.isSecureContext && navigator.clipboard ? navigator.clipboard : null;
    if (!this.toBrowser && !this.toDesktop) {
      box.disabled = true;
      box.placeholder = "Copy and paste with the desktop is turned off (desktop.yml: clipboard: off).";
    } else if (!this.toDesktop) {
      box.readOnly = true;
      box.placeholder = "Text copied in the desktop appears here (pasting into it is turned off).";
    }
    box.addEventListener("input", () => this.send(box.value));
    window.addEventListener("focus", () => this.sync());
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.sync(); });
    document.addEventListener("paste", (e) => {
      if (e.target === box) return; // the box's own input event sends it
      const text = e.clipboardData && e.clipboardData.getData("text/plain");
      if (text) this.send(text);
    });
  }

  // SCREEN holds noVNC's canvas: its capture listeners run before noVNC's keyboard.
  watch(screen) {
    screen.addEventListener("pointerdown", () => this.sync(), true);
    // Which modifiers are still down when the delayed V goes out (noVNC sends their own
    // presses and releases as they happen).
    const held = new Set();
    const track = (e) => {
      if (["Control", "Shift"].includes(e.key)) held[e.type === "keydown" ? "add" : "delete"](e.key);
    };
    screen.addEventListener("keyup", track, true);
    window.addEventListener("blur", () => held.clear());
    screen.addEventListener("keydown", (e) => {
      track(e);
      const paste = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "v";
      if (!paste || !this.toDesktop || !this.api || !this.api.readText || !this.rfb) return;
      // noVNC never sees this key (it ignores the unmatched release): the text goes first,
      // then the same key, so the app pastes what was just copied in the browser. Ctrl (and
      // Shift) are pressed around it again when they were let go meanwhile.
      e.stopPropagation();
      e.preventDefault();
      const rfb = this.rfb;
      const withShift = e.shiftKey;
      const press = () => {
        const again = [["Control", 0xffe3, "ControlLeft"], ...(withShift ? [["Shift", 0xffe1, "ShiftLeft"]] : [])]
          .filter(([name]) => !held.has(name));
        again.forEach(([, keysym, code]) => rfb.sendKey(keysym, code, true));
        rfb.sendKey(withShift ? 0x56 : 0x76, "KeyV"); // V or v, as the Shift key says
        again.reverse().forEach(([, keysym, code]) => rfb.sendKey(keysym, code, false));
      };
      // Text sent a moment ago (this read, or the click before it) needs the settle time.
      const later = () => window.setTimeout(press, Math.max(0, this.sentAt + this.settleMs - Date.now()));
      this.sync().then(later, later);
    }, true);
  }

  attach(rfb) {
    this.rfb = rfb;
    rfb.addEventListener("clipboard", (e) => this.fromDesktop(e.detail.text));
    rfb.addEventListener("connect", () => this.sync());
  }

  async fromDesktop(text) {
    if (!this.toBrowser) return;
    this.lastSent = text;
    this.box.value = text;
    await this.write(text);
  }

  async write(text) {
    if (!this.api) { this.note("This page cannot reach your clipboard here (no secure context): copy from this box."); return; }
    try {
      await this.api.writeText(text);
      this.pendingWrite = null;
    } catch (e) {
      // Chromium refuses while the page has no focus: write it when the focus comes back.
      this.pendingWrite = text;
    }
  }

  // The page has the focus again (or the desktop just connected): hand over what waits.
  async sync() {
    if (this.pendingWrite !== null && document.hasFocus()) await this.write(this.pendingWrite);
    if (!this.toDesktop || !this.api || !this.api.readText) return false;
    try {
      return this.send(await this.api.readText());
    } catch (e) {
      // Not granted (or Firefox's paste prompt): the box and Ctrl-V into it still work.
      return false;
    }
  }

  send(text) {
    if (!this.toDesktop || !this.rfb || !text || text === this.lastSent) return false;
    this.lastSent = text;
    this.sentAt = Date.now();
    this.rfb.clipboardPasteFrom(text);
    return true;
  }
}
