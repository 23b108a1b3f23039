#!/usr/bin/env python3
"""Writes the message-model test vectors (*.vec) in this directory.

An independent Python account of the layouts in reference sections 5.7 and 6
(not generated from spec/message, so the C codecs are checked against a second
reading). The worked record of 6.4 is checked against the reference's own byte
listing before anything is written. Deterministic; standard library only.

Vector file format (read by codegen/test/test_message_vec.c):
  # comment
  [kind name]             starts a case
  key = value             value: tokens separated by spaces; a token is a bare
                          word (hex digits, a number, a.b.c.d:port) or a "quoted"
                          string with \\xNN \\\\ \\" escapes
  a line starting with whitespace continues the previous value
  keys may repeat (pair, entry, id...), order is kept
"""
import ipaddress
import os
import struct
import zlib
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))

MAGIC_V1, MAGIC_V2, MAGIC_BLANK = 0xDAA320A7, 0xDAA320AB, 0xCBD43194
BORN_V6, STORE_V6 = 0x10, 0x20


def s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def java_utf16_units(b):
    """UTF-16 units of new String(b, UTF_8) as the JDK's decoder produces them
    (behaviour described in tag_hash.json): maximal-subpart replacement, except
    that ED is structured like E1..EC and a decoded surrogate becomes U+FFFD."""
    units, i, n = [], 0, len(b)
    cont = lambda x: 0x80 <= x <= 0xBF  # noqa: E731
    while i < n:
        c = b[i]
        if c < 0x80:
            units.append(c)
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need, lo, cp = 1, 0x80, c & 0x1F
        elif 0xE0 <= c <= 0xEF:
            need, lo, cp = 2, 0xA0 if c == 0xE0 else 0x80, c & 0x0F
        elif 0xF0 <= c <= 0xF4:
            need, lo, cp = 3, 0x90 if c == 0xF0 else 0x80, c & 0x07
        else:
            units.append(0xFFFD)
            i += 1
            continue
        hi = 0x8F if c == 0xF4 else 0xBF
        i += 1
        k = 0
        while k < need and i < n and (lo <= b[i] <= hi):
            cp = (cp << 6) | (b[i] & 0x3F)
            lo, hi = 0x80, 0xBF
            i += 1
            k += 1
        if k < need or 0xD800 <= cp <= 0xDFFF:
            units.append(0xFFFD)
        elif cp >= 0x10000:
            cp -= 0x10000
            units += [0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)]
        else:
            units.append(cp)
    return units


def java_hash(b):
    """String.hashCode of new String(b, UTF_8)."""
    h = 0
    for u in java_utf16_units(b):
        h = (31 * h + u) & 0xFFFFFFFF
    return s32(h)


def index_hash(topic, key):
    h = java_hash(topic + b"#" + key)
    if h == -(1 << 31):
        return 0
    return abs(h)


def crc(b):
    return zlib.crc32(b) & 0x7FFFFFFF


def host_bytes(hp):
    ip, port = hp.rsplit(":", 1)
    ip = ip.strip("[]")
    return ipaddress.ip_address(ip).packed + struct.pack(">i", int(port))


def record(r):
    """Encodes a stored record the way CommitLog does."""
    v2 = r.get("magic", MAGIC_V1) == MAGIC_V2
    body, topic, props = r["body"], r["topic"], r["properties"]
    born, store = host_bytes(r["born_host"]), host_bytes(r["store_host"])
    assert (len(born) == 20) == bool(r["sys_flag"] & BORN_V6)
    assert (len(store) == 20) == bool(r["sys_flag"] & STORE_V6)
    out = b"".join([
        struct.pack(">i", s32(r.get("magic", MAGIC_V1))),
        struct.pack(">i", r["body_crc"]),
        struct.pack(">i", r["queue_id"]),
        struct.pack(">i", r["flag"]),
        struct.pack(">q", r["queue_offset"]),
        struct.pack(">q", r["physical_offset"]),
        struct.pack(">i", r["sys_flag"]),
        struct.pack(">q", r["born_timestamp"]),
        born,
        struct.pack(">q", r["store_timestamp"]),
        store,
        struct.pack(">i", r["reconsume_times"]),
        struct.pack(">q", r["prepared_transaction_offset"]),
        struct.pack(">i", len(body)), body,
        struct.pack(">h", len(topic)) if v2 else struct.pack(">b", len(topic)), topic,
        struct.pack(">h", len(props)), props,
    ])
    total = 4 + len(out)
    expect = 91 + len(body) + len(topic) + len(props) + 12 * (len(born) == 20) + 12 * (len(store) == 20) + v2
    assert total == expect, (total, expect)
    return struct.pack(">i", total) + out


