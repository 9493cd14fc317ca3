// Copy and paste between the browser and the desktop, without a panel where the browser allows
// it: text the desktop copies goes to the browser's clipboard (async Clipboard API, secure
// contexts only: https, or http on localhost), and the browser's clipboard is read when the page
// gets the focus back, when the desktop is clicked, and on Ctrl-V (Shift-Ctrl-V) in the desktop,
// which waits for that text to be there before the keys go out. Where the browser refuses, the toolbar's clipboard box
// does the same by hand. MODE is desktop.yml's `clipboard:` (both, to-browser, to-desktop, off);
// the VNC server enforces it too where it can (TigerVNC's -SendCutText/-AcceptCutText).
export class ClipboardSync {
  constructor(mode, box, note) {
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
    screen.addEventListener("keydown", (e) => {
      const paste = (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "v";
      if (!paste || !this.toDesktop || !this.api || !this.api.readText || !this.rfb) return;
      // noVNC never sees this key (it ignores the unmatched release): the text goes first,
      // then the same key, so the app pastes what was just copied in the browser.
      e.stopPropagation();
      e.preventDefault();
      const rfb = this.rfb;
      const keysym = e.key === "V" ? 0x56 : 0x76;
      this.sync().finally(() => rfb.sendKey(keysym, "KeyV"));
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
    if (!this.toDesktop || !this.api || !this.api.readText) return;
    try {
      this.send(await this.api.readText());
    } catch (e) {
      // Not granted (or Firefox's paste prompt): the box and Ctrl-V into it still work.
    }
  }

  send(text) {
    if (!this.toDesktop || !this.rfb || !text || text === this.lastSent) return;
    this.lastSent = text;
    this.rfb.clipboardPasteFrom(text);
  }
}
