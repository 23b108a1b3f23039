/* Tests of the generated custom-header codecs (gen/headers.h): for every header
 * type an encode -> decode round trip, a missing required key reported by name,
 * malformed and out-of-range numbers reported by name; plus the Java rules a
 * server relies on (last duplicate wins, defaults, booleans, enum names), the
 * V2 <-> V1 send header conversion and the descriptor table. */
#include "gen/headers.h"
#include "tern_test.h"

#include <stdlib.h>

/* Writes a deterministic value of field f (variant v) into struct h. */
static void fill_field(void *h, const tern_hdr_field_info_t *f, unsigned v, char (*text)[32]) {
  uint8_t *p = (uint8_t *)h + f->offset;
  switch (f->type) {
  case TERN_HDR_T_STRING: {
    int n = snprintf(*text, sizeof *text, "%s-%u", f->key, v);
    tern_str_t s = {*text, (size_t)n};
    memcpy(p, &s, sizeof s);
    break;
  }
  case TERN_HDR_T_INT32: {
    static const int32_t vals[] = {0, 1, -1, INT32_MAX, INT32_MIN, 4, 15000};
    int32_t x = vals[v % TERN_ARRAY_SIZE(vals)];
    memcpy(p, &x, sizeof x);
    break;
  }
  case TERN_HDR_T_INT64: {
    static const int64_t vals[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1700000000000LL, 2147483648LL};
    int64_t x = vals[v % TERN_ARRAY_SIZE(vals)];
    memcpy(p, &x, sizeof x);
    break;
  }
  case TERN_HDR_T_BOOL: {
    bool x = (v & 1) != 0;
    memcpy(p, &x, sizeof x);
    break;
  }
  case TERN_HDR_T_ENUM: {
    int32_t x = (int32_t)(v % f->n_enum);
    memcpy(p, &x, sizeof x);
    break;
  }
  }
  *(uint32_t *)h |= f->bit;
}

/* Compares field f of a and b; returns 1 when equal. */
static int field_eq(const void *a, const void *b, const tern_hdr_field_info_t *f) {
  const uint8_t *pa = (const uint8_t *)a + f->offset, *pb = (const uint8_t *)b + f->offset;
  switch (f->type) {
  case TERN_HDR_T_STRING: {
    tern_str_t sa, sb;
    memcpy(&sa, pa, sizeof sa);
    memcpy(&sb, pb, sizeof sb);
    return tern_str_eq(sa, sb);
  }
  case TERN_HDR_T_INT32:
  case TERN_HDR_T_ENUM:
    return memcmp(pa, pb, 4) == 0;
  case TERN_HDR_T_INT64:
    return memcmp(pa, pb, 8) == 0;
  case TERN_HDR_T_BOOL:
    return *(const bool *)pa == *(const bool *)pb;
  }
  return 0;
}

/* Encodes a header with every field set (variant v) into cmd. */
static int encode_full(const tern_hdr_info_t *hi, unsigned v, void *h, tern_cmd_t *cmd, tern_arena_t *a,
                       char (*text)[32]) {
  memset(h, 0, hi->size);
  memset(cmd, 0, sizeof *cmd);
  for (uint32_t i = 0; i < hi->n_fields; i++) fill_field(h, &hi->fields[i], v + i, &text[i]);
  return hi->encode(h, cmd, a);
}

static void drop_key(tern_cmd_t *cmd, const char *key) {
  uint32_t o = 0;
  for (uint32_t i = 0; i < cmd->n_ext; i++)
    if (!tern_str_eq_cstr(cmd->ext[i].key, key)) cmd->ext[o++] = cmd->ext[i];
  cmd->n_ext = o;
}

static tern_str_t *find_val(tern_cmd_t *cmd, const char *key) {
  for (uint32_t i = 0; i < cmd->n_ext; i++)
    if (tern_str_eq_cstr(cmd->ext[i].key, key)) return &cmd->ext[i].val;
  return NULL;
}

#define HMAX 1024 /* bytes; every generated struct is smaller */
static tern_cmd_t g_cmd;

