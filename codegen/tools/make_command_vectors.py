#!/usr/bin/env python3
"""Writes spec/vectors/command/*.json: golden RemotingCommand frames.

Each vector is built from protocol facts (reference sections 1 and 2) by the
small encoders below, and the two worked examples of section 2.5a are checked
against the reference's bytes before anything is written, so the encoders
here are anchored to the document rather than to Tern's C code.
It also seeds the fuzz corpora from the same frames: fuzz/corpus/frame/ (a
piece-size byte, then the frame twice), fuzz/corpus/header_json/ and
fuzz/corpus/header_rocketmq/ (the header bytes alone).
Run: python3 codegen/tools/make_command_vectors.py   (standard library only)
"""
import collections
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "spec", "vectors", "command")
LANG = {"JAVA": 0, "CPP": 1, "GO": 9}


def frame(stype, header, body=b""):
    return struct.pack(">II", 4 + len(header) + len(body), (stype << 24) | len(header)) + header + body


def bin_header(code, lang, version, opaque, flag, remark, ext):
    """RocketMQSerializable layout; ext is a list of (key, value) pairs written in order."""
    r = remark.encode() if remark else b""
    e = b""
    for k, v in ext:
        kb, vb = k.encode(), (v or "").encode()
        e += struct.pack(">h", len(kb)) + kb + struct.pack(">i", len(vb)) + vb
    return (struct.pack(">hbhii", code, lang, version, opaque, flag) + struct.pack(">i", len(r)) + r
            + struct.pack(">i", len(e)) + e)


def fastjson_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20:
            raise ValueError("keep other control characters out of roundtrip vectors")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def fastjson_header(code, language, version, opaque, flag, remark, ext):
    """What Java's fastjson writes: sorted keys, no spaces, nulls omitted, ext values strings."""
    parts = ['"code":%d' % code]
    if ext:
        items = ",".join("%s:%s" % (fastjson_str(k), fastjson_str(v)) for k, v in sorted(ext))
        parts.append('"extFields":{%s}' % items)
    parts.append('"flag":%d' % flag)
    parts.append('"language":%s' % fastjson_str(language))
    parts.append('"opaque":%d' % opaque)
    if remark is not None:
        parts.append('"remark":%s' % fastjson_str(remark))
    parts.append('"serializeTypeCurrentRPC":"JSON"')
    parts.append('"version":%d' % version)
    return ("{" + ",".join(parts) + "}").encode()


def vector(name, about, section, data, decoded, roundtrip):
    doc = collections.OrderedDict()
    doc["about"] = about
    doc["spec_section"] = section
    doc["hex"] = data.hex()
    doc["decoded"] = decoded
    doc["roundtrip"] = roundtrip
    return name, doc


def dec(code, language, language_name, version, opaque, flag, remark, ext, body=b""):
    d = collections.OrderedDict()
    d["code"] = code
    d["language"] = language
    d["language_name"] = language_name
    d["version"] = version
    d["opaque"] = opaque
    d["flag"] = flag
    d["remark"] = remark
    d["extFields"] = [[k, v] for k, v in ext]
    d["body_hex"] = body.hex()
    return d