def msgid(store_hp, offset):
    return (host_bytes(store_hp) + struct.pack(">q", offset)).hex().upper()


def q(b):
    """A quoted vector string."""
    out = ['"']
    for c in b:
        if c in (0x22, 0x5C):
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    out.append('"')
    return "".join(out)


def hexlines(b):
    rows = [b[i:i + 16].hex(" ") for i in range(0, len(b), 16)]
    return "\n  ".join(rows)


REFERENCE_WORKED = """
00 00 00 65 da a3 20 a7 58 93 2a ac 00 00 00 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 00 00 01 8b cf e5 68 00
0a 00 00 05 00 00 c3 50 00 00 01 8b cf e5 68 7b
0a 00 00 01 00 00 2a 9f 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 02 68 69 01 54 00 07 54 41
47 53 01 41 02
"""


def tags_of(props):
    for seg in props.split(b"\x02"):
        k, sep, v = seg.partition(b"\x01")
        if sep and k == b"TAGS" and v:
            return v
    return b""


def records_vec():
    cases = []
    worked = dict(body=b"hi", topic=b"T", properties=b"TAGS\x01A\x02", queue_id=0, flag=0, queue_offset=0,
                  physical_offset=0, sys_flag=0, born_timestamp=1700000000000, born_host="10.0.0.5:50000",
                  store_timestamp=1700000000123, store_host="10.0.0.1:10911", reconsume_times=0,
                  prepared_transaction_offset=0)
    worked["body_crc"] = crc(worked["body"])
    wb = record(worked)
    assert wb == bytes.fromhex(REFERENCE_WORKED), "worked example disagrees with reference 6.4"
    assert worked["body_crc"] == 0x58932AAC
    cases.append(("worked_example", "Reference 6.4 worked example, byte-exact.", worked))

    uniq = b"C0A8000B1F9C18B4AAC2A7B5D1D20000"
    v6born = dict(body=b"hello world", topic=b"TopicTest",
                  properties=b"KEYS\x01k1 k2\x02UNIQ_KEY\x01" + uniq + b"\x02TAGS\x01TagA\x02CLUSTER\x01DefaultCluster\x02",
                  queue_id=3, flag=7, queue_offset=42, physical_offset=1024, sys_flag=BORN_V6,
                  born_timestamp=1700000001000, born_host="[2001:db8::5]:40000", store_timestamp=1700000001007,
                  store_host="192.168.0.10:10911", reconsume_times=1, prepared_transaction_offset=0)
    v6born["body_crc"] = crc(v6born["body"])
    cases.append(("ipv6_born_host", "IPv6 born host (sysFlag 0x10): every field after BORNHOST shifts by 12.", v6born))

    v6both = dict(body=b"", topic=b"%RETRY%cg", properties=b"RETRY_TOPIC\x01TopicTest\x02TAGS\x01\xe6\xa0\x87\xe7\xad\xbe\x02",
                  queue_id=0, flag=0, queue_offset=5, physical_offset=0x123456789A, sys_flag=BORN_V6 | STORE_V6 | 0x2,
                  born_timestamp=1700000002000, born_host="[::1]:1", store_timestamp=1700000002001,
                  store_host="[fe80::1:2]:10911", reconsume_times=3, prepared_transaction_offset=0)
    v6both["body_crc"] = crc(v6both["body"])
    cases.append(("ipv6_both_hosts", "Both hosts IPv6, empty body, non-ASCII tag; msgId is 56 hex digits.", v6both))

    commit = dict(body=b"\x00\x01\x02\xff" * 4, topic=b"OrderTopic", properties=b"TAGS\x01pay\x02PGROUP\x01pg\x02",
                  queue_id=1, flag=-1, queue_offset=99, physical_offset=4096, sys_flag=0x8,
                  born_timestamp=1700000003000, born_host="127.0.0.1:54321", store_timestamp=1700000003000,
                  store_host="127.0.0.1:10911", reconsume_times=0, prepared_transaction_offset=2048)
    commit["body_crc"] = crc(commit["body"])
    cases.append(("committed_transaction", "COMMIT_TYPE record pointing at its half message; binary body; flag -1.", commit))

    v2 = dict(worked, magic=MAGIC_V2, topic=b"t" * 130, physical_offset=101)
    cases.append(("magic_v2_long_topic", "5.x magic v2: 2-byte topic length, topic of 130 bytes.", v2))

    lines = ["# Stored records (reference 6.4). Generated by make_vectors.py.", ""]
    for name, about, r in cases:
        b = record(r)
        lines.append("[record %s]" % name)
        lines.append("about = %s" % q(about.encode()))
        lines.append("hex = " + hexlines(b))
        lines.append("total_size = %d" % len(b))
        lines.append("magic = %d" % s32(r.get("magic", MAGIC_V1)))
        for k in ("body_crc", "queue_id", "flag", "queue_offset", "physical_offset", "sys_flag", "born_timestamp",
                  "store_timestamp", "reconsume_times", "prepared_transaction_offset"):
            lines.append("%s = %d" % (k, r[k]))
        for k in ("born_host", "store_host"):
            ip, port = r[k].rsplit(":", 1)
            lines.append("%s = %s %s" % (k, ipaddress.ip_address(ip.strip("[]")).packed.hex(), port))
        for k in ("body", "topic", "properties"):
            lines.append("%s = %s" % (k, q(r[k])))
        lines.append("msgid = %s" % msgid(r["store_host"], r["physical_offset"]))
        # Consume-queue entry: (commit-log offset, size, tags code).
        lines.append("cq = %d %d %d" % (r["physical_offset"], len(b), java_hash(tags_of(r["properties"]))))
        lines.append("")
    lines.append("[blank end_of_file]")
    lines.append("about = %s" % q(b"BLANK filler: 8 bytes, TOTALSIZE = bytes left in the file."))
    lines.append("hex = " + hexlines(struct.pack(">iI", 1000, MAGIC_BLANK)))
    lines.append("total_size = 1000")
    lines.append("")
    return "\n".join(lines)


