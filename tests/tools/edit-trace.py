#!/usr/bin/env python3
"""edit-trace.py IN OUT INDEX: copy a gpuvm trace, changing the recorded result
of ioctl INDEX (0 becomes -EINVAL, an error becomes 0), as a driver that
behaved differently would have. gpuvm-exercise --replay OUT must then report
its first divergence at that index. The layout walked here is
tools/trace/trace-format.h's."""
import struct
import sys

def main():
    src, dst, index = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = bytearray(open(src, "rb").read())
    magic, version, header_size = struct.unpack_from("<8sII", data, 0)
    if magic != b"GPUVMTRC":
        sys.exit("not a gpuvm trace")
    pos = header_size
    while pos < len(data):
        size, rtype, _file, seq = struct.unpack_from("<IHHI", data, pos)
        if rtype == 3 and seq == index:  # TRACE_REC_IOCTL
            result_at = pos + 16 + 8  # after the record header and request
            (result,) = struct.unpack_from("<i", data, result_at)
            struct.pack_into("<i", data, result_at, -22 if result == 0 else 0)
            open(dst, "wb").write(data)
            return
        pos += size
    sys.exit(f"no ioctl #{index} in {src}")

main()
