/* Field-level tests of the generated body codecs (gen/bodies.h): what the name
 * server, broker and clients read out of real bodies, what they write when
 * building one from scratch, the compressed REGISTER_BROKER form, and the
 * limits that keep hostile bodies bounded. */
#include "gen/bodies.h"
#include "tern_test.h"

#include <stdlib.h>
#include <zlib.h>

static tern_arena_t arena;

static void arena_new(size_t limit) { tern_arena_init(&arena, limit, NULL, 0); }

static const char *text(tern_buf_t *b) {
  tern_buf_put_u8(b, '\0');
  b->len--;
  return (const char *)b->p;
}

TEST(route_legacy_fields_and_standard_reencode) {
  const char *legacy =
      "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"192.168.0.10:10911\",1:\"192.168.0.11:10911\"},\"brokerName\":\"broker-a\","
      "\"cluster\":\"DefaultCluster\"}],\"filterServerTable\":{},\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":6,"
      "\"readQueueNums\":4,\"topicSysFlag\":0,\"writeQueueNums\":4}]}";
  tern_body_topic_route_data_t r;
  tern_err_t e;
  tern_buf_t b;
  arena_new(0);
  ASSERT_OK(tern_body_topic_route_data_decode(tern_str_from_cstr(legacy), &arena, &r, &e));
  ASSERT_EQ(r.broker_datas.n, 1);
  ASSERT_STR(r.broker_datas.v[0].broker_name, "broker-a");
  ASSERT_STR(r.broker_datas.v[0].cluster, "DefaultCluster");
  ASSERT_EQ(r.broker_datas.v[0].broker_addrs.n, 2);
  ASSERT_EQ(r.broker_datas.v[0].broker_addrs.v[1].key, 1);
  ASSERT_STR(r.broker_datas.v[0].broker_addrs.v[1].val, "192.168.0.11:10911");
  ASSERT_EQ(r.queue_datas.n, 1);
  ASSERT_EQ(r.queue_datas.v[0].perm, 6);
  ASSERT_EQ(r.queue_datas.v[0].write_queue_nums, 4);
  ASSERT(!(r.has & TERN_BODY_TOPIC_ROUTE_DATA_HAS_ORDER_TOPIC_CONF));
  tern_buf_init(&b, 0);
  tern_body_topic_route_data_encode(&r, &b, 0);
  ASSERT(strstr(text(&b), "{\"0\":\"192.168.0.10:10911\",\"1\":\"192.168.0.11:10911\"}") != NULL);
  tern_buf_free(&b);
  tern_arena_free(&arena);
}

/* The name server builds routes from its tables: only the fields it sets
 * (plus Java's always-present ones) are written, in fastjson's order. */
TEST(route_built_from_scratch) {
  tern_body_broker_data_t bd;
  tern_body_map_i64_str_entry_t addrs[1] = {{0, TERN_STR("10.0.0.1:10911")}};
  tern_body_queue_data_t qd;
  tern_body_topic_route_data_t r;
  tern_buf_t b;
  memset(&bd, 0, sizeof bd);
  memset(&qd, 0, sizeof qd);
  memset(&r, 0, sizeof r);
  bd.broker_addrs.v = addrs;
  bd.broker_addrs.n = 1;
  bd.broker_name = TERN_STR("b1");
  bd.cluster = TERN_STR("c1");
  bd.has = TERN_BODY_BROKER_DATA_HAS_BROKER_NAME | TERN_BODY_BROKER_DATA_HAS_CLUSTER;
  qd.broker_name = TERN_STR("b1");
  qd.perm = 6;
  qd.read_queue_nums = qd.write_queue_nums = 8;
  qd.has = TERN_BODY_QUEUE_DATA_HAS_BROKER_NAME;
  r.broker_datas.v = &bd;
  r.broker_datas.n = 1;
  r.queue_datas.v = &qd;
  r.queue_datas.n = 1;
  tern_buf_init(&b, 0);
  tern_body_topic_route_data_encode(&r, &b, TERN_JSON_LEGACY_KEYS);
  ASSERT_STREQ(text(&b),
               "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"10.0.0.1:10911\"},\"brokerName\":\"b1\",\"cluster\":\"c1\"}],"
               "\"filterServerTable\":{},\"queueDatas\":[{\"brokerName\":\"b1\",\"perm\":6,\"readQueueNums\":8,"
               "\"topicSysFlag\":0,\"writeQueueNums\":8}]}");
  tern_buf_free(&b);
}