TEST(every_header_round_trips) {
  ASSERT_EQ(TERN_HDR_COUNT > 60, 1);
  for (size_t k = 0; k < TERN_HDR_COUNT; k++) {
    const tern_hdr_info_t *hi = &tern_hdr_infos[k];
    ASSERT(hi->size <= HMAX);
    for (unsigned v = 0; v < 7; v++) {
      _Alignas(16) uint8_t in[HMAX], out[HMAX];
      char text[32][32];
      tern_arena_t a;
      tern_arena_init(&a, 0, NULL, 0);
      int r = encode_full(hi, v, in, &g_cmd, &a, text);
      if (r != 0) {
        tern_arena_free(&a);
        TERN__FAIL("%s: encode returned %d", hi->java, r);
      }
      if (g_cmd.n_ext != hi->n_fields) {
        tern_arena_free(&a);
        TERN__FAIL("%s: %u ext entries for %u fields", hi->java, g_cmd.n_ext, hi->n_fields);
      }
      tern_err_t err = {0};
      memset(out, 0xAB, sizeof out);
      r = hi->decode(&g_cmd, out, &err);
      int bad = -1;
      if (r == 0 && *(uint32_t *)out == *(uint32_t *)in)
        for (uint32_t i = 0; i < hi->n_fields && bad < 0; i++)
          if (!field_eq(in, out, &hi->fields[i])) bad = (int)i;
      tern_arena_free(&a);
      if (r != 0) TERN__FAIL("%s: decode returned %d (%s)", hi->java, r, err.reason);
      ASSERT_EQ(*(uint32_t *)out, *(uint32_t *)in);
      if (bad >= 0) TERN__FAIL("%s.%s differs after the round trip", hi->java, hi->fields[bad].key);
    }
  }
}

TEST(missing_required_field_is_named) {
  int checked = 0;
  for (size_t k = 0; k < TERN_HDR_COUNT; k++) {
    const tern_hdr_info_t *hi = &tern_hdr_infos[k];
    for (uint32_t i = 0; i < hi->n_fields; i++) {
      const tern_hdr_field_info_t *f = &hi->fields[i];
      if (!f->required) continue;
      _Alignas(16) uint8_t in[HMAX], out[HMAX];
      char text[32][32], reason[300];
      tern_arena_t a;
      tern_arena_init(&a, 0, NULL, 0);
      ASSERT_OK(encode_full(hi, 1, in, &g_cmd, &a, text));
      drop_key(&g_cmd, f->key);
      tern_err_t err = {0};
      int r = hi->decode(&g_cmd, out, &err);
      tern_arena_free(&a);
      if (r != TERN_EMISSING) TERN__FAIL("%s without %s: got %d", hi->java, f->key, r);
      ASSERT_STREQ(err.field, f->key);
      snprintf(reason, sizeof reason, "the custom field <%s> is null", f->key);
      ASSERT_STREQ(err.reason, reason);
      checked++;
    }
  }
  ASSERT(checked > 100);
}

TEST(bad_numbers_are_named) {
  static const char *const garbage[] = {"12x", "", " 1", "0x10", "1.5", "--1", "+"};
  int checked = 0;
  for (size_t k = 0; k < TERN_HDR_COUNT; k++) {
    const tern_hdr_info_t *hi = &tern_hdr_infos[k];
    for (uint32_t i = 0; i < hi->n_fields; i++) {
      const tern_hdr_field_info_t *f = &hi->fields[i];
      if (f->type != TERN_HDR_T_INT32 && f->type != TERN_HDR_T_INT64) continue;
      for (size_t g = 0; g <= TERN_ARRAY_SIZE(garbage); g++) {
        _Alignas(16) uint8_t in[HMAX], out[HMAX];
        char text[32][32];
        tern_arena_t a;
        tern_arena_init(&a, 0, NULL, 0);
        ASSERT_OK(encode_full(hi, 0, in, &g_cmd, &a, text));
        tern_str_t *val = find_val(&g_cmd, f->key);
        ASSERT(val != NULL);
        int want = TERN_EPROTO;
        if (g < TERN_ARRAY_SIZE(garbage)) {
          *val = tern_str_from_cstr(garbage[g]);
        } else { /* one past the type's range */
          *val = f->type == TERN_HDR_T_INT32 ? TERN_STR("2147483648") : TERN_STR("-9223372036854775809");
          want = TERN_ERANGE;
        }
        tern_err_t err = {0};
        int r = hi->decode(&g_cmd, out, &err);
        tern_arena_free(&a);
        if (r != want) TERN__FAIL("%s.%s = \"%.*s\": got %d, want %d", hi->java, f->key, TERN_STR_ARG(*val), r, want);
        ASSERT_STREQ(err.field, f->key);
        ASSERT(err.reason != NULL && strstr(err.reason, f->key) != NULL);
        checked++;
      }
    }
  }
  ASSERT(checked > 100);
}