def build():
    vs = []
    # Section 2.5a, both forms, byte-exact with the reference (its "45-byte frame" is the length
    # field's value; the frame with its 4-byte prefix is 49 bytes).
    route_ext = [("topic", "TopicTest")]
    j = fastjson_header(105, "JAVA", 409, 7, 0, None, route_ext)
    ref_json = (b'{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,'
                b'"serializeTypeCurrentRPC":"JSON","version":409}')
    assert j == ref_json and len(j) == 131, "JSON worked example drifted from the reference"
    f = frame(0, j)
    assert f[:8] == bytes.fromhex("0000008700000083") and len(f) == 139
    vs.append(vector("route_request_json", "GET_ROUTEINFO_BY_TOPIC for TopicTest from a Java 4.9.8 client, JSON header.",
                     "2.5a", f, dec(105, 0, "JAVA", 409, 7, 0, None, route_ext), True))
    b = frame(1, bin_header(105, 0, 409, 7, 0, None, route_ext))
    ref_bin = bytes.fromhex("0000002d01000029006900019900000007000000000000000000000014"
                            "0005746f7069630000000954 6f70696354657374".replace(" ", ""))
    assert b == ref_bin and len(b) == 49, "binary worked example drifted from the reference"
    vs.append(vector("route_request_rocketmq", "GET_ROUTEINFO_BY_TOPIC for TopicTest, ROCKETMQ binary header.",
                     "2.5a", b, dec(105, 0, "", 409, 7, 0, None, route_ext), True))

    # A response with a remark (TOPIC_NOT_EXIST from the name server), both forms.
    remark = ("No topic route info in name server for the topic: TopicTest\n"
              "See http://rocketmq.apache.org/docs/faq/ for further details.")
    vs.append(vector("response_remark_json", "TOPIC_NOT_EXIST response with the name server's remark (a newline inside), JSON.",
                     "2.3, 5.2", frame(0, fastjson_header(17, "JAVA", 409, 7, 1, remark, [])),
                     dec(17, 0, "JAVA", 409, 7, 1, remark, []), True))
    vs.append(vector("response_remark_rocketmq", "TOPIC_NOT_EXIST response with a remark, ROCKETMQ binary header.",
                     "2.4, 5.2", frame(1, bin_header(17, 0, 409, 7, 1, remark, [])),
                     dec(17, 0, "", 409, 7, 1, remark, []), True))

    # The C++ client: jsoncpp writes sorted keys, "remark":"", numbers in extFields,
    # AccessKey/Signature/OnsChannel always, and a trailing newline.
    props = "KEYS\u0001k1\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002"
    body = b"Hello RocketMQ"
    cpp_ext = [("AccessKey", ""), ("OnsChannel", "ALIYUN"), ("Signature", ""), ("a", "PG"), ("b", "TopicTest"),
               ("c", "TBW102"), ("d", 4), ("e", 2), ("f", 0), ("g", "1690000000000"), ("h", 0), ("i", props),
               ("j", "0"), ("k", "false"), ("l", 0), ("m", "false")]
    text = ('{"code":310,"extFields":{%s},"flag":0,"language":"CPP","opaque":11,"remark":"","version":333}\n'
            % ",".join("%s:%s" % (json.dumps(k), json.dumps(v)) for k, v in cpp_ext))
    vs.append(vector("cpp_send_v2_json", "SEND_MESSAGE_V2 as rocketmq-client-cpp sends it: JSON numbers in extFields, "
                     "\"remark\":\"\", empty ACL keys, \\u0001/\\u0002 escapes, trailing newline. Decoding turns the "
                     "numbers into their text, so it does not re-encode to the same bytes.",
                     "2.3, 12, 14", frame(0, text.encode(), body),
                     dec(310, 1, "CPP", 333, 11, 0, "", [(k, str(v)) for k, v in cpp_ext], body), False))

    # ali-ons: JSON.stringify of a JS object (insertion order), numbers and booleans as values.
    al = collections.OrderedDict([("code", 310), ("language", "JAVA"), ("opaque", 3), ("flag", 0), ("version", 121),
                                  ("extFields", collections.OrderedDict([
                                      ("a", "GID_test"), ("b", "TopicTest"), ("c", "TBW102"), ("d", 4), ("e", 1),
                                      ("f", 0), ("g", 1690000000000), ("h", 0), ("i", "TAGS\u0001TagA\u0002"),
                                      ("j", 0), ("k", False), ("l", 0), ("m", False)]))])
    text = json.dumps(al, separators=(",", ":"), ensure_ascii=False)
    vs.append(vector("alions_send_v2_json", "SEND_MESSAGE_V2 as ali-ons sends it: keys in insertion order, JSON numbers "
                     "and booleans as extFields values (stored as \"4\", \"false\"...), no remark.",
                     "2.3, 12, 14", frame(0, text.encode(), b"x"),
                     dec(310, 0, "JAVA", 121, 3, 0, None,
                         [(k, ("false" if v is False else str(v))) for k, v in al["extFields"].items()], b"x"), False))

    # Java ROCKETMQ header under an ACL hook: fast-coded V2 keys, then the whole map again.
    fast = [("a", "PG"), ("b", "TopicTest"), ("c", "TBW102"), ("d", "4"), ("e", "0"), ("f", "0"),
            ("g", "1690000000000"), ("h", "0"), ("i", "TAGS\u0001TagA\u0002"), ("j", "0"), ("k", "false"), ("m", "false")]
    again = [("AccessKey", "rocketmq2"), ("Signature", "sig="), ("a", "PG"), ("b", "TopicTest"), ("d", "4")]
    dup = fast + again
    vs.append(vector("dup_keys_rocketmq", "SEND_MESSAGE_V2 with a ROCKETMQ header whose keys repeat (FastCodesHeader "
                     "written, then extFields again): accepted, the last value of a key wins.",
                     "2.4", frame(1, bin_header(310, 0, 409, 21, 0, None, dup), b"body"),
                     dec(310, 0, "", 409, 21, 0, None, dup, b"body"), False))

    # Zero lengths read as null (Java readStr), so an empty remark/value does not come back.
    vs.append(vector("null_values_rocketmq", "ROCKETMQ header with an empty remark and an empty value: Java reads "
                     "both as null, so the value is absent and the re-encoded header drops it.",
                     "2.4", frame(1, bin_header(0, 0, 409, 9, 1, None, [("msgId", "AC1100"), ("queueId", "")])),
                     dec(0, 0, "", 409, 9, 1, None, [("msgId", "AC1100"), ("queueId", None)]), False))

    # A request with a body (HEART_BEAT, HeartbeatData JSON), both forms.
    hb = (b'{"clientID":"10.0.0.1@1234","consumerDataSet":[],"producerDataSet":'
          b'[{"groupName":"PG"},{"groupName":"CLIENT_INNER_PRODUCER"}]}')
    vs.append(vector("heartbeat_body_json", "HEART_BEAT request carrying a HeartbeatData body, JSON header.",
                     "1.2, 5.10", frame(0, fastjson_header(34, "JAVA", 409, 100, 0, None, []), hb),
                     dec(34, 0, "JAVA", 409, 100, 0, None, [], hb), True))
    vs.append(vector("heartbeat_body_rocketmq", "HEART_BEAT request carrying a body, ROCKETMQ header.",
                     "1.2, 2.4", frame(1, bin_header(34, 0, 409, 100, 0, None, []), hb),
                     dec(34, 0, "", 409, 100, 0, None, [], hb), True))

    # Oneway request (flag bit 1): UPDATE_CONSUMER_OFFSET from a Java client.
    uo = [("commitOffset", "1024"), ("consumerGroup", "CG"), ("queueId", "3"), ("topic", "TopicTest")]
    vs.append(vector("oneway_update_offset_json", "UPDATE_CONSUMER_OFFSET sent oneway (flag 2), JSON header.",
                     "1.4, 5.9", frame(0, fastjson_header(15, "JAVA", 409, 42, 2, None, uo)),
                     dec(15, 0, "JAVA", 409, 42, 2, None, uo), True))
    vs.append(vector("oneway_update_offset_rocketmq", "UPDATE_CONSUMER_OFFSET sent oneway (flag 2), ROCKETMQ header.",
                     "1.4, 2.4", frame(1, bin_header(15, 0, 409, 42, 2, None, uo)),
                     dec(15, 0, "", 409, 42, 2, None, uo), True))

    # A 5.x POP code only fits a JSON header (code > 32767); Go client's language.
    pop = [("consumerGroup", "CG"), ("invisibleTime", "60000"), ("maxMsgNums", "32"), ("queueId", "-1"),
           ("topic", "TopicTest")]
    vs.append(vector("pop_request_json", "POP_MESSAGE (200050), a code only JSON headers can carry; language GO.",
                     "2.4, 5.17", frame(0, fastjson_header(200050, "GO", 479, 1, 0, None, pop)),
                     dec(200050, 9, "GO", 479, 1, 0, None, pop), True))

    # Response from a broker with remark and ext (send result), non-ASCII in a value.
    sr = [("MSG_REGION", "DefaultRegion"), ("TRACE_ON", "true"), ("msgId", "0A00000100002A9F0000000000000000"),
          ("queueId", "1"), ("queueOffset", "0"), ("region", "杭州")]
    vs.append(vector("send_response_json", "SEND_MESSAGE response with remark and extFields (a UTF-8 value), JSON.",
                     "2.3, 15", frame(0, fastjson_header(0, "JAVA", 409, 11, 1, "", sr)),
                     dec(0, 0, "JAVA", 409, 11, 1, "", sr), True))
    return vs


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    vectors = build()
    corpus = os.path.join(ROOT, "fuzz", "corpus")
    for i, (name, doc) in enumerate(vectors):
        with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8", newline="\n") as f:
            json.dump(doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
        data = bytes.fromhex(doc["hex"])
        hlen = struct.unpack(">I", data[4:8])[0] & 0xFFFFFF
        write_bytes(os.path.join(corpus, "frame", name), bytes([i * 5 % 64]) + data + data)
        kind = "header_json" if data[4] == 0 else "header_rocketmq"
        write_bytes(os.path.join(corpus, kind, name), data[8:8 + hlen])
    print("wrote %d vectors to %s and seeded fuzz/corpus" % (len(vectors), os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
