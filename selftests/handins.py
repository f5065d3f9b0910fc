"""Hand-ins the usual tools will not make, for the intake selftests and benchmarks/intake_memory.py:
zip archives with headers that lie about sizes, real password encryption (ZipCrypto), duplicate
entries and names as raw bytes; and files that cannot be read, though the tests run as root.

``write_zip`` writes the format by hand (local headers, data, central directory, end record), so every
field is what the caller says, true or not."""
import errno
import os
import struct
import zlib
from dataclasses import dataclass

STORED, DEFLATED = 0, 8
ENCRYPTED, UTF8 = 0x1, 0x800   # general-purpose flag bits


@dataclass
class Member:
    name: bytes
    data: bytes                # the member's bytes as stored (compressed, encrypted ...)
    crc: int                   # what the headers claim
    size: int                  # what the headers claim the member inflates to
    method: int = DEFLATED
    flags: int = 0
    mode: int = 0o100644       # unix st_mode, kept in the central directory


def deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def honest(name, text):
    """A member exactly as a zip tool writes it."""
    data = text.encode() if isinstance(text, str) else text
    name = name.encode() if isinstance(name, str) else name
    return Member(name, deflate(data), zlib.crc32(data), len(data))


def write_zip(path, members):
    local, central = bytearray(), bytearray()
    for m in members:
        head = struct.pack('<4s5H3L2H', b'PK\x03\x04', 20, m.flags, m.method, 0, 0x21, m.crc,
                           len(m.data), m.size, len(m.name), 0)
        central += struct.pack('<4s6H3L5H2L', b'PK\x01\x02', 0x0314, 20, m.flags, m.method, 0, 0x21, m.crc,
                               len(m.data), m.size, len(m.name), 0, 0, 0, 0, m.mode << 16, len(local)) + m.name
        local += head + m.name + m.data
    end = struct.pack('<4s4H2LH', b'PK\x05\x06', 0, 0, len(members), len(members), len(central), len(local), 0)
    with open(path, 'wb') as f:
        f.write(local + central + end)
    return path


def lying(name, text, inflates_to):
    """``text`` followed by newlines up to ``inflates_to`` bytes, deflated, under headers that claim the
    member is just ``text`` (its size and CRC): what zipfile.read inflates whole before it checks."""
    data = text.encode()
    c = zlib.compressobj(1, zlib.DEFLATED, -15)   # the fastest level: 1 GB in a few seconds
    parts = [c.compress(data)]
    block = b'\n' * 2 ** 24
    left = inflates_to - len(data)
    while left > 0:
        parts.append(c.compress(block[:left]))
        left -= len(block)
    parts.append(c.flush())
    return Member(name.encode(), b''.join(parts), zlib.crc32(data), len(data))


def encrypted(name, text, password=b'hunter2'):
    """Traditional PKWARE encryption (what `zip -e` writes), stored uncompressed."""
    data = text.encode()
    crc = zlib.crc32(data)
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_step(value, byte):
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte):
        keys[0] = crc_step(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_step(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in os.urandom(11) + bytes([crc >> 24]) + data:   # 12-byte header ending in the check byte
        t = keys[2] | 2
        out.append(byte ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(byte)
    return Member(name.encode(), bytes(out), crc, len(data), method=STORED, flags=ENCRYPTED)


def unreadable(monkeypatch, name):
    """Make opening course file ``name`` in a hand-in folder fail with EACCES, as a file of mode 000
    does for anyone but root (the intake opens it relative to its folder, with dir_fd)."""
    real_open = os.open

    def denied(path, flags, *args, **kwargs):
        if path == name and 'dir_fd' in kwargs:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, 'open', denied)