def props_vec():
    cases = [
        ("typical", b"TAGS\x01TagA\x02KEYS\x01k1 k2\x02UNIQ_KEY\x01C0A8000B1F9C18B4AAC2A7B5D1D20000\x02WAIT\x01true\x02",
         "Reference 6.1 example."),
        ("empty", b"", "No properties."),
        ("missing_trailing_separator", b"TAGS\x01A\x02KEYS\x01k", "A last pair without 0x02 is accepted."),
        ("empty_key_and_value_dropped", b"\x01v\x02k\x01\x02\x02k2\x01v2\x02", "Empty key, empty value and empty segments are dropped."),
        ("value_keeps_later_separators", b"a\x01b\x01c\x02", "Value is everything after the first 0x01."),
        ("value_is_separator", b"k\x01\x01\x02", "A value made of one 0x01 byte is still a value."),
        ("unicode", "标签\x01值\x02é\x01😀\x02".encode(), "UTF-8 keys and values are opaque bytes."),
        ("duplicate_key_last_wins", b"K\x01one\x02K\x01two\x02", "Both pairs are returned; a lookup sees the last."),
        ("only_separators", b"\x02\x02\x01\x02\x01\x01\x02", "Nothing but separators."),
        ("no_separator_at_all", b"abc", "A lone segment without 0x01."),
        ("one_byte_segments", b"a\x02\x01\x02b", "Segments shorter than 3 bytes."),
    ]
    lines = ["# Properties strings (reference 6.1): Java string2messageProperties results. Generated by make_vectors.py.", ""]
    for name, s, about in cases:
        lines.append("[props %s]" % name)
        lines.append("about = %s" % q(about.encode()))
        lines.append("input = %s" % q(s))
        pairs = []
        index, n = 0, len(s)
        while index < n:  # Java's algorithm, transcribed over bytes
            new = s.find(b"\x02", index)
            if new < 0:
                new = n
            if new - index >= 3:
                kv = s.find(b"\x01", index)
                if index < kv < new - 1:
                    pairs.append((s[index:kv], s[kv + 1:new]))
            index = new + 1
        lines.append("count = %d" % len(pairs))
        for k, v in pairs:
            lines.append("pair = %s %s" % (q(k), q(v)))
        last = {}
        for k, v in pairs:
            last[k] = v
        for k in sorted(last):
            lines.append("get = %s %s" % (q(k), q(last[k])))
        lines.append("")
    return "\n".join(lines)