TEST(heartbeat_cpp_ordinals_and_string_subversion) {
  const char *cpp =
      "{\"clientID\":\"10.0.0.6@12345\",\"consumerDataSet\":[{\"consumeFromWhere\":5,\"consumeType\":0,\"groupName\":\"cg\","
      "\"messageModel\":0,\"subscriptionDataSet\":[{\"codeSet\":[65,66],\"subString\":\"A||B\",\"subVersion\":\"1700000000123\","
      "\"tagsSet\":[\"A\",\"B\"],\"topic\":\"T\"}]}],\"producerDataSet\":[]}\n";
  tern_body_heartbeat_data_t h;
  tern_body_subscription_data_t *s;
  tern_err_t e;
  arena_new(0);
  ASSERT_OK(tern_body_heartbeat_data_decode(tern_str_from_cstr(cpp), &arena, &h, &e));
  ASSERT_STR(h.client_id, "10.0.0.6@12345");
  ASSERT_EQ(h.consumer_data_set.n, 1);
  ASSERT_EQ(h.consumer_data_set.v[0].consume_from_where, TERN_BODY_CONSUME_FROM_WHERE_CONSUME_FROM_TIMESTAMP);
  ASSERT_EQ(h.consumer_data_set.v[0].consume_type, TERN_BODY_CONSUME_TYPE_CONSUME_ACTIVELY);
  ASSERT_EQ(h.consumer_data_set.v[0].message_model, TERN_BODY_MESSAGE_MODEL_BROADCASTING);
  s = &h.consumer_data_set.v[0].subscription_data_set.v[0];
  ASSERT_EQ(s->sub_version, 1700000000123LL);
  ASSERT_EQ(s->code_set.n, 2);
  ASSERT_EQ(s->code_set.v[1], 66);
  ASSERT_STR(s->tags_set.v[1], "B");
  ASSERT(!(s->has & TERN_BODY_SUBSCRIPTION_DATA_HAS_EXPRESSION_TYPE));
  ASSERT_EQ(h.producer_data_set.n, 0);
  tern_arena_free(&arena);
}

TEST(object_keys_in_consume_stats) {
  const char *j = "{\"consumeTps\":2.5,\"offsetTable\":{{\"brokerName\":\"b\",\"queueId\":3,\"topic\":\"t\"}:"
                  "{\"brokerOffset\":10,\"consumerOffset\":7,\"lastTimestamp\":99}}}";
  tern_body_consume_stats_t cs;
  tern_err_t e;
  arena_new(0);
  ASSERT_OK(tern_body_consume_stats_decode(tern_str_from_cstr(j), &arena, &cs, &e));
  ASSERT(cs.consume_tps == 2.5);
  ASSERT_EQ(cs.offset_table.n, 1);
  ASSERT_STR(cs.offset_table.v[0].key.topic, "t");
  ASSERT_EQ(cs.offset_table.v[0].key.queue_id, 3);
  ASSERT_EQ(cs.offset_table.v[0].val.consumer_offset, 7);
  /* A string key where a MessageQueue is due. */
  ASSERT_EQ(tern_body_consume_stats_decode(TERN_STR("{\"offsetTable\":{\"x\":{}}}"), &arena, &cs, &e), TERN_EPROTO);
  ASSERT_STREQ(e.field, "ConsumeStats.offsetTable");
  tern_arena_free(&arena);
}

TEST(consumer_offsets_file) {
  const char *j = "{\n\t\"offsetTable\":{\n\t\t\"TopicTest@cg\":{0:42,1:17,2:0,3:9\n\t\t}\n\t}\n}";
  tern_body_consumer_offset_serialize_wrapper_t w;
  tern_err_t e;
  arena_new(0);
  ASSERT_OK(tern_body_consumer_offset_serialize_wrapper_decode(tern_str_from_cstr(j), &arena, &w, &e));
  ASSERT_EQ(w.offset_table.n, 1);
  ASSERT_STR(w.offset_table.v[0].key, "TopicTest@cg");
  ASSERT_EQ(w.offset_table.v[0].val.n, 4);
  ASSERT_EQ(w.offset_table.v[0].val.v[1].key, 1);
  ASSERT_EQ(w.offset_table.v[0].val.v[1].val, 17);
  tern_arena_free(&arena);
}