static void add(tern_cmd_t *c, const char *k, const char *v) {
  c->ext[c->n_ext].key = tern_str_from_cstr(k);
  c->ext[c->n_ext].val = v ? tern_str_from_cstr(v) : TERN_STR_NULL;
  c->n_ext++;
}

/* A ROCKETMQ-serialized Java request with an ACL hook repeats every fast-coded key;
 * the last value wins. Unknown keys (ACL, cpp's OnsChannel) are ignored. */
TEST(last_duplicate_wins_and_unknown_keys_are_ignored) {
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  add(c, "consumerGroup", "old");
  add(c, "topic", "T");
  add(c, "queueId", "1");
  add(c, "AccessKey", "");
  add(c, "Signature", "xyz");
  add(c, "OnsChannel", "ALIYUN");
  add(c, "queueId", "3");
  add(c, "consumerGroup", "cg");
  add(c, "topicX", "not the topic");
  tern_hdr_query_consumer_offset_request_t h;
  tern_err_t err = {0};
  ASSERT_OK(tern_hdr_query_consumer_offset_request_decode(c, &h, &err));
  ASSERT_STR(h.consumer_group, "cg");
  ASSERT_STR(h.topic, "T");
  ASSERT_EQ(h.queue_id, 3);
  ASSERT_EQ(h.present, TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_CONSUMER_GROUP |
                           TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_TOPIC |
                           TERN_HDR_QUERY_CONSUMER_OFFSET_REQUEST_HAS_QUEUE_ID);
  /* 5.x default: setZeroIfNotFound is true when absent. */
  ASSERT_EQ(h.set_zero_if_not_found, 1);
}

/* A NULL value is Java's null: a required key with one is missing. */
TEST(null_value_counts_as_missing) {
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  add(c, "topic", NULL);
  tern_hdr_get_route_info_request_t h;
  tern_err_t err = {0};
  ASSERT_EQ(tern_hdr_get_route_info_request_decode(c, &h, &err), TERN_EMISSING);
  ASSERT_STREQ(err.field, "topic");
  c->n_ext = 0;
  add(c, "topic", "");
  ASSERT_OK(tern_hdr_get_route_info_request_decode(c, &h, &err));
  ASSERT_EQ(h.topic.n, 0);
  ASSERT(h.present & TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_TOPIC);
}

/* Boolean.parseBoolean: only a case-insensitive "true" is true, anything else false. */
TEST(booleans_follow_parse_boolean) {
  static const struct { const char *text; bool want; } cases[] = {
      {"true", true}, {"TRUE", true}, {"True", true}, {"false", false}, {"1", false}, {"yes", false}, {"", false}};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    tern_cmd_t *c = &g_cmd;
    memset(c, 0, sizeof *c);
    add(c, "topic", "T");
    add(c, "acceptStandardJsonOnly", cases[i].text);
    tern_hdr_get_route_info_request_t h;
    ASSERT_OK(tern_hdr_get_route_info_request_decode(c, &h, NULL));
    ASSERT_EQ(h.accept_standard_json_only, cases[i].want);
    ASSERT(h.present & TERN_HDR_GET_ROUTE_INFO_REQUEST_HAS_ACCEPT_STANDARD_JSON_ONLY);
  }
}