def batch_vec():
    msgs = [
        (0, b"first", b"UNIQ_KEY\x01C0A8000B1F9C18B4AAC2A70000000000\x02TAGS\x01a\x02"),
        (5, b"", b"UNIQ_KEY\x01C0A8000B1F9C18B4AAC2A70000000001\x02"),
        (-2, "third \u00e9".encode(), b""),
    ]
    body = b""
    for flag, b, p in msgs:
        body += struct.pack(">iiiii", 22 + len(b) + len(p), 0, 0, flag, len(b)) + b + struct.pack(">h", len(p)) + p
    lines = ["# SEND_BATCH_MESSAGE body (reference 5.7). Generated by make_vectors.py.", "",
             "[batch three_messages]",
             "about = %s" % q(b"Three entries: tags, empty body, empty properties."),
             "hex = " + hexlines(body)]
    for flag, b, p in msgs:
        lines.append("entry = %d %s %s" % (flag, q(b), q(p)))
    lines.append("")
    return "\n".join(lines)


def msgid_vec():
    lines = ["# Offset message ids (reference 6.5). Generated by make_vectors.py.", ""]
    good = [
        ("reference_example", "192.168.0.10:10911", 8000),
        ("worked_record", "10.0.0.1:10911", 0),
        ("large_offset", "255.255.255.255:65535", 0x7FFFFFFFFFFFFFFF),
        ("ipv6", "[2001:db8::1]:10911", 123456789),
    ]
    for name, hp, off in good:
        ip, port = hp.rsplit(":", 1)
        lines.append("[msgid %s]" % name)
        lines.append("text = %s" % msgid(hp, off))
        lines.append("ip = %s" % ipaddress.ip_address(ip.strip("[]")).packed.hex())
        lines.append("port = %s" % port)
        lines.append("offset = %d" % off)
        lines.append("")
    lines.append("[msgid lowercase_accepted]")
    lines.append("text = c0a8000a00002a9f0000000000001f40")
    lines.append("ip = c0a8000a")
    lines.append("port = 10911")
    lines.append("offset = 8000")
    lines.append("")
    for name, text in [("too_short", "C0A8000A00002A9F0000000000001F4"), ("between_lengths", "C0A8000A00002A9F0000000000001F40AB"),
                       ("not_hex", "C0A8000A00002A9F00000000000G1F40"), ("empty", "")]:
        lines.append("[bad_msgid %s]" % name)
        lines.append("text = %s" % q(text.encode()))
        lines.append("")
    return "\n".join(lines)


