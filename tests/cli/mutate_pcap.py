#!/usr/bin/env python3
"""Writes hostile copies of a pcap's frames, for the decoders and the Wireshark plugin.

usage: mutate_pcap.py IN OUT SEED COPIES FIRST MAX_FLIPS
Each frame of IN becomes COPIES frames in OUT: truncated at a random length (not before octet
FIRST), or with 1..MAX_FLIPS random octets from FIRST on replaced. FIRST 12 keeps the pc5sec
frame header whole; 0 spares nothing. The same SEED gives the same OUT.
"""
import random
import struct
import sys

src, dst, seed, copies, first, max_flips = sys.argv[1:7]
copies, first, max_flips = int(copies), int(first), int(max_flips)
random.seed(int(seed))
data = open(src, "rb").read()
out, off = bytearray(data[:24]), 24
while off < len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    for _ in range(copies):
        m = bytearray(frame)
        k = random.choice(range(max_flips + 1))
        if k == 0:
            m = m[:random.randrange(first, len(m) + 1)]
        for _ in range(k):
            m[random.randrange(first, len(m))] = random.randrange(256)
        out += struct.pack("<IIII", 0, 0, len(m), len(m)) + m
open(dst, "wb").write(out)