TEST(null_escaped_keys_and_defaults) {
  tern_body_subscription_group_config_t g;
  tern_body_heartbeat_data_t h;
  tern_err_t e;
  arena_new(0);
  /* null means absent (Java null); escaped key names still match. */
  ASSERT_OK(tern_body_subscription_group_config_decode(
      TERN_STR("{\"group\\u004eame\":\"g\",\"retryMaxTimes\":null,\"unknown\":{\"x\":[1]}}"), &arena, &g, &e));
  ASSERT_STR(g.group_name, "g");
  ASSERT_EQ(g.retry_max_times, 16);
  ASSERT(g.consume_enable);
  ASSERT(!(g.has & TERN_BODY_SUBSCRIPTION_GROUP_CONFIG_HAS_RETRY_MAX_TIMES));
  ASSERT_EQ(tern_body_heartbeat_data_decode(TERN_STR("{\"clientID\":null}"), &arena, &h, &e), TERN_EMISSING);
  ASSERT_STREQ(e.field, "HeartbeatData.clientID");
  /* Not an object at all. */
  ASSERT_EQ(tern_body_heartbeat_data_decode(TERN_STR("[]"), &arena, &h, &e), TERN_EPROTO);
  ASSERT_EQ(tern_body_heartbeat_data_decode(TERN_STR("{\"clientID\":\"\xff\"}"), &arena, &h, &e), TERN_EUTF8);
  tern_arena_free(&arena);
}

TEST(map_duplicates_found_in_large_maps) {
  tern_buf_t b;
  tern_body_kv_table_t t;
  tern_err_t e;
  tern_buf_init(&b, 0);
  arena_new(0);
  tern_buf_append_cstr(&b, "{\"table\":{");
  for (int i = 0; i < 100; i++) tern_buf_printf(&b, "%s\"k%d\":\"v\"", i ? "," : "", i);
  tern_buf_append_cstr(&b, "}}");
  ASSERT_OK(tern_body_kv_table_decode((tern_str_t){(const char *)b.p, b.len}, &arena, &t, &e));
  ASSERT_EQ(t.table.n, 100);
  ASSERT_STR(t.table.v[99].key, "k99");
  b.len -= 2;
  tern_buf_append_cstr(&b, ",\"k\\u0037\":\"again\"}}"); /* "k7", escaped */
  ASSERT_EQ(tern_body_kv_table_decode((tern_str_t){(const char *)b.p, b.len}, &arena, &t, &e), TERN_EDUP);
  ASSERT_STREQ(e.field, "KVTable.table");
  tern_buf_free(&b);
  tern_arena_free(&arena);
}

TEST(arena_limit_bounds_decoding) {
  tern_buf_t b;
  tern_body_topic_list_t t;
  tern_err_t e;
  int rc;
  tern_buf_init(&b, 0);
  tern_buf_append_cstr(&b, "{\"topicList\":[");
  for (int i = 0; i < 20000; i++) tern_buf_printf(&b, "%s\"topic-%d\"", i ? "," : "", i);
  tern_buf_append_cstr(&b, "]}");
  arena_new(64 << 10);
  rc = tern_body_topic_list_decode((tern_str_t){(const char *)b.p, b.len}, &arena, &t, &e);
  ASSERT_EQ(rc, TERN_ENOMEM);
  ASSERT(arena.used <= 64 << 10);
  tern_arena_free(&arena);
  arena_new(4 << 20);
  ASSERT_OK(tern_body_topic_list_decode((tern_str_t){(const char *)b.p, b.len}, &arena, &t, &e));
  ASSERT_EQ(t.topic_list.n, 20000);
  ASSERT_STR(t.topic_list.v[19999], "topic-19999");
  tern_arena_free(&arena);
  tern_buf_free(&b);
}