/* Defaults the broker applies when a key is absent; the present bit stays clear. */
TEST(defaults_apply_when_absent) {
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  add(c, "topic", "T");
  add(c, "queueId", "0");
  tern_hdr_get_max_offset_request_t mo;
  ASSERT_OK(tern_hdr_get_max_offset_request_decode(c, &mo, NULL));
  ASSERT_EQ(mo.committed, 1);
  ASSERT_EQ(mo.present & TERN_HDR_GET_MAX_OFFSET_REQUEST_HAS_COMMITTED, 0);

  memset(c, 0, sizeof *c);
  add(c, "topic", "T");
  add(c, "defaultTopic", "TBW102");
  add(c, "readQueueNums", "8");
  add(c, "writeQueueNums", "8");
  add(c, "perm", "6");
  add(c, "topicFilterType", "SINGLE_TAG");
  /* cpp omits the Java-required `order`: accepted with the default false. */
  tern_hdr_create_topic_request_t ct;
  ASSERT_OK(tern_hdr_create_topic_request_decode(c, &ct, NULL));
  ASSERT_EQ(ct.order, 0);
  ASSERT_EQ(ct.present & TERN_HDR_CREATE_TOPIC_REQUEST_HAS_ORDER, 0);
  ASSERT_EQ(ct.read_queue_nums, 8);

  memset(c, 0, sizeof *c);
  add(c, "consumerGroup", "cg");
  add(c, "topic", "T");
  add(c, "queueId", "0");
  add(c, "queueOffset", "0");
  add(c, "maxMsgNums", "32");
  add(c, "sysFlag", "2");
  add(c, "commitOffset", "0");
  add(c, "suspendTimeoutMillis", "15000");
  add(c, "subVersion", "0");
  tern_hdr_pull_message_request_t pm;
  ASSERT_OK(tern_hdr_pull_message_request_decode(c, &pm, NULL));
  ASSERT_STR(pm.expression_type, "TAG");
  ASSERT_EQ(pm.present & TERN_HDR_PULL_MESSAGE_REQUEST_HAS_EXPRESSION_TYPE, 0);
  ASSERT_EQ(pm.sys_flag & TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND, TERN_HDR_PULL_MESSAGE_REQUEST_SYS_FLAG_SUSPEND);

  /* A 4.9 tool's GET_ALL_TOPIC_CONFIG has no header: not the 5.x paging form, not an error. */
  memset(c, 0, sizeof *c);
  tern_hdr_get_all_topic_config_request_t at;
  ASSERT_OK(tern_hdr_get_all_topic_config_request_decode(c, &at, NULL));
  ASSERT_EQ(at.present, 0);
  add(c, "topicSeq", "2");
  add(c, "maxTopicNum", "100");
  ASSERT_OK(tern_hdr_get_all_topic_config_request_decode(c, &at, NULL));
  ASSERT_EQ(at.topic_seq, 2);
  ASSERT(at.present & TERN_HDR_GET_ALL_TOPIC_CONFIG_REQUEST_HAS_TOPIC_SEQ);
}

/* BoundaryType.getType: "upper" in any case is UPPER, anything else LOWER; written as the enum name. */
TEST(enum_names_ignore_case_and_default) {
  static const struct { const char *text; int want; } cases[] = {
      {"UPPER", TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_UPPER},
      {"upper", TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_UPPER},
      {"Lower", TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_LOWER},
      {"middle", TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_LOWER},
      {NULL, TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_LOWER}};
  for (size_t i = 0; i < TERN_ARRAY_SIZE(cases); i++) {
    tern_cmd_t *c = &g_cmd;
    memset(c, 0, sizeof *c);
    add(c, "topic", "T");
    add(c, "queueId", "1");
    add(c, "timestamp", "1700000000000");
    if (cases[i].text) add(c, "boundaryType", cases[i].text);
    tern_hdr_search_offset_request_t h;
    ASSERT_OK(tern_hdr_search_offset_request_decode(c, &h, NULL));
    ASSERT_EQ(h.boundary_type, cases[i].want);
    ASSERT_EQ(h.timestamp, 1700000000000LL);
  }
  tern_hdr_search_offset_request_t h = {0};
  h.present = TERN_HDR_SEARCH_OFFSET_REQUEST_HAS_BOUNDARY_TYPE;
  h.boundary_type = TERN_HDR_SEARCH_OFFSET_REQUEST_BOUNDARY_TYPE_UPPER;
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  ASSERT_OK(tern_hdr_search_offset_request_encode(&h, c, NULL));
  ASSERT_EQ(c->n_ext, 1);
  ASSERT_STR(c->ext[0].val, "UPPER");
  h.boundary_type = 7; /* not a value */
  c->n_ext = 0;
  ASSERT_EQ(tern_hdr_search_offset_request_encode(&h, c, NULL), TERN_EINVAL);
}

