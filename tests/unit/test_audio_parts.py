"""The sound parts that run without a desktop: the package set, the capture command, and the
Opus encoder on Debian's real libopus (a 440 Hz tone in, compact packets out)."""
from __future__ import annotations

import math
import struct

import pytest

from repo2desktop.image.packages import AUDIO_PACKAGES, apt_packages
from repo2desktop.jupyter.audio import capture_command
from repo2desktop.runtime import opus


def test_audio_brings_the_sound_server_and_the_encoder_only_when_asked(load):
    off = set(apt_packages(load("version: 1\n")))
    on = set(apt_packages(load("version: 1\naudio: true\n")))
    assert on - off == set(AUDIO_PACKAGES)
    # No Debian pulseaudio: it pulls libavcodec and friends (~124 MiB against ~17 MiB).
    assert "pulseaudio" not in on and {"pipewire", "wireplumber", "libopus0"} <= on


def test_capture_records_the_null_sinks_monitor_as_the_encoders_pcm():
    command = capture_command("unix:/run/r2d/sound/pulse/native")
    assert command[1:] == ["--server=unix:/run/r2d/sound/pulse/native", "--device=desktop.monitor",
                           "--raw", "--format=s16le", "--rate=48000", "--channels=2",
                           "--latency-msec=10", "--client-name=repo2desktop-page"]
    assert opus.FRAME_BYTES == 960 * 2 * 2


def _tone(frames: int, hertz: float = 440.0, start: int = 0) -> bytes:
    return b"".join(struct.pack("<hh", v, v) for v in (
        int(9000 * math.sin(2 * math.pi * hertz * (start + i) / opus.RATE)) for i in range(frames)))


def test_opus_packets_of_a_tone_are_a_small_fraction_of_its_pcm():
    encoder = opus.OpusEncoder()
    try:
        packets = [encoder.encode(_tone(opus.FRAME, start=n * opus.FRAME)) for n in range(50)]  # 1 s
    finally:
        encoder.close()
    total = sum(len(p) for p in packets)
    # 64 kbit/s is 8000 bytes a second; PCM is 192000. Allow the encoder's own variation.
    assert 2000 < total < 12000, total


def test_opus_refuses_a_frame_of_the_wrong_size():
    encoder = opus.OpusEncoder()
    try:
        with pytest.raises(ValueError, match="an Opus frame is 3840 bytes of PCM, not 100"):
            encoder.encode(bytes(100))
    finally:
        encoder.close()