/* ---- compressed REGISTER_BROKER ---- */

static void put_piece(tern_buf_t *raw, const char *s) {
  tern_buf_put_be32(raw, (uint32_t)strlen(s));
  tern_buf_append_cstr(raw, s);
}

static void deflate_buf(const tern_buf_t *raw, tern_buf_t *out) {
  uLongf n = compressBound(raw->len);
  tern_buf_reserve(out, n);
  compress2(out->p, &n, raw->p, raw->len, 9);
  out->len = n;
}

/* Built by hand from the documented layout, independently of our encoder. */
TEST(register_compressed_decodes_java_layout) {
  tern_buf_t raw, z;
  tern_body_register_broker_body_t rb;
  tern_body_topic_config_t *tc;
  tern_err_t e;
  tern_buf_init(&raw, 0);
  tern_buf_init(&z, 0);
  put_piece(&raw, "{\"counter\":3,\"timestamp\":1700000000000}");
  tern_buf_put_be32(&raw, 2);
  put_piece(&raw, "TopicTest 4 4 6 SINGLE_TAG");
  put_piece(&raw, "%RETRY%cg 1 1 6 MULTI_TAG {\"+message.type\":\"NORMAL\"}");
  put_piece(&raw, "[\"10.0.0.1:40000\"]");
  tern_buf_put_be32(&raw, 0); /* 5.x mapping count: ignored */
  deflate_buf(&raw, &z);
  arena_new(0);
  ASSERT_OK(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 0, &arena, &rb, &e));
  ASSERT_EQ(rb.topic_config_serialize_wrapper.data_version.counter, 3);
  ASSERT_EQ(rb.topic_config_serialize_wrapper.data_version.timestamp, 1700000000000LL);
  ASSERT_EQ(rb.topic_config_serialize_wrapper.topic_config_table.n, 2);
  tc = &rb.topic_config_serialize_wrapper.topic_config_table.v[1].val;
  ASSERT_STR(rb.topic_config_serialize_wrapper.topic_config_table.v[1].key, "%RETRY%cg");
  ASSERT_EQ(tc->read_queue_nums, 1);
  ASSERT_EQ(tc->perm, 6);
  ASSERT_EQ(tc->topic_filter_type, TERN_BODY_TOPIC_FILTER_TYPE_MULTI_TAG);
  ASSERT_EQ(tc->attributes.n, 1);
  ASSERT_STR(tc->attributes.v[0].val, "NORMAL");
  ASSERT_EQ(rb.filter_server_list.n, 1);
  ASSERT_STR(rb.filter_server_list.v[0], "10.0.0.1:40000");
  /* Over the inflate limit. */
  ASSERT_EQ(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 32, &arena, &rb, &e),
            TERN_ETOOBIG);
  /* Truncated stream, corrupt stream. */
  ASSERT_EQ(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len / 2}, 0, &arena, &rb, &e),
            TERN_EPROTO);
  ASSERT_EQ(tern_body_register_broker_body_decode_compressed(TERN_STR("not zlib at all"), 0, &arena, &rb, &e), TERN_ECORRUPT);
  tern_arena_free(&arena);
  tern_buf_free(&raw);
  tern_buf_free(&z);
}

