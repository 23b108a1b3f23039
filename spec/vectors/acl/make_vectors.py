#!/usr/bin/env python3
"""Golden vectors for ACL 1.0 request signing (reference section 10.2), computed
independently of Tern with Python's hmac/hashlib/base64, the way 4.9's
AclClientRPCHook signs: every extFields entry except Signature, sorted by key
(TreeMap; ASCII keys so byte order), values concatenated as UTF-8, then the raw
body; Base64(HmacSHA1(UTF-8(secretKey), content)). Run once at test-writing
time; the output (acl_sign.json) is committed and read by the C tests."""
import base64, hashlib, hmac, json

def sign(secret, ext, body):
    content = "".join(v for k, v in sorted(ext.items()) if k != "Signature").encode() + body
    return content, base64.b64encode(hmac.new(secret.encode(), content, hashlib.sha1).digest()).decode()

cases = []
# SEND_MESSAGE_V2 (code 310) as DefaultMQProducer sends it: SendMessageRequestHeaderV2 fields a..m, then
# AclClientRPCHook adds AccessKey.
ext = {"a": "ProducerGroupA", "b": "TopicA", "c": "TBW102", "d": "4", "e": "1", "f": "0",
       "g": "1700000000123", "h": "0", "i": "UNIQ_KEY\x01C0A8000100002A9F0000000000000000\x02WAIT\x01true\x02TAGS\x01TagA\x02",
       "j": "0", "k": "false", "m": "false", "AccessKey": "RocketMQ"}
body = "Hello RocketMQ ACL".encode()
cases.append(dict(name="send_v2", code=310, secret_key="12345678", ext=ext, body_hex=body.hex()))
# PULL_MESSAGE (code 11) with SecurityToken and no body.
ext = {"consumerGroup": "GroupA", "topic": "TopicA", "queueId": "2", "queueOffset": "100", "maxMsgNums": "32",
       "sysFlag": "2", "commitOffset": "0", "suspendTimeoutMillis": "15000", "subVersion": "1700000000000",
       "subscription": "*", "expressionType": "TAG", "AccessKey": "RocketMQ", "SecurityToken": "tok-\u00e9t\u00e9"}
cases.append(dict(name="pull_token", code=11, secret_key="12345678", ext=ext, body_hex=""))
# HEART_BEAT (code 34): no custom header, only AccessKey, JSON body.
ext = {"AccessKey": "rocketmq2"}
body = b'{"clientID":"127.0.0.1@1234","consumerDataSet":[],"producerDataSet":[{"groupName":"P"}]}'
cases.append(dict(name="heartbeat", code=34, secret_key="secret-\u00fc-key", ext=ext, body_hex=body.hex()))
for c in cases:
    content, sig = sign(c["secret_key"], c["ext"], bytes.fromhex(c["body_hex"]))
    c["content_hex"] = content.hex()
    c["signature"] = sig
with open("acl_sign.json", "w") as f:
    json.dump({"about": "ACL 1.0 signatures, see make_vectors.py", "cases": cases}, f, indent=1, ensure_ascii=True)
    f.write("\n")
