// The desktop's sound in the page (desktop.yml `audio: true`), played with Web Audio.
//
// One websocket to <page>/audio, beside the page (the Jupyter login's cookie goes with it; no
// token in the URL; `up`'s server, which has no login, takes the desktop's VNC password in the
// page's first message instead), carries 20 ms frames of 48 kHz stereo: Opus, decoded with WebCodecs'
// AudioDecoder where the page can use it (it needs a secure context: https or localhost),
// else 16-bit PCM. Each frame is scheduled right after the previous one, LEAD seconds ahead
// of the audio clock after a gap; a frame that would start more than MAX_LEAD ahead restarts
// the schedule, so the delay stays bounded after a stall. The server sends nothing while the
// desktop is silent. If the socket closes, it is opened again: no reload needed.
//
// A speaker button mutes and unmutes. Where the browser blocks sound until the user acts
// (autoplay policy), the same button says so and one click starts it.
const LEAD = 0.06; // seconds ahead of the audio clock a frame after a gap starts
const MAX_LEAD = 0.25; // beyond this much queued sound, start over at LEAD
const RECONNECT_MS = 1000;

function socketUrl() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const here = window.location.pathname.replace(/[^/]*$/, "");
  return `${scheme}//${window.location.host}${here}audio`;
}

async function opusDecodable(format) {
  if (typeof AudioDecoder === "undefined") return false;
  try {
    const { supported } = await AudioDecoder.isConfigSupported(
      { codec: "opus", sampleRate: format.rate, numberOfChannels: format.channels });
    return supported;
  } catch (e) {
    return false;
  }
}

function speakerButton() {
  const button = document.createElement("button");
  button.id = "sound";
  button.type = "button";
  // Into the page's toolbar if it has one; else a small button of its own, top right.
  const toolbar = document.getElementById("toolbar");
  if (toolbar) {
    toolbar.append(button);
  } else {
    button.style.cssText = "position:fixed;top:.5em;right:.5em;z-index:10;padding:.3em .7em;"
      + "font:14px/1.4 system-ui,sans-serif;color:#eceff4;background:#3b4252;border:1px solid #4c566a;"
      + "border-radius:4px;cursor:pointer;opacity:.85";
    document.body.append(button);
  }
  return button;
}

export function startAudio(config, password = () => "") {
  if (!config.audio) return null;
  const format = { rate: 48000, channels: 2 };
  const context = new AudioContext({ sampleRate: format.rate, latencyHint: "interactive" });
  const output = context.createGain(); // the mute switch; tests tap it with an AnalyserNode
  output.connect(context.destination);
  // frames played, frames dropped to keep the delay bounded, bytes received: for the console,
  // the tests and `make bench`.
  const state = { context, output, muted: false, frames: 0, dropped: 0, bytes: 0, codec: "", socket: null };
  const button = speakerButton();
  let next = 0;

  function label() {
    if (context.state !== "running") {
      button.textContent = "\u{1F507} Click for sound";
      button.title = "Your browser holds sound until you click; click to hear the desktop";
    } else {
      button.textContent = state.muted ? "\u{1F507}" : "\u{1F50A}";
      button.title = state.muted ? "Sound off: click to hear the desktop" : "Sound on: click to mute";
    }
    button.setAttribute("aria-label", button.title);
  }
  button.addEventListener("click", async () => {
    if (context.state !== "running") {
      await context.resume();
    } else {
      state.muted = !state.muted;
      output.gain.value = state.muted ? 0 : 1;
    }
    label();
  });
  context.addEventListener("statechange", label);
  label();

  function play(channels, frames) {
    const buffer = context.createBuffer(channels.length, frames, format.rate);
    channels.forEach((samples, c) => buffer.copyToChannel(samples, c));
    const now = context.currentTime;
    if (next < now + 0.005) next = now + LEAD; // after a gap (silence, a stall): start afresh
    if (next > now + MAX_LEAD) { state.dropped++; next = now + LEAD; return; }
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(output);
    source.start(next);
    next += buffer.duration;
    state.frames++;
    state.lead = next - now;
  }

  function decoderFor() {
    const decoder = new AudioDecoder({
      output: (data) => {
        const channels = [];
        for (let c = 0; c < data.numberOfChannels; c++) {
          const plane = new Float32Array(data.numberOfFrames);
          data.copyTo(plane, { planeIndex: c, format: "f32-planar" });
          channels.push(plane);
        }
        play(channels, data.numberOfFrames);
        data.close();
      },
      error: () => { state.decoder = null; }, // a fresh one for the next frame
    });
    decoder.configure({ codec: "opus", sampleRate: format.rate, numberOfChannels: format.channels });
    return decoder;
  }

  function playPcm(bytes) {
    const samples = new Int16Array(bytes);
    const frames = samples.length / format.channels;
    const channels = Array.from({ length: format.channels }, () => new Float32Array(frames));
    for (let i = 0; i < frames; i++) {
      for (let c = 0; c < format.channels; c++) channels[c][i] = samples[i * format.channels + c] / 32768;
    }
    play(channels, frames);
  }

  async function open() {
    const codec = (await opusDecodable(format)) ? "opus" : "pcm";
    const socket = new WebSocket(socketUrl());
    socket.binaryType = "arraybuffer";
    state.socket = socket;
    let timestamp = 0;
    socket.addEventListener("open", () => {
      const hello = { codec };
      if (password()) hello.password = password(); // `up`'s server checks it; Jupyter has its login
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data === "string") { state.codec = JSON.parse(event.data).codec; return; }
      state.bytes += event.data.byteLength;
      if (state.codec === "opus") {
        if (!state.decoder || state.decoder.state === "closed") state.decoder = decoderFor();
        state.decoder.decode(new EncodedAudioChunk({ type: "key", timestamp, data: event.data }));
        timestamp += 20000; // microseconds
      } else {
        playPcm(event.data);
      }
    });
    socket.addEventListener("close", () => {
      state.socket = null;
      window.setTimeout(open, RECONNECT_MS);
    });
  }
  open();
  window.desktopAudio = state; // for the browser's console and the tests
  return state;
}