TEST(register_compressed_rejects_bad_content) {
  static const struct { const char *dv; uint32_t count; const char *line; const char *reason; } cases[] = {
      {"{\"counter\":1,\"timestamp\":2}", 1000000, "T 1 1 6 SINGLE_TAG", "topic count exceeds the body"},
      {"{\"counter\":1,\"timestamp\":2}", 1, "T 1 x 6 SINGLE_TAG", "bad topic config line"},
      {"{\"counter\":1,\"timestamp\":2}", 1, "T 1 1 6 SOME_TAG", "unknown topic filter type"},
      {"{\"counter\":1,\"timestamp\":2}", 1, "T 1 1", "bad topic config line"},
      {"{\"counter\":1,\"timestamp\":2}", 1, "T\xff 1 1 6 SINGLE_TAG", "topic name is not printable ASCII"},
  };
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    tern_buf_t raw, z;
    tern_body_register_broker_body_t rb;
    tern_err_t e = {0};
    tern_buf_init(&raw, 0);
    tern_buf_init(&z, 0);
    put_piece(&raw, cases[i].dv);
    tern_buf_put_be32(&raw, cases[i].count);
    put_piece(&raw, cases[i].line);
    put_piece(&raw, "[]");
    deflate_buf(&raw, &z);
    arena_new(0);
    ASSERT_EQ(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 0, &arena, &rb, &e),
              TERN_EPROTO);
    ASSERT_STREQ(e.reason, cases[i].reason);
    tern_arena_free(&arena);
    tern_buf_free(&raw);
    tern_buf_free(&z);
  }
  {
    /* A piece length past the end. */
    tern_buf_t raw, z;
    tern_body_register_broker_body_t rb;
    tern_err_t e;
    tern_buf_init(&raw, 0);
    tern_buf_init(&z, 0);
    tern_buf_put_be32(&raw, 0x7fffffff);
    tern_buf_append_cstr(&raw, "{}");
    deflate_buf(&raw, &z);
    arena_new(0);
    ASSERT_EQ(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 0, &arena, &rb, &e),
              TERN_EPROTO);
    tern_arena_free(&arena);
    tern_buf_free(&raw);
    tern_buf_free(&z);
  }
}

TEST(register_compressed_roundtrip) {
  const char *j = "{\"filterServerList\":[],\"topicConfigSerializeWrapper\":{\"dataVersion\":{\"counter\":3,"
                  "\"timestamp\":1700000000000},\"topicConfigTable\":{\"A\":{\"order\":false,\"perm\":6,\"readQueueNums\":4,"
                  "\"topicFilterType\":\"SINGLE_TAG\",\"topicName\":\"A\",\"topicSysFlag\":0,\"writeQueueNums\":4},"
                  "\"B\":{\"order\":false,\"perm\":2,\"readQueueNums\":1,\"topicFilterType\":\"MULTI_TAG\",\"topicName\":\"B\","
                  "\"topicSysFlag\":0,\"writeQueueNums\":2}}}}";
  tern_body_register_broker_body_t rb, back;
  tern_err_t e;
  tern_buf_t z, out;
  arena_new(0);
  ASSERT_OK(tern_body_register_broker_body_decode(tern_str_from_cstr(j), &arena, &rb, &e));
  for (int v5 = 0; v5 <= 1; v5++) {
    tern_buf_init(&z, 0);
    tern_buf_init(&out, 0);
    ASSERT_OK(tern_body_register_broker_body_encode_compressed(&rb, v5, &z));
    ASSERT_OK(tern_body_register_broker_body_decode_compressed((tern_str_t){(const char *)z.p, z.len}, 0, &arena, &back, &e));
    tern_body_register_broker_body_encode(&back, &out, 0);
    if (v5) {
      ASSERT(strstr(text(&out), "\"attributes\":{}") != NULL);
    } else {
      ASSERT_STREQ(text(&out), j); /* topicSysFlag/order are 0/false here, so nothing is lost */
    }
    tern_buf_free(&z);
    tern_buf_free(&out);
  }
  tern_arena_free(&arena);
}

TEST(every_codec_rejects_non_objects) {
  static const char *bad[] = {"", "[]", "1", "\"x\"", "null", "{", "{\"a\":}", "{\"a\":1,}"};
  for (size_t i = 0; i < TERN_BODY_CODEC_COUNT; i++) {
    const tern_body_codec_t *c = &tern_body_codecs[i];
    void *obj;
    arena_new(0);
    obj = tern_arena_calloc(&arena, 1, c->size);
    for (size_t k = 0; k < TERN_ARRAY_SIZE(bad); k++) {
      tern_err_t e = {0};
      int rc = c->decode(tern_str_from_cstr(bad[k]), &arena, obj, &e);
      if (rc != TERN_EPROTO || !e.reason) {
        fprintf(stderr, "  %s accepted %s (rc %d)\n", c->name, bad[k], rc);
        tern_test_failed = 1;
      }
    }
    ASSERT(tern_body_codec_find(c->name) == c);
    tern_arena_free(&arena);
  }
  ASSERT(tern_body_codec_find("NoSuchBody") == NULL);
}
