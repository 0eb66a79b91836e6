#!/usr/bin/env python3
# kernel-elf.py BZIMAGE OUT — the uncompressed kernel inside a Debian
# bzImage (its xz stream): xl create loads it about 5x faster than the
# bzImage under emulation (run-xen-qemu.sh, template-host.sh).
import lzma
import sys

data = open(sys.argv[1], 'rb').read()
start = data.find(b'\xfd7zXZ\x00')
if start < 0:
    sys.exit('no xz stream in ' + sys.argv[1])
open(sys.argv[2], 'wb').write(lzma.LZMADecompressor().decompress(data[start:]))