/* Encoding writes Java's text: decimal numbers, "true"/"false", in spec order, only present fields. */
TEST(encode_writes_java_text_in_spec_order) {
  tern_hdr_pull_message_response_t h = {0};
  h.present = TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_SUGGEST_WHICH_BROKER_ID | TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_NEXT_BEGIN_OFFSET |
              TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MIN_OFFSET | TERN_HDR_PULL_MESSAGE_RESPONSE_HAS_MAX_OFFSET;
  h.next_begin_offset = 12;
  h.max_offset = 12;
  h.offset_delta = 99; /* not present: not written */
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  uint8_t block[256];
  tern_arena_t a;
  tern_arena_init(&a, sizeof block, block, sizeof block);
  ASSERT_OK(tern_hdr_pull_message_response_encode(&h, c, &a));
  ASSERT_EQ(c->n_ext, 4);
  ASSERT_STR(c->ext[0].key, "suggestWhichBrokerId");
  ASSERT_STR(c->ext[0].val, "0");
  ASSERT_STR(c->ext[1].key, "nextBeginOffset");
  ASSERT_STR(c->ext[1].val, "12");
  ASSERT_STR(c->ext[2].key, "minOffset");
  ASSERT_STR(c->ext[3].key, "maxOffset");
  ASSERT_STR(c->ext[3].val, "12");

  tern_hdr_query_data_version_response_t q = {TERN_HDR_QUERY_DATA_VERSION_RESPONSE_HAS_CHANGED, true};
  c->n_ext = 0;
  ASSERT_OK(tern_hdr_query_data_version_response_encode(&q, c, &a));
  ASSERT_STR(c->ext[0].key, "changed");
  ASSERT_STR(c->ext[0].val, "true");
  tern_arena_free(&a);
}

/* Encoders report a full ext list and a full scratch arena instead of writing past them. */
TEST(encode_reports_full_ext_list_and_arena) {
  tern_hdr_get_max_offset_response_t h = {TERN_HDR_GET_MAX_OFFSET_RESPONSE_HAS_OFFSET, 5};
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  uint8_t block[64];
  tern_arena_t a;
  tern_arena_init(&a, 16, block, 16); /* too small for a number */
  ASSERT_EQ(tern_hdr_get_max_offset_response_encode(&h, c, &a), TERN_ENOMEM);
  tern_arena_free(&a);
  tern_arena_init(&a, 0, block, sizeof block);
  c->n_ext = TERN_CMD_MAX_EXT;
  ASSERT_EQ(tern_hdr_get_max_offset_response_encode(&h, c, &a), TERN_ETOOBIG);
  tern_arena_free(&a);
}

