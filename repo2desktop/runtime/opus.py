"""Opus encoding of the desktop's sound through Debian's libopus0 (ctypes; no Python package).

The page's sound travels as 20 ms Opus packets of 48 kHz stereo: about 64 kbit/s while
something plays, against 1536 kbit/s for the same sound as 16-bit PCM.
"""
from __future__ import annotations

import ctypes
import ctypes.util

from repo2desktop.errors import RuntimeStartError

RATE = 48000
CHANNELS = 2
FRAME = RATE // 50  # samples per channel in 20 ms: Opus's most efficient frame size
FRAME_BYTES = FRAME * CHANNELS * 2  # 16-bit little-endian interleaved PCM
BITRATE = 64000
# From opus_defines.h (stable ABI since libopus 1.0).
_APPLICATION_AUDIO = 2049
_SET_BITRATE = 4002
_SET_COMPLEXITY = 4010
_MAX_PACKET = 4000  # bytes; what libopus documents as enough for any packet


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise RuntimeStartError("sound", "libopus0 is not installed: the page's sound needs "
                                "its Opus encoder (Debian/Ubuntu: apt-get install libopus0)") from e
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_int32]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_strerror.restype = ctypes.c_char_p
    return lib


class OpusEncoder:
    """One stream's encoder: encode(20 ms of s16le stereo PCM) -> one Opus packet."""

    def __init__(self, bitrate: int = BITRATE):
        self._lib = _library()
        error = ctypes.c_int(0)
        self._state = self._lib.opus_encoder_create(RATE, CHANNELS, _APPLICATION_AUDIO, ctypes.byref(error))
        if error.value != 0 or not self._state:
            raise RuntimeStartError("sound", f"Opus encoder: {self._lib.opus_strerror(error.value).decode()}")
        # opus_encoder_ctl is variadic: each request takes one opus_int32.
        self._lib.opus_encoder_ctl(ctypes.c_void_p(self._state), _SET_BITRATE, ctypes.c_int32(bitrate))
        # Complexity 5 of 10: half the CPU of the default at a quality loss hard to hear.
        self._lib.opus_encoder_ctl(ctypes.c_void_p(self._state), _SET_COMPLEXITY, ctypes.c_int32(5))
        self._out = ctypes.create_string_buffer(_MAX_PACKET)

    def encode(self, pcm: bytes) -> bytes:
        if len(pcm) != FRAME_BYTES:
            raise ValueError(f"an Opus frame is {FRAME_BYTES} bytes of PCM, not {len(pcm)}")
        size = self._lib.opus_encode(self._state, pcm, FRAME, self._out, _MAX_PACKET)
        if size < 0:
            raise RuntimeStartError("sound", f"Opus encoder: {self._lib.opus_strerror(size).decode()}")
        return self._out.raw[:size]

    def close(self) -> None:
        if self._state:
            self._lib.opus_encoder_destroy(self._state)
            self._state = None

    def __del__(self):
        self.close()
