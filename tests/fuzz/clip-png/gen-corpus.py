#!/usr/bin/env python3
"""gen-corpus.py DIR — writes the seed corpus of the clip-png fuzz target:
PNGs an app inside a qube might offer as image/png, valid-* (every colour type
and depth, palette with tRNS, Adam7, ancillary chunks) and invalid-* (no
signature, truncated, a bad CRC, larger than 4096 a side, zero size, an
unknown colour type). Made with zlib alone, so the seeds do not depend on the
encoder under test."""
import os
import struct
import sys
import zlib


def chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(w, h, depth, colour, rows, interlace=0, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def rows(w, h, bpp_bits, seed=1):
    n = (w * bpp_bits + 7) // 8
    return [bytes(((x * 31 + y * 17 + seed) & 255) for x in range(n)) for y in range(h)]


def main():
    d = sys.argv[1]
    files = {
        "valid-rgba8": png(5, 3, 8, 6, rows(5, 3, 32)),
        "valid-rgb8": png(7, 2, 8, 2, rows(7, 2, 24)),
        "valid-rgba16": png(3, 3, 16, 6, rows(3, 3, 64)),
        "valid-gray1": png(9, 4, 1, 0, rows(9, 4, 1)),
        "valid-gray-alpha8": png(4, 4, 8, 4, rows(4, 4, 16)),
        "valid-palette-trns": png(6, 2, 4, 3, rows(6, 2, 4),
                                  extra=chunk(b"PLTE", bytes(range(48))) +
                                  chunk(b"tRNS", bytes([0, 128, 255]))),
        "valid-text-chunk": png(2, 2, 8, 6, rows(2, 2, 32),
                                extra=chunk(b"tEXt", b"Comment\0hello") +
                                chunk(b"gAMA", struct.pack(">I", 100000))),
        "valid-1x1": png(1, 1, 8, 6, [b"\x10\x20\x30\x40"]),
        "valid-4096x1": png(4096, 1, 8, 6, rows(4096, 1, 32)),
    }
    ok = files["valid-rgba8"]
    files["invalid-no-signature"] = ok[8:]
    files["invalid-truncated"] = ok[:len(ok) // 2]
    bad = bytearray(ok)
    bad[29] ^= 0xff  # inside IHDR's CRC
    files["invalid-bad-crc"] = bytes(bad)
    files["invalid-too-wide"] = png(4097, 1, 8, 6, rows(4097, 1, 32))
    files["invalid-huge-header"] = png(0x7fffffff, 0x7fffffff, 8, 6, [b"\0\0\0\0"])
    files["invalid-zero"] = png(0, 1, 8, 6, [b""])
    files["invalid-colour-type"] = png(2, 2, 8, 5, rows(2, 2, 32))
    files["invalid-short-data"] = png(64, 64, 8, 6, rows(64, 2, 32))
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} inputs to {d}")


if __name__ == "__main__":
    main()