/* The broker converts V2 to V1 field for field (n is V1's bname); and back. */
TEST(send_v2_converts_to_v1_and_back) {
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  add(c, "a", "pg");
  add(c, "b", "TopicTest");
  add(c, "c", "TBW102");
  add(c, "d", "4");
  add(c, "e", "2");
  add(c, "f", "0");
  add(c, "g", "1700000000123");
  add(c, "h", "0");
  add(c, "i", "UNIQ_KEY\001AC1\002WAIT\001true\002");
  add(c, "n", "broker-a");
  add(c, "bname", "ignored-by-the-conversion");
  tern_hdr_send_message_request_v2_t v2;
  tern_hdr_send_message_request_t v1;
  ASSERT_OK(tern_hdr_send_message_request_v2_decode(c, &v2, NULL));
  tern_hdr_send_message_request_v2_to_send_message_request(&v2, &v1);
  ASSERT_STR(v1.producer_group, "pg");
  ASSERT_STR(v1.topic, "TopicTest");
  ASSERT_STR(v1.default_topic, "TBW102");
  ASSERT_EQ(v1.default_topic_queue_nums, 4);
  ASSERT_EQ(v1.queue_id, 2);
  ASSERT_EQ(v1.born_timestamp, 1700000000123LL);
  ASSERT_STR(v1.properties, "UNIQ_KEY\001AC1\002WAIT\001true\002");
  ASSERT_STR(v1.bname, "broker-a");
  ASSERT(v1.present & TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BNAME);
  ASSERT_EQ(v1.present & (TERN_HDR_SEND_MESSAGE_REQUEST_HAS_RECONSUME_TIMES | TERN_HDR_SEND_MESSAGE_REQUEST_HAS_BATCH), 0);
  ASSERT_EQ(v1.reconsume_times, 0);
  ASSERT_EQ(v1.batch, 0);

  tern_hdr_send_message_request_v2_t back;
  tern_hdr_send_message_request_to_send_message_request_v2(&v1, &back);
  ASSERT_STR(back.broker_name, "broker-a");
  ASSERT_EQ(back.present & TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BNAME, 0);
  ASSERT_EQ(back.present, v2.present & ~TERN_HDR_SEND_MESSAGE_REQUEST_V2_HAS_BNAME);
  ASSERT_STR(back.properties, "UNIQ_KEY\001AC1\002WAIT\001true\002");
}

TEST(descriptor_lookup_by_java_name) {
  const tern_hdr_info_t *hi = tern_hdr_info_find(TERN_STR("SendMessageRequestHeaderV2"));
  ASSERT(hi != NULL);
  ASSERT_STREQ(hi->java, "SendMessageRequestHeaderV2");
  ASSERT_EQ(hi->size, sizeof(tern_hdr_send_message_request_v2_t));
  ASSERT_STREQ(hi->fields[0].key, "a");
  ASSERT(tern_hdr_info_find(TERN_STR("SendMessageRequestHeaderV")) == NULL);
  ASSERT(tern_hdr_info_find(TERN_STR("")) == NULL);
  for (size_t k = 0; k < TERN_HDR_COUNT; k++) {
    const tern_hdr_info_t *x = tern_hdr_info_find(tern_str_from_cstr(tern_hdr_infos[k].java));
    ASSERT(x == &tern_hdr_infos[k]);
    if (k) ASSERT(strcmp(tern_hdr_infos[k - 1].java, tern_hdr_infos[k].java) < 0);
  }
}

/* The SUCCESS reply of a 4.9.8 broker (reference 5.7): the header decodes and the extra
 * keys the Java client also reads are reachable by their generated names. */
TEST(send_reply_of_a_4_9_8_broker) {
  tern_cmd_t *c = &g_cmd;
  memset(c, 0, sizeof *c);
  add(c, "MSG_REGION", "DefaultRegion");
  add(c, "TRACE_ON", "true");
  add(c, "msgId", "0A00000100002A9F0000000000000000");
  add(c, "queueId", "0");
  add(c, "queueOffset", "0");
  tern_hdr_send_message_response_t h;
  tern_err_t err = {0};
  ASSERT_OK(tern_hdr_send_message_response_decode(c, &h, &err));
  ASSERT_STR(h.msg_id, "0A00000100002A9F0000000000000000");
  ASSERT_EQ(h.present & TERN_HDR_SEND_MESSAGE_RESPONSE_HAS_TRANSACTION_ID, 0);
  const tern_str_t *region = tern_cmd_ext_get(c, TERN_HDR_SEND_MESSAGE_RESPONSE_EXTRA_MSG_REGION);
  ASSERT(region != NULL);
  ASSERT_STR(*region, "DefaultRegion");
  const tern_str_t *trace = tern_cmd_ext_get(c, TERN_HDR_SEND_MESSAGE_RESPONSE_EXTRA_TRACE_ON);
  ASSERT(trace != NULL && tern_str_to_bool(*trace));
  /* Without queueId the Java client would hit a NullPointerException; we name the key. */
  c->n_ext = 4;
  ASSERT_EQ(tern_hdr_send_message_response_decode(c, &h, &err), TERN_EMISSING);
  ASSERT_STREQ(err.field, "queueOffset");
}