def hash_vec():
    tags = [b"A", b"TagA", b"", "标签".encode(), "é".encode(), "😀".encode(), b"a" * 40,
            b"\xff", b"a\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xed\xa0", b"\xed\xa0A", b"\xed\x9f\xbf",
            b"\xe0\x80\x80", b"\xf4\x90\x80\x80x", b"\xf0\x9f\x98", b"\xf0\x9fA", b"\xe2\x82\xac\xe2\x82"]
    lines = ["# Java String.hashCode over UTF-16 units of UTF-8 text (reference 6.7, 7.4). Generated by make_vectors.py.",
             "# Invalid UTF-8 decodes with one U+FFFD per maximal invalid subsequence.", ""]
    for i, t in enumerate(tags):
        lines.append("[tag_hash t%d]" % i)
        lines.append("input = %s" % q(t))
        lines.append("hash = %d" % java_hash(t))
        lines.append("")
    idx = [(b"TopicTest", b"k1"), (b"TopicTest", b"C0A8000B1F9C18B4AAC2A7B5D1D20000"), (b"T", "键".encode())]
    # A key whose hash is Integer.MIN_VALUE: the store maps abs() of it to 0.
    topic = b"TopicTest"
    for i in range(100000):
        prefix = b"k%08x" % ((i * 2654435761) & 0xFFFFFFFF)  # spread the hashes
        hp = java_hash(topic + b"#" + prefix) & 0xFFFFFFFF
        r = (0x80000000 - hp * 29791) % (1 << 32)
        c1 = r // 961 - 2  # leave room so c2 and c3 stay printable
        rem = r - 961 * c1
        c2 = rem // 31 - 1
        c3 = rem - 31 * c2
        if 0x20 <= c1 <= 0xD7FF and 0x20 <= c2 <= 0xD7FF and 0x20 <= c3 <= 0xD7FF:
            key = prefix + (chr(c1) + chr(c2) + chr(c3)).encode()
            assert java_hash(topic + b"#" + key) == -(1 << 31)
            idx.append((topic, key))
            break
    else:
        raise SystemExit("no MIN_VALUE key found")
    for i, (t, k) in enumerate(idx):
        lines.append("[index_hash i%d]" % i)
        lines.append("topic = %s" % q(t))
        lines.append("key = %s" % q(k))
        lines.append("raw = %d" % java_hash(t + b"#" + k))
        lines.append("hash = %d" % index_hash(t, k))
        lines.append("")
    return "\n".join(lines)


def uniq_vec():
    ip, pid, rnd = bytes([192, 168, 0, 11]), 0x1F9C, bytes.fromhex("18B4AAC2")

    def month_start(ms):
        d = datetime.fromtimestamp(ms // 1000, timezone.utc)
        return int(datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp()) * 1000

    steps = [1700000000000, 1700000000001, 1701388800005, 1701388799000]
    lines = ["# UNIQ_KEY generation (reference 6.5) in time zone UTC. Generated by make_vectors.py.", "",
             "[uniq utc_month_rollover]",
             "about = %s" % q(b"Same ms twice, then into December, then the clock steps back 1 s (diff clamps to 0)."),
             "ip = %s" % ip.hex(), "pid = %d" % pid, "rnd = %s" % rnd.hex()]
    start, nxt = None, None
    for counter, now in enumerate(steps):
        if start is None or now >= nxt:
            start = month_start(now)
            d = datetime.fromtimestamp(start // 1000, timezone.utc)
            nd = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=timezone.utc)
            nxt = int(nd.timestamp()) * 1000
        diff = s32(now - start)
        if -1000000 < diff < 0:
            diff = 0
        text = (ip + struct.pack(">H", pid) + rnd + struct.pack(">iH", diff, counter & 0xFFFF)).hex().upper()
        lines.append("id = %d %s" % (now, text))
    lines.append("")
    return "\n".join(lines)


def main():
    files = {
        "records.vec": records_vec(),
        "properties.vec": props_vec(),
        "batch.vec": batch_vec(),
        "msgid.vec": msgid_vec(),
        "hashes.vec": hash_vec(),
        "uniq.vec": uniq_vec(),
    }
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


if __name__ == "__main__":
    main()
