#!/usr/bin/env python3
"""Writes the malicious-archive corpus in tests/corpus/unpack/ and its index,
cases.tsv (file, then the text the refusal must contain). Every archive here must be
refused by archive::unpack (tests/e2e/corpus.rs runs them with limits of 100 entries
and 1 MiB) without writing anything outside the target directory. Deterministic:
running it again rewrites the same bytes.

    python3 tests/corpus/make-unpack-corpus.py
"""

import gzip
import io
import os
import random
import tarfile
import zipfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unpack")
cases = []


def tar_bytes(members, fmt=tarfile.GNU_FORMAT, compress=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for info, data in members:
            info.mtime = 0
            info.uid = info.gid = 0
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    if compress:
        return gzip.compress(raw, mtime=0)
    return raw


def f(name, data=b"x", mode=0o644):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    i.mode = mode
    return (i, data)


def d(name):
    i = tarfile.TarInfo(name)
    i.type = tarfile.DIRTYPE
    i.mode = 0o755
    return (i, None)


def link(name, target, kind=tarfile.SYMTYPE):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = target
    return (i, None)


def special(name, kind):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.devmajor, i.devminor = 1, 3
    return (i, None)


def case(name, data, expect):
    with open(os.path.join(OUT, name), "wb") as out:
        out.write(data)
    cases.append((name, expect))


def zip_bytes(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, mode in entries:
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = mode << 16
            z.writestr(zi, data)
    return buf.getvalue()


def patched(raw, offset, field):
    """The tar bytes with the header at `offset` given `field` (start, bytes), the
    checksum recomputed."""
    b = bytearray(raw)
    start, value = field
    b[offset + start:offset + start + len(value)] = value
    b[offset + 148:offset + 156] = b" " * 8
    b[offset + 148:offset + 156] = b"%06o\0 " % sum(b[offset:offset + 512])
    return bytes(b)


os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    os.remove(os.path.join(OUT, old))

case("absolute-path.tar", tar_bytes([f("/tmp/kiln-corpus-evil")]), "absolute path")
case("dotdot.tar", tar_bytes([f("../kiln-corpus-evil")]), "'..' component")
case("dotdot-nested.tar", tar_bytes([f("a/b/../../../kiln-corpus-evil")]), "'..' component")
case("dotdot.tar.gz", tar_bytes([f("ok"), f("../kiln-corpus-evil")], compress=True), "'..' component")
case("long-name-dotdot.tar", tar_bytes([f("../" + "n" * 120)]), "'..' component")
case("pax-path-dotdot.tar", tar_bytes([f("../kiln-corpus-evil-" + "p" * 90)], fmt=tarfile.PAX_FORMAT), "'..' component")
case("symlink-absolute.tar", tar_bytes([link("l", "/etc/passwd")]), "points outside")
case("symlink-dotdot.tar", tar_bytes([link("a/l", "../../..")]), "points outside")
case("pax-linkpath-out.tar", tar_bytes([link("l", "../" * 40 + "etc")], fmt=tarfile.PAX_FORMAT), "points outside")
case("symlink-then-write.tar", tar_bytes([link("d", "."), f("d/kiln-corpus-evil")]), "written through the symlink")
case("symlink-dir-then-write.tar", tar_bytes([d("a/"), link("a/up", ".."), f("a/up/x")]), "written through the symlink")
# Chains: every link harmless alone, the tree's links together lead out.
case("symlink-chain-dot.tar", tar_bytes([link("x", "."), link("l", "x/..")]), "once the archive's other symlinks are followed")
case("symlink-chain-passwd.tar", tar_bytes([d("a/"), link("a/up", ".."), link("l2", "a/up/.."), link("l3", "l2/etc/passwd")]), "once the archive's other symlinks are followed")
case("symlink-chain-later.tar", tar_bytes([link("l", "d/.."), link("d", ".")]), "once the archive's other symlinks are followed")
case("symlink-chain-deep.tar", tar_bytes([d("a/b/"), link("a/b/up", "../.."), link("l1", "a/b/up/../x")]), "once the archive's other symlinks are followed")
case("symlink-loop.tar", tar_bytes([link("l1", "l2"), link("l2", "l1")]), "too many symlinks")
case("zip-symlink-chain.zip", zip_bytes([("x", b".", 0o120777), ("l", b"x/..", 0o120777)]), "once the archive's other symlinks are followed")
case("hardlink-out.tar", tar_bytes([link("h", "../../etc/passwd", tarfile.LNKTYPE)]), "points outside the archive")
case("hardlink-absolute.tar", tar_bytes([link("h", "/etc/passwd", tarfile.LNKTYPE)]), "hard link")
case("hardlink-missing.tar", tar_bytes([link("h", "never-there", tarfile.LNKTYPE)]), "not a file extracted before it")
case("char-device.tar", tar_bytes([special("null", tarfile.CHRTYPE)]), "character device entries are not allowed")
case("block-device.tar", tar_bytes([special("sda", tarfile.BLKTYPE)]), "block device entries are not allowed")
case("fifo.tar", tar_bytes([special("pipe", tarfile.FIFOTYPE)]), "fifo entries are not allowed")
case("duplicate-file.tar", tar_bytes([f("a", b"1"), f("a", b"2")]), "duplicate entry")
case("file-over-symlink.tar", tar_bytes([link("a", "b"), f("a")]), "duplicate entry")
case("dir-then-file.tar", tar_bytes([d("a/"), f("a")]), "a directory of the same name came first")
case("dir-then-symlink.tar", tar_bytes([d("a/"), link("a", "b")]), "a directory of the same name came first")
case("regular-slash-sized.tar", tar_bytes([f("x/", b"12345")]), "non-zero size")
# GNU tar reads "+0" as base-64 (52 bytes here), the tar crate as octal 0: what GNU tar
# shows and what would be packed must never differ.
plus = tar_bytes([f("README", b""), f("bin/evil", b"#!/bin/sh\necho pwned\n")])
case("size-plus.tar", patched(plus, 0, (124, b"+0         \0")), "is not octal")
# ustar of another version with a prefix: GNU tar keeps "safe/", the crate would drop it.
pre = tar_bytes([f("tool", b"x")], fmt=tarfile.USTAR_FORMAT)
pre = patched(patched(pre, 0, (345, b"safe\0")), 0, (263, b"\0\0"))
case("ustar-version-prefix.tar", pre, "with a name prefix")
case("backslash.tar", tar_bytes([f("..\\kiln-corpus-evil")]), "backslash")
case("too-many-entries.tar", tar_bytes([f(f"f{i}") for i in range(150)]), "entries allowed")
case("gzip-bomb.tar.gz", tar_bytes([f("zeros", b"\0" * (8 << 20))], compress=True), "decompression bomb")
case("longname-bomb.tar.gz", tar_bytes([f("n" * (80 << 20))], compress=True), "of headers, long names or PAX records")
case("pax-bomb.tar.gz", tar_bytes([f("p" * (80 << 20))], fmt=tarfile.PAX_FORMAT, compress=True), "of headers, long names or PAX records")
case("zip-dotdot.zip", zip_bytes([("../kiln-corpus-evil", b"x", 0o100644)]), "'..' component")
case("zip-absolute.zip", zip_bytes([("/tmp/kiln-corpus-evil", b"x", 0o100644)]), "absolute path")
case("zip-symlink-out.zip", zip_bytes([("l", b"../../../etc", 0o120777)]), "points outside")
case("zip-fifo.zip", zip_bytes([("pipe", b"", 0o010644)]), "special files are not allowed")
noise = random.Random(7).randbytes(100000)
case("truncated.tar.gz", tar_bytes([f("a", noise)], compress=True)[:50000], "corrupt or truncated")

with open(os.path.join(OUT, "cases.tsv"), "w") as idx:
    for name, expect in cases:
        idx.write(f"{name}\t{expect}\n")
print(f"wrote {len(cases)} archives to {OUT}")
